package mgmt

import (
	"context"
	"net/http"

	"github.com/warrenmq/warren/broker"
)

// What a user sees of the vhosts, as RabbitMQ's rabbit_mgmt_util: the
// monitoring and administrator tags see every vhost; a user with only
// management (or policymaker) sees the vhosts it has permissions in, and
// is refused the others with 401.

type principalKey struct{}

func withPrincipal(r *http.Request, p *broker.Principal) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), principalKey{}, p))
}

func principalOf(r *http.Request) *broker.Principal {
	p, _ := r.Context().Value(principalKey{}).(*broker.Principal)
	return p
}

// seesVHost says whether p may look into the vhost.
func (a *api) seesVHost(p *broker.Principal, vhost string) bool {
	return p == nil || seesAll(p) || a.b.Users().CanAccessVHost(p.User, vhost)
}

// visibleVHosts are the vhosts p may look into, by name.
func (a *api) visibleVHosts(p *broker.Principal) []*broker.VHost {
	all := a.b.VHostObjects()
	if p == nil || seesAll(p) {
		return all
	}
	out := all[:0]
	for _, v := range all {
		if a.b.Users().CanAccessVHost(p.User, v.Name) {
			out = append(out, v)
		}
	}
	return out
}
