package perf

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Sustained-rate search. An unpaced publisher that offers ten times what a
// broker can take measures the broker in overload: its queue grows, credit
// flow blocks the publisher in bursts, and a broker whose delivery path
// slows down with a backlog (RabbitMQ's classic queue does) delivers less
// than it can sustain. Load tools that offer less (one write per publish)
// overload it less and get more. The comparison that depends on neither
// client is the highest paced rate the broker keeps up with.

// SearchTrial is the length of one paced trial.
var SearchTrial = 3 * time.Second

// sustained says whether a paced trial kept up: nearly everything offered
// was delivered within the trial, and latency stayed bounded (a growing
// queue's p99 grows with the trial's length).
func sustained(r *Result, rate float64) (bool, string) {
	switch {
	case len(r.Errors) > 0:
		return false, "error: " + r.Errors[0]
	case r.PublishRate < 0.95*rate:
		return false, fmt.Sprintf("published %.0f/s", r.PublishRate)
	case r.DeliverRate < 0.95*r.PublishRate:
		return false, fmt.Sprintf("delivered %.0f/s", r.DeliverRate)
	case r.P99Us > 250e3:
		return false, "p99 " + fmtUs(r.P99Us)
	}
	return true, ""
}

// SearchRate doubles a paced rate from 5k msg/s until a trial does not
// keep up, then bisects twice between the last good and the first bad
// rate. The result is the best sustained trial, its Search field the list
// of trials.
func SearchRate(cfg Config, w io.Writer) (*Result, error) {
	cfg.Duration = SearchTrial
	var best *Result
	var log []string
	try := func(rate float64) (bool, error) {
		c := cfg
		c.Rate = rate
		r, err := Run(c, w)
		if err != nil {
			return false, err
		}
		ok, why := sustained(r, rate)
		if ok {
			log = append(log, fmtShortRate(rate)+" ok")
			if best == nil || r.DeliverRate > best.DeliverRate {
				best = r
			}
		} else {
			log = append(log, fmtShortRate(rate)+" no ("+why+")")
		}
		return ok, nil
	}
	lo, hi := 0.0, 0.0
	for rate := 5000.0; rate <= 8e6; rate *= 2 {
		ok, err := try(rate)
		if err != nil {
			return nil, err
		}
		if !ok {
			hi = rate
			break
		}
		lo = rate
	}
	for i := 0; i < 2 && hi > 0 && lo > 0; i++ {
		mid := (lo + hi) / 2
		ok, err := try(mid)
		if err != nil {
			return nil, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	if best == nil {
		best = &Result{Client: cfg.Client, Summary: cfg.Summary(), Errors: []string{"no paced trial kept up, from 5k msg/s"}}
	}
	best.Search = strings.Join(log, ", ")
	return best, nil
}
