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
	VHost     string        `json:"vhost"`
	Exchanges []exchangeDef `json:"exchanges"`
	Queues    []queueDef    `json:"queues"`
	Bindings  []bindingDef  `json:"bindings"`
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

// saveDefinitionsLocked writes v's durable topology atomically: temp file,
// fsync, rename, fsync of the directory. v.mu must be held.
func (b *Broker) saveDefinitionsLocked(v *VHost) {
	b.defsMu.Lock()
	defer b.defsMu.Unlock()
	logErr("save definitions", writeDefinitions(v.dir, v.snapshotLocked()), "vhost", v.Name)
}

func (v *VHost) snapshotLocked() definitions {
	d := definitions{VHost: v.Name}
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
	for _, bi := range v.router.Bindings() {
		src, ok := v.exchanges[bi.Source]
		if !ok || !src.Durable {
			continue
		}
		def := bindingDef{Source: bi.Source, RoutingKey: bi.Key, Arguments: bi.Args}
		if bi.DestKind == router.DestExchange {
			dst, ok := v.exchanges[bi.Exchange]
			if !ok || !dst.Durable {
				continue
			}
			def.Destination, def.DestinationType = bi.Exchange, "exchange"
		} else {
			if !bi.Queue.Durable || bi.Queue.Exclusive {
				continue
			}
			def.Destination, def.DestinationType = bi.Queue.Name, "queue"
		}
		d.Bindings = append(d.Bindings, def)
	}
	return d
}

func isDefaultExchange(name string) bool {
	for _, x := range defaultExchanges {
		if x.Name == name {
			return true
		}
	}
	return false
}

func writeDefinitions(dir string, d definitions) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, definitionsFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err = f.Write(data); err == nil {
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

// loadDefinitions recreates every vhost's durable topology and reopens the
// durable queues' stores, which recover their messages.
func (b *Broker) loadDefinitions() error {
	for _, v := range b.vhosts {
		data, err := os.ReadFile(filepath.Join(v.dir, definitionsFile))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read definitions: %w", err)
		}
		var d definitions
		if err := json.Unmarshal(data, &d); err != nil {
			return fmt.Errorf("parse %s: %w", filepath.Join(v.dir, definitionsFile), err)
		}
		if err := v.restore(d); err != nil {
			return err
		}
	}
	return nil
}

func (v *VHost) restore(d definitions) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, x := range d.Exchanges {
		k, ok := router.ParseKind(x.Type)
		if !ok {
			return fmt.Errorf("definitions: exchange %q has unknown type %q", x.Name, x.Type)
		}
		if err := v.router.AddExchange(x.Name, k); err != nil {
			return fmt.Errorf("definitions: exchange %q: %w", x.Name, err)
		}
		v.exchanges[x.Name] = &Exchange{Name: x.Name, Type: x.Type, Kind: k, Durable: true, AutoDelete: x.AutoDelete, Internal: x.Internal, Args: fixTable(x.Arguments)}
	}
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
