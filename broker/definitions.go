package broker

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/warrenmq/warren/frame"
	"github.com/warrenmq/warren/router"
)

// definitions is the durable topology of one vhost, in the shape of
// RabbitMQ's definitions export so tools can read it.
type definitions struct {
	VHost string `json:"vhost"`
	// Format is the layout of snapshot and journal (definitionsFormat);
	// absent in files older than the journal. A reader refuses a format
	// newer than its own rather than drop what it cannot read.
	Format int `json:"warren_format,omitempty"`
	// Journal names the journal that continues this snapshot
	// (definitions.<n>.journal); absent in files older than the journal.
	Journal          uint64        `json:"warren_journal,omitempty"`
	Exchanges        []exchangeDef `json:"exchanges"`
	Queues           []queueDef    `json:"queues"`
	Bindings         []bindingDef  `json:"bindings"`
	Policies         []Policy      `json:"policies,omitempty"`
	OperatorPolicies []Policy      `json:"operator_policies,omitempty"`
}

// definitionsFormat is the format this version writes: 2 is a snapshot
// continued by a journal, with policies. Files without a format are 1
// (snapshot only) or a 2 written before the field existed; both read.
const definitionsFormat = 2

// entries is how many records the snapshot holds.
func (d *definitions) entries() int {
	return len(d.Exchanges) + len(d.Queues) + len(d.Bindings) + len(d.Policies) + len(d.OperatorPolicies)
}

type exchangeDef struct {
	Name       string      `json:"name"`
	Type       string      `json:"type"`
	Durable    bool        `json:"durable"`
	AutoDelete bool        `json:"auto_delete"`
	Internal   bool        `json:"internal"`
	Arguments  frame.Table `json:"arguments"`
}

type queueDef struct {
	Name       string      `json:"name"`
	Durable    bool        `json:"durable"`
	AutoDelete bool        `json:"auto_delete"`
	Arguments  frame.Table `json:"arguments"`
}

type bindingDef struct {
	Source          string      `json:"source"`
	Destination     string      `json:"destination"`
	DestinationType string      `json:"destination_type"`
	RoutingKey      string      `json:"routing_key"`
	Arguments       frame.Table `json:"arguments"`
}

const definitionsFile = "definitions.json"

func (v *VHost) snapshotLocked() definitions {
	d := definitions{VHost: v.Name, Format: definitionsFormat, Queues: make([]queueDef, 0, len(v.queues))}
	d.Policies = v.policies.list()
	d.OperatorPolicies = v.opPolicies.list()
	for _, x := range v.exchanges {
		if x.Durable && x.Name != "" && !isDefaultExchange(x.Name) {
			d.Exchanges = append(d.Exchanges, exchangeDef{x.Name, x.Type, x.Durable, x.AutoDelete, x.Internal, x.Args})
		}
	}
	for _, q := range v.queues {
		if q.Durable && !q.Exclusive {
			d.Queues = append(d.Queues, queueDef{q.Name, q.Durable, q.AutoDelete, q.Args})
		}
	}
	v.router.EachBinding(func(bi router.BindingInfo[*Queue]) {
		src, ok := v.exchanges[bi.Source]
		if !ok || !src.Durable {
			return
		}
		def := bindingDef{Source: bi.Source, RoutingKey: bi.Key, Arguments: bi.Args}
		if bi.DestKind == router.DestExchange {
			dst, ok := v.exchanges[bi.Exchange]
			if !ok || !dst.Durable {
				return
			}
			def.Destination, def.DestinationType = bi.Exchange, "exchange"
		} else {
			if !bi.Queue.Durable || bi.Queue.Exclusive {
				return
			}
			def.Destination, def.DestinationType = bi.Queue.Name, "queue"
		}
		d.Bindings = append(d.Bindings, def)
	})
	return d
}

func isDefaultExchange(name string) bool {
	for i := range defaultExchanges {
		if defaultExchanges[i].Name == name {
			return true
		}
	}
	return false
}

func writeDefinitions(dir string, d definitions) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp := filepath.Join(dir, definitionsFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if err = encodeDefinitions(f, d); err == nil { // defs_encode.go
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, definitionsFile)); err != nil {
		return err
	}
	df, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer df.Close()
	return df.Sync()
}

