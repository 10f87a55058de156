package mgmt

import (
	"errors"
	"net"
	"net/http"

	"github.com/warrenmq/warren/broker"
)

// permission is what a resource asks of an authenticated user, as
// RabbitMQ's rabbit_mgmt_util:is_authorized_* do: a check on the user's
// tags and the reason a 401 gives when it fails.
type permission struct {
	allows func(p *broker.Principal) bool
	denied string
}

var (
	// permManagement: any user with a management tag (is_authorized).
	permManagement = permission{
		allows: func(*broker.Principal) bool { return true },
	}
	// permMonitor: monitoring and administrators (is_authorized_monitor).
	permMonitor = permission{
		allows: func(p *broker.Principal) bool { return p.HasTag("administrator") || p.HasTag("monitoring") },
		denied: "Not monitor user",
	}
	// permPolicies: administrators and policymakers (is_authorized_policies).
	permPolicies = permission{
		allows: func(p *broker.Principal) bool { return p.HasTag("administrator") || p.HasTag("policymaker") },
		denied: "User not authorised to access object",
	}
	// permAdmin: administrators only (is_authorized_admin).
	permAdmin = permission{
		allows: func(p *broker.Principal) bool { return p.HasTag("administrator") },
		denied: "Not administrator user",
	}
)

// managementTags are the tags that let a user use the management API at all.
var managementTags = []string{"management", "policymaker", "monitoring", "administrator"}

const authRealm = `Basic realm="RabbitMQ Management"`

// authenticated wraps h with HTTP basic authentication against the
// broker's users, in RabbitMQ's order of checks and with its answers: no
// credentials, 401 with a challenge and no body; wrong ones, 401
// not_authorized "Login failed" with a challenge; a loopback-only user from
// elsewhere, a user without a management tag or without perm, 401
// not_authorised with the reason.
func (a *api) authenticated(perm permission, h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok {
			w.Header().Set("WWW-Authenticate", authRealm)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		p, err := a.b.Users().Authenticate(user, pass, fromLoopback(r))
		a.b.AuthAttempts().Record(broker.AuthHTTP, remoteAddr(r), user, err == nil)
		switch {
		case errors.Is(err, broker.ErrLoopbackOnly):
			writeError(w, http.StatusUnauthorized, "not_authorised", "User can only log in via localhost")
			return
		case err != nil:
			w.Header().Set("WWW-Authenticate", authRealm)
			writeError(w, http.StatusUnauthorized, "not_authorized", "Login failed")
			return
		}
		if !hasAnyTag(p, managementTags) {
			writeError(w, http.StatusUnauthorized, "not_authorised", "Not management user")
			return
		}
		if !perm.allows(p) {
			writeError(w, http.StatusUnauthorized, "not_authorised", perm.denied)
			return
		}
		h(w, withPrincipal(r, p), p)
	})
}

func hasAnyTag(p *broker.Principal, tags []string) bool {
	for _, t := range tags {
		if p.HasTag(t) {
			return true
		}
	}
	return false
}

func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
