package perf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Run executes one load run, printing progress to w, and returns its
// result. Errors of individual connections are collected in Result.Errors;
// an error return means the run could not start.
func Run(cfg Config, w io.Writer) (*Result, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := checkTLSClient(&cfg); err != nil {
		return nil, err
	}
	cl, err := newClient(cfg.Client)
	if err != nil {
		return nil, err
	}
	topo := BuildTopology(&cfg)
	setupNs := time.Now().UnixNano()
	adm, err := cl.Admin(&cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if err := setupTopology(adm, &cfg, &topo); err != nil {
		adm.Close()
		return nil, fmt.Errorf("setup: %w", err)
	}
	adm.Close()
	if w != nil {
		fmt.Fprintf(w, "warren-perf: %s\n", cfg.Summary())
	}
	res, err := execute(cl, &cfg, &topo, w, setupNs)
	if !cfg.KeepQueues {
		if adm, err2 := cl.Admin(&cfg); err2 == nil {
			if err2 = teardownTopology(adm, &cfg, &topo); err2 != nil && res != nil {
				res.Errors = append(res.Errors, "teardown: "+err2.Error())
			}
			adm.Close()
		}
	}
	return res, err
}

type errList struct {
	mu   sync.Mutex
	errs []string
}

func (e *errList) add(what string, err error) {
	if err == nil {
		return
	}
	e.mu.Lock()
	e.errs = append(e.errs, what+": "+err.Error())
	e.mu.Unlock()
}

func execute(cl client, cfg *Config, topo *Topology, w io.Writer, setupNs int64) (*Result, error) {
	st := newStats(cfg.Producers, cfg.Consumers, setupNs)
	var errs errList

	// Consumers first, so no message is published before they subscribe.
	consCtx, stopCons := context.WithCancel(context.Background())
	defer stopCons()
	var consWG sync.WaitGroup
	ready := make(chan struct{}, cfg.Consumers)
	failed := make(chan struct{}, cfg.Consumers)
	for i := 0; i < cfg.Consumers; i++ {
		cs := st.cons[i]
		consWG.Add(1)
		go func() {
			defer consWG.Done()
			err := cl.Consume(consCtx, cfg, topo.ConsumerQueue(i), fmt.Sprintf("perf-c%d", i),
				func() { ready <- struct{}{} }, cs.record)
			if err != nil {
				errs.add(fmt.Sprintf("consumer %d", i), err)
				failed <- struct{}{}
			}
		}()
	}
	timeout := time.After(dialTimeout)
	for n := 0; n < cfg.Consumers; n++ {
		select {
		case <-ready:
		case <-failed:
			stopCons()
			consWG.Wait()
			return nil, errors.New(errs.errs[0])
		case <-timeout:
			stopCons()
			consWG.Wait()
			return nil, errors.New("consumers did not start in time")
		}
	}

	// Producers connect before the clock starts.
	prods := make([]producer, cfg.Producers)
	for i := range prods {
		p, err := cl.Producer(cfg, topo.ProducerKeys(cfg, i))
		if err != nil {
			for _, q := range prods[:i] {
				q.Close()
			}
			stopCons()
			consWG.Wait()
			return nil, fmt.Errorf("producer %d: %w", i, err)
		}
		prods[i] = p
		st.prod[i].p.Store(&producerRef{p})
	}

	bw, err := newBrokerWatch(cfg.BrokerPID)
	if err != nil {
		errs.add("broker", err)
	}
	var sync0 float64
	syncOK := false
	if cfg.SyncURL != "" {
		sync0, syncOK = readSyncs(cfg.SyncURL)
	}
	self, _ := ReadProc(os.Getpid())
	machine0, _ := machineBusySeconds()
	start := time.Now()
	runCtx, stopRun := context.WithTimeout(context.Background(), cfg.Duration)
	defer stopRun()
	var scr *scraper
	scrDone := make(chan struct{})
	if cfg.ScrapeURL != "" {
		scr = &scraper{url: cfg.ScrapeURL, every: cfg.ScrapeEvery}
		go func() { defer close(scrDone); scr.run(runCtx) }()
	} else {
		close(scrDone)
	}
	progCtx, stopProg := context.WithCancel(context.Background())
	progDone := make(chan struct{})
	go func() {
		defer close(progDone)
		if cfg.Progress && w != nil {
			progress(progCtx, w, st, bw, start)
		}
	}()

	var prodWG sync.WaitGroup
	for i, p := range prods {
		limit := share(cfg.PMessages, cfg.Producers, i)
		if cfg.PMessages > 0 && limit == 0 {
			continue // fewer messages than producers
		}
		prodWG.Add(1)
		go func() {
			defer prodWG.Done()
			errs.add(fmt.Sprintf("producer %d", i), produce(runCtx, cfg, p, st.prod[i], limit, cfg.Rate/float64(cfg.Producers)))
		}()
	}
	prodWG.Wait()
	pubEnd := time.Now()
	if cfg.PMessages == 0 || cfg.Producers == 0 {
		<-runCtx.Done()
		pubEnd = time.Now()
	} else if cfg.Consumers > 0 {
		drain(runCtx, st, cfg.Drain)
	}
	end := time.Now()
	stopRun()
	stopProg()
	<-progDone
	<-scrDone
	// Rates, CPU and the machine's load are taken here, at the end of the
	// measured interval: closing hundreds of connections can take seconds
	// during which deliveries still arrive, and those must not raise the
	// rate (they are counted as late).
	published, confirmed, nacked, delivered := st.Totals()
	selfEnd, _ := ReadProc(os.Getpid())
	machine1, _ := machineBusySeconds()
	if bw != nil {
		bw.sample()
	}
	var syncs float64
	if syncOK {
		if s1, ok := readSyncs(cfg.SyncURL); ok {
			syncs = s1 - sync0
		}
	}
	var warns errList
	for i, p := range prods {
		// A broker that is flow-controlling the socket may not read the
		// close in time; that does not spoil the run.
		warns.add(fmt.Sprintf("producer %d close", i), p.Close())
	}
	stopCons()
	consWG.Wait()
	_, _, _, total := st.Totals()

	res := &Result{Name: cfg.Name, Client: cfg.Client, Summary: cfg.Summary(), Seconds: end.Sub(start).Seconds(),
		Published: published, Confirmed: confirmed, Nacked: nacked, Delivered: delivered, Late: total - delivered, Errors: errs.errs, Warnings: warns.errs}
	pubSecs := pubEnd.Sub(start).Seconds()
	res.PublishRate = rate(published, pubSecs)
	res.ConfirmRate = rate(confirmed, pubSecs)
	delSecs := end.Sub(start).Seconds()
	h := NewHist()
	var last int64
	for _, c := range st.cons {
		h.Merge(c.hist)
		last = max(last, c.lastNs)
		res.Stale += c.stale
	}
	if cfg.PMessages > 0 && last > start.UnixNano() {
		delSecs = float64(last-start.UnixNano()) / 1e9
	}
	res.DeliverRate = rate(delivered, delSecs)
	res.Connections = cfg.Producers + cfg.Consumers
	if syncs > 0 {
		res.Syncs = syncs
		n := confirmed
		if n == 0 {
			n = published
		}
		res.MsgsPerSync = float64(n) / syncs
	}
	if scr != nil {
		scr.fill(res)
	}
	if cfg.Queues > 1 && cfg.Consumers >= cfg.Queues {
		perQ := make([]int64, cfg.Queues)
		for i, c := range st.cons {
			perQ[i%cfg.Queues] += c.delivered.Load()
		}
		res.QueueMin, res.QueueMax = perQ[0], perQ[0]
		for _, n := range perQ {
			res.QueueMin, res.QueueMax = min(res.QueueMin, n), max(res.QueueMax, n)
		}
		if res.QueueMin > 0 {
			res.Fairness = float64(res.QueueMax) / float64(res.QueueMin)
		}
		if cfg.Type == "" && cfg.Producers >= cfg.Queues {
			// Producer i publishes to queue i mod N.
			pub := make([]int64, cfg.Queues)
			for i, p := range st.prod {
				pub[i%cfg.Queues] += p.published.Load()
			}
			lo, hi := pub[0], pub[0]
			for _, n := range pub {
				lo, hi = min(lo, n), max(hi, n)
			}
			if lo > 0 {
				res.PubFairness = float64(hi) / float64(lo)
			}
		}
	}
	res.ClientCPU = selfEnd.CPUSeconds - self.CPUSeconds
	if n := published + delivered; n > 0 {
		res.ClientUsMsg = res.ClientCPU * 1e6 / float64(n)
	}
	res.LatencyN = h.Count()
	res.P50Us, res.P99Us, res.P999Us = us(h.Quantile(0.5)), us(h.Quantile(0.99)), us(h.Quantile(0.999))
	res.MaxUs = us(h.Max())
	res.OtherCPU = machine1 - machine0 - res.ClientCPU
	if bw != nil {
		res.BrokerPID = bw.pid
		res.CPUSeconds = bw.last.CPUSeconds - bw.first.CPUSeconds
		per := delivered
		if per == 0 {
			per = published
		}
		if per > 0 {
			res.CPUUsPerMsg = res.CPUSeconds * 1e6 / float64(per)
		}
		res.OtherCPU -= res.CPUSeconds
		res.RSSMB = float64(bw.last.RSSBytes) / (1 << 20)
		res.RSSPeakMB = float64(bw.peakRSS) / (1 << 20)
	}
	return res, nil
}

// drain waits, after the producers finished, until deliveries stop for
// 500 ms, or for at most max beyond the run's deadline.
func drain(runCtx context.Context, st *Stats, maxWait time.Duration) {
	deadline, _ := runCtx.Deadline()
	hard := time.After(time.Until(deadline.Add(maxWait)))
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	_, _, _, prev := st.Totals()
	idleSince := time.Now()
	for {
		select {
		case <-hard:
			return
		case now := <-tick.C:
			_, _, _, d := st.Totals()
			if d != prev {
				prev, idleSince = d, now
			} else if now.Sub(idleSince) >= 500*time.Millisecond {
				return
			}
		}
	}
}

// share splits total over n producers (0 stays 0: no limit).
func share(total int64, n, i int) int64 {
	if total == 0 {
		return 0
	}
	s := total / int64(n)
	if int64(i) < total%int64(n) {
		s++
	}
	return s
}

func rate(n int64, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return float64(n) / secs
}

func us(ns int64) float64 { return float64(ns) / 1e3 }