func (v *VHost) restore(d definitions) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.restoreDirs = v.listQueueDirs()
	defer func() { v.restoreDirs = nil }()
	// Policies first: queues and exchanges take their settings as created.
	if err := v.restorePoliciesLocked(d); err != nil {
		return err
	}
	for _, x := range d.Exchanges {
		k, err := exchangeKind(x.Type, fixTable(x.Arguments))
		if err != nil {
			return fmt.Errorf("definitions: exchange %q: %w", x.Name, err)
		}
		if err := v.router.AddExchange(x.Name, k); err != nil {
			return fmt.Errorf("definitions: exchange %q: %w", x.Name, err)
		}
		ex := &Exchange{Name: x.Name, Type: x.Type, Kind: k, Durable: true, AutoDelete: x.AutoDelete, Internal: x.Internal, Args: fixTable(x.Arguments)}
		ex.features = featuresFromArgs(k, ex.Args)
		if ex.ext, err = v.openExchangeExt(ex); err != nil {
			return fmt.Errorf("definitions: exchange %q: %w", x.Name, err)
		}
		v.exchanges[x.Name] = ex
		v.applyExchangePolicyLocked(ex)
	}
	v.sweepDelayedDirsLocked()
	for _, qd := range d.Queues {
		if _, err := v.createQueueLocked(QueueDeclareOptions{Name: qd.Name, Durable: true, AutoDelete: qd.AutoDelete, Args: fixTable(qd.Arguments)}); err != nil {
			return fmt.Errorf("definitions: queue %q: %w", qd.Name, err)
		}
	}
	for _, bd := range d.Bindings {
		var err error
		if bd.DestinationType == "exchange" {
			err = v.router.BindExchange(bd.Source, bd.Destination, bd.RoutingKey, fixTable(bd.Arguments))
		} else if q, ok := v.queues[bd.Destination]; ok {
			err = v.router.Bind(bd.Source, q, bd.RoutingKey, fixTable(bd.Arguments))
		}
		logErr("definitions: restore binding", err, "source", bd.Source, "destination", bd.Destination)
	}
	return nil
}

// fixTable turns JSON numbers back into integers where they are whole, so
// restored arguments compare equal to what clients send.
func fixTable(t frame.Table) frame.Table {
	for k, val := range t {
		switch x := val.(type) {
		case float64:
			if x == float64(int64(x)) {
				t[k] = int64(x)
			}
		case map[string]any:
			t[k] = fixTable(frame.Table(x))
		}
	}
	return t
}

// loadDefinitions recreates the vhost's durable topology, the snapshot
// with its journal replayed on top, reopens the durable queues' stores
// (which recover their messages) and opens the journal for new changes.
func (v *VHost) loadDefinitions() error {
	snapPath := filepath.Join(v.dir, definitionsFile)
	var d definitions
	data, err := os.ReadFile(snapPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("read definitions: %w", err)
	default:
		if err := json.Unmarshal(data, &d); err != nil {
			return fmt.Errorf("parse %s: %w", snapPath, err)
		}
	}
	if d.Format > definitionsFormat {
		return fmt.Errorf("%s is in definitions format %d, newer than this Warren's %d: refusing to start rather than lose what it cannot read (run the newer Warren)", snapPath, d.Format, definitionsFormat)
	}
	snapEntries := d.entries()
	st := newDefsState(d)
	size, records, err := readJournal(journalPath(v.dir, d.Journal), st.apply)
	if err != nil {
		return fmt.Errorf("definitions journal: %w", err)
	}
	removeStaleJournals(v.dir, d.Journal)
	if err := v.restore(st.definitions(v.Name)); err != nil {
		return err
	}
	j, err := openJournal(v.dir, d.Journal, size, records, snapEntries)
	if err != nil {
		return fmt.Errorf("definitions journal: %w", err)
	}
	logErr("write vhost label", writeVHostLabel(v.dir, v.Name), "vhost", v.Name)
	v.defs = j
	return nil
}

