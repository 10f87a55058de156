package broker

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Global runtime parameters, RabbitMQ's rabbit_runtime_parameters without
// a vhost or component: internal_cluster_id (made at first boot, as
// RabbitMQ does), cluster_name when an operator sets one, and whatever
// else a client stores. Values are any JSON, kept as given. They live in
// their own file beside definitions.json, so setting one rewrites only
// that small file.

const globalParamsFile = "global_parameters.json"

// GlobalParameter is one global runtime parameter.
type GlobalParameter struct {
	Name  string          `json:"name"`
	Value json.RawMessage `json:"value"`
}

type globalParams struct {
	once    sync.Once
	openErr error
	mu      sync.Mutex // guards m and the file's writes
	m       map[string]json.RawMessage
}

// globals loads the parameters on first use, making internal_cluster_id
// if the data dir has none.
func (b *Broker) globals() (*globalParams, error) {
	g := &b.gparams
	g.once.Do(func() { g.openErr = b.openGlobals() })
	return g, g.openErr
}

func (b *Broker) openGlobals() error {
	g := &b.gparams
	g.m = map[string]json.RawMessage{}
	path := filepath.Join(b.cfg.DataDir, globalParamsFile)
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("read %s: %w", path, err)
	default:
		var list []GlobalParameter
		if err := json.Unmarshal(data, &list); err != nil {
			return fmt.Errorf("parse %s: %w", path, err)
		}
		for _, p := range list {
			g.m[p.Name] = p.Value
		}
	}
	if _, ok := g.m["internal_cluster_id"]; ok {
		return nil
	}
	var id [16]byte
	_, _ = rand.Read(id[:])
	v, _ := json.Marshal("rabbitmq-cluster-id-" + base64.RawURLEncoding.EncodeToString(id[:]))
	g.m["internal_cluster_id"] = v
	return b.storeGlobalsLocked()
}

func (b *Broker) storeGlobalsLocked() error {
	data, err := json.Marshal(globalList(b.gparams.m))
	if err == nil {
		err = writeFileAtomic(b.cfg.DataDir, globalParamsFile, data)
	}
	if err != nil {
		return fmt.Errorf("cannot store global parameters: %w", err)
	}
	return nil
}

func globalList(m map[string]json.RawMessage) []GlobalParameter {
	out := make([]GlobalParameter, 0, len(m))
	for n, v := range m {
		out = append(out, GlobalParameter{Name: n, Value: v})
	}
	slices.SortFunc(out, func(a, b GlobalParameter) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// GlobalParameters lists the global parameters by name.
func (b *Broker) GlobalParameters() ([]GlobalParameter, error) {
	g, err := b.globals()
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return globalList(g.m), nil
}

// GlobalParameterValue is one parameter's value.
func (b *Broker) GlobalParameterValue(name string) (json.RawMessage, bool, error) {
	g, err := b.globals()
	if err != nil {
		return nil, false, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	v, ok := g.m[name]
	return v, ok, nil
}

// SetGlobalParameter stores name = value (valid JSON) and reports whether
// the name is new. The file is written before the call returns.
func (b *Broker) SetGlobalParameter(name string, value json.RawMessage) (created bool, err error) {
	if !json.Valid(value) {
		return false, fmt.Errorf("global parameter %q: value is not JSON", name)
	}
	g, err := b.globals()
	if err != nil {
		return false, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	old, had := g.m[name]
	if had && bytes.Equal(old, value) {
		return false, nil
	}
	g.m[name] = slices.Clone(value)
	if err := b.storeGlobalsLocked(); err != nil {
		if had {
			g.m[name] = old
		} else {
			delete(g.m, name)
		}
		return false, err
	}
	return !had, nil
}

// DeleteGlobalParameter removes name and reports whether it was there.
func (b *Broker) DeleteGlobalParameter(name string) (bool, error) {
	g, err := b.globals()
	if err != nil {
		return false, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	old, had := g.m[name]
	if !had {
		return false, nil
	}
	delete(g.m, name)
	if err := b.storeGlobalsLocked(); err != nil {
		g.m[name] = old
		return false, err
	}
	return true, nil
}

// ClusterName is the cluster_name global parameter when it is a string,
// else def (RabbitMQ falls back to its node name).
func (b *Broker) ClusterName(def string) string {
	v, ok, err := b.GlobalParameterValue("cluster_name")
	var s string
	if err != nil || !ok || json.Unmarshal(v, &s) != nil || s == "" {
		return def
	}
	return s
}
