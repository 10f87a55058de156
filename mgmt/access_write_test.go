package mgmt

import (
	"net/http"
	"reflect"
	"testing"
)

// vhosts, users, permissions and topic permissions made and removed
// through the API, with RabbitMQ's statuses, and what a management user
// sees of the vhosts (runnable against RabbitMQ with WARREN_MGMT_URL).
func TestAccessWrites(t *testing.T) {
	tg := newTarget(t, nil)
	vh, user, user2 := "apiv-"+tg.id, "apiu-"+tg.id, "apiu2-"+tg.id
	t.Cleanup(func() {
		tg.guest(t, "DELETE", "/api/vhosts/"+vh, "")
		tg.guest(t, "DELETE", "/api/users/"+user, "")
		tg.guest(t, "DELETE", "/api/users/"+user2, "")
	})
	notFound := `{"error":"Object Not Found","reason":"Not Found"}`

	expect(t, "create vhost", tg.guest(t, "PUT", "/api/vhosts/"+vh, ""), http.StatusCreated, "")
	expect(t, "vhost again", tg.guest(t, "PUT", "/api/vhosts/"+vh, ""), http.StatusNoContent, "")
	creator := decodeJSON(t, "vhost permissions", tg.guest(t, "GET", "/api/vhosts/"+vh+"/permissions", "").body)
	if want := []any{map[string]any{"user": "guest", "vhost": vh, "configure": ".*", "write": ".*", "read": ".*"}}; !reflect.DeepEqual(creator, any(want)) {
		t.Errorf("creator's permissions %v, want %v", creator, want)
	}

	expect(t, "create user", tg.guest(t, "PUT", "/api/users/"+user, `{"password":"pw","tags":"management"}`), http.StatusCreated, "")
	expect(t, "update user", tg.guest(t, "PUT", "/api/users/"+user, `{"password":"pw","tags":["management","custom"]}`), http.StatusNoContent, "")
	if u := object(t, tg, "/api/users/"+user); !reflect.DeepEqual(u["tags"], []any{"management", "custom"}) {
		t.Errorf("user tags: %v", u)
	}
	guest := object(t, tg, "/api/users/guest")
	hashed := `{"password_hash":"` + guest["password_hash"].(string) + `","hashing_algorithm":"rabbit_password_hashing_sha256","tags":"monitoring"}`
	expect(t, "user from hash", tg.guest(t, "PUT", "/api/users/"+user2, hashed), http.StatusCreated, "")
	if got := tg.do(t, "GET", "/api/whoami", user2, "guest", "", ""); got.status != http.StatusOK {
		t.Errorf("user with guest's hash, password guest: %d %s", got.status, got.body)
	}

	perm := `{"configure":"^a","write":".*","read":".*"}`
	expect(t, "missing vhost", tg.guest(t, "PUT", "/api/permissions/no-such-"+tg.id+"/"+user, perm), http.StatusBadRequest, `{"error":"bad_request","reason":"vhost_or_user_not_found"}`)
	expect(t, "grant", tg.guest(t, "PUT", "/api/permissions/"+vh+"/"+user, perm), http.StatusCreated, "")
	expect(t, "grant again", tg.guest(t, "PUT", "/api/permissions/"+vh+"/"+user, perm), http.StatusNoContent, "")
	if p := object(t, tg, "/api/permissions/"+vh+"/"+user); !reflect.DeepEqual(p, map[string]any{"user": user, "vhost": vh, "configure": "^a", "write": ".*", "read": ".*"}) {
		t.Errorf("permission: %v", p)
	}
	topic := `{"exchange":"amq.topic","write":"^w","read":".*"}`
	expect(t, "topic grant", tg.guest(t, "PUT", "/api/topic-permissions/"+vh+"/"+user, topic), http.StatusCreated, "")
	tp := decodeJSON(t, "topic permissions", tg.guest(t, "GET", "/api/topic-permissions/"+vh+"/"+user, "").body)
	if want := []any{map[string]any{"user": user, "vhost": vh, "exchange": "amq.topic", "write": "^w", "read": ".*"}}; !reflect.DeepEqual(tp, any(want)) {
		t.Errorf("topic permissions %v, want %v", tp, want)
	}

	// A management user sees only the vhosts it has permissions in.
	var names []any
	for _, v := range decodeJSON(t, "vhosts as user", tg.do(t, "GET", "/api/vhosts", user, "pw", "", "").body).([]any) {
		names = append(names, v.(map[string]any)["name"])
	}
	if !reflect.DeepEqual(names, []any{vh}) {
		t.Errorf("vhosts a management user sees: %v, want [%s]", names, vh)
	}
	expect(t, "other vhost", tg.do(t, "GET", "/api/queues/%2F", user, "pw", "", ""), http.StatusUnauthorized, `{"error":"not_authorised","reason":"User not authorised to access virtual host"}`)
	if got := tg.do(t, "GET", "/api/queues/"+vh, user, "pw", "", ""); got.status != http.StatusOK {
		t.Errorf("own vhost's queues: %d %s", got.status, got.body)
	}
	expect(t, "untag", tg.guest(t, "PUT", "/api/users/"+user2, `{"password":"pw2","tags":""}`), http.StatusNoContent, "")
	expect(t, "user without management tag", tg.do(t, "GET", "/api/vhosts", user2, "pw2", "", ""), http.StatusUnauthorized, `{"error":"not_authorised","reason":"Not management user"}`)

	expect(t, "topic revoke", tg.guest(t, "DELETE", "/api/topic-permissions/"+vh+"/"+user, ""), http.StatusNoContent, "")
	expect(t, "topic revoke again", tg.guest(t, "DELETE", "/api/topic-permissions/"+vh+"/"+user, ""), http.StatusNotFound, notFound)
	expect(t, "revoke", tg.guest(t, "DELETE", "/api/permissions/"+vh+"/"+user, ""), http.StatusNoContent, "")
	expect(t, "revoke again", tg.guest(t, "DELETE", "/api/permissions/"+vh+"/"+user, ""), http.StatusNotFound, notFound)
	expect(t, "delete user", tg.guest(t, "DELETE", "/api/users/"+user, ""), http.StatusNoContent, "")
	expect(t, "delete user again", tg.guest(t, "DELETE", "/api/users/"+user, ""), http.StatusNotFound, notFound)
	expect(t, "delete vhost", tg.guest(t, "DELETE", "/api/vhosts/"+vh, ""), http.StatusNoContent, "")
	expect(t, "delete vhost again", tg.guest(t, "DELETE", "/api/vhosts/"+vh, ""), http.StatusNotFound, notFound)
}
