package broker

import (
	"fmt"
	"log/slog"
	"maps"
	"regexp"
)

// DefaultLimits is one of RabbitMQ's default_limits.vhosts.<id> (3.12+):
// a vhost created with a name Pattern matches starts with Limits. The
// first entry whose pattern matches applies, as in RabbitMQ; vhosts that
// exist already keep theirs.
type DefaultLimits struct {
	Pattern string // a regular expression searched in the name ("" is ".*")
	Limits  Limits // max-connections, max-queues; negative is no limit
}

// ValidateDefaultLimits checks the patterns and limit names.
func ValidateDefaultLimits(ds []DefaultLimits) error {
	for _, d := range ds {
		if _, err := regexp.Compile(d.Pattern); err != nil {
			return fmt.Errorf("broker: default limits pattern %q: %w", d.Pattern, err)
		}
		if err := validateLimits(d.Limits, vhostLimitNames, "vhost"); err != nil {
			return err
		}
	}
	return nil
}

// defaultLimitsFor is the limits a new vhost called name starts with; nil
// when no pattern matches.
func (b *Broker) defaultLimitsFor(name string) Limits {
	for _, d := range b.cfg.DefaultLimits {
		re, err := regexp.Compile(d.Pattern)
		if err != nil {
			continue // refused by ValidateDefaultLimits before Open
		}
		if re.MatchString(name) {
			return maps.Clone(d.Limits)
		}
	}
	return nil
}

// applyDefaultLimits gives a vhost just created its default limits; the
// caller stores them (saveAccess) with the vhost.
func (b *Broker) applyDefaultLimits(v *VHost) {
	if l := b.defaultLimitsFor(v.Name); len(l) > 0 {
		v.limits.Store(&vhostLimits{l})
		slog.Info("applied default limits to vhost", "vhost", v.Name, "limits", l)
	}
}