// closeDefinitionsLocked folds the journal into the snapshot and closes
// it, so that after an orderly stop definitions.json alone holds the whole
// topology: a Warren that reads only the snapshot (one older than the
// journal, or a tool) then loses nothing. After a crash the journal stays
// and a newer reader replays it. REQUIRES: v.mu held.
func (v *VHost) closeDefinitionsLocked() {
	if v.defs == nil {
		return
	}
	if v.defs.records > 0 || v.defs.broken.Load() {
		logErr("definitions: fold journal into snapshot at close", v.defs.compact(v.snapshotLocked()), "vhost", v.Name)
	}
	v.defs.close()
}

// removeStaleJournals deletes journals a finished compaction left behind.
func removeStaleJournals(dir string, keep uint64) {
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		var gen uint64
		if n, _ := fmt.Sscanf(e.Name(), "definitions.%d.journal", &gen); n == 1 && gen != keep {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	_ = os.Remove(filepath.Join(dir, definitionsFile+".tmp"))
}

// journalLocked records a change to v's durable topology. applied says
// whether memory already holds it (adds are applied first and undone if
// this fails; removals are recorded first and applied only if it
// succeeds). v.mu must be held. The Commit tells when it is durable.
func (v *VHost) journalLocked(c defsChange, applied bool) (Commit, error) {
	j := v.defs
	if j == nil { // restoring at start
		return Commit{}, nil
	}
	if j.compactDue() {
		if err := j.compact(v.snapshotLocked()); err != nil {
			return Commit{}, err
		}
		if applied {
			return Commit{}, nil // the snapshot holds it
		}
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return Commit{}, defsError(err)
	}
	return j.write(payload)
}

// pendingLocked is what a redeclare of an existing durable entity waits
// for: the change that created it may still be on its way to disk.
func (v *VHost) pendingLocked() Commit {
	if v.defs == nil {
		return Commit{}
	}
	return v.defs.tail()
}

func queueChange(op string, q *Queue) defsChange {
	if op == opQueueDelete {
		return defsChange{Op: op, Name: q.Name}
	}
	return defsChange{Op: op, Queue: &queueDef{q.Name, q.Durable, q.AutoDelete, q.Args}}
}

func exchangeChange(op string, x *Exchange) defsChange {
	if op == opExchangeDelete {
		return defsChange{Op: op, Name: x.Name}
	}
	return defsChange{Op: op, Exchange: &exchangeDef{x.Name, x.Type, x.Durable, x.AutoDelete, x.Internal, x.Args}}
}

func bindingChange(op string, b Binding, destType string) defsChange {
	return defsChange{Op: op, Binding: &bindingDef{Source: b.Source, Destination: b.Destination, DestinationType: destType, RoutingKey: b.Key, Arguments: b.Args}}
}

func policyChange(k PolicyKind, op string, p Policy) defsChange {
	if op == opPolicyDelete || op == opOperatorPolicyDelete {
		return defsChange{Op: op, Name: p.Name}
	}
	return defsChange{Op: op, Policy: &p}
}

func policySetOp(k PolicyKind) string {
	if k == OperatorPolicy {
		return opOperatorPolicySet
	}
	return opPolicySet
}

func policyDeleteOp(k PolicyKind) string {
	if k == OperatorPolicy {
		return opOperatorPolicyDelete
	}
	return opPolicyDelete
}

// restorePoliciesLocked loads the stored policies. One that no longer
// validates stops the start, naming it: skipping it would change what
// queues do without a word. REQUIRES: v.mu held.
func (v *VHost) restorePoliciesLocked(d definitions) error {
	for _, set := range []struct {
		k    PolicyKind
		list []Policy
	}{{UserPolicy, d.Policies}, {OperatorPolicy, d.OperatorPolicies}} {
		t := v.policyTableLocked(set.k)
		for _, p := range set.list {
			p.VHost = v.Name
			cp, err := compilePolicy(set.k, p)
			if err != nil {
				return fmt.Errorf("definitions: %s %q: %w", set.k, p.Name, err)
			}
			t[p.Name] = cp
		}
	}
	return nil
}

// storedQueue says whether q's existence is recorded in the definitions.
func storedQueue(q *Queue) bool { return q.Durable && !q.Exclusive }
