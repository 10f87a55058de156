package broker

import (
	"encoding/json"
	"strings"
	"testing"
)

// Global parameters survive a restart, and internal_cluster_id is made
// once: the next start keeps it.
func TestGlobalParametersPersist(t *testing.T) {
	dir := t.TempDir()
	b, err := Open(Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	id, ok, err := b.GlobalParameterValue("internal_cluster_id")
	if err != nil || !ok || !strings.HasPrefix(string(id), `"rabbitmq-cluster-id-`) {
		t.Fatalf("internal_cluster_id %s %v %v", id, ok, err)
	}
	if created, err := b.SetGlobalParameter("cluster_name", json.RawMessage(`"c1"`)); err != nil || !created {
		t.Fatalf("set: %v %v", created, err)
	}
	if _, err := b.SetGlobalParameter("bad", json.RawMessage(`{`)); err == nil {
		t.Error("a value that is not JSON was stored")
	}
	b.Close()

	b, err = Open(Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	id2, _, _ := b.GlobalParameterValue("internal_cluster_id")
	if string(id2) != string(id) {
		t.Errorf("internal_cluster_id changed across a restart: %s then %s", id, id2)
	}
	if got := b.ClusterName("node"); got != "c1" {
		t.Errorf("ClusterName %q, want c1", got)
	}
	if found, err := b.DeleteGlobalParameter("cluster_name"); !found || err != nil {
		t.Fatalf("delete: %v %v", found, err)
	}
	if got := b.ClusterName("node"); got != "node" {
		t.Errorf("ClusterName after delete %q, want the node's", got)
	}
	ps, _ := b.GlobalParameters()
	if len(ps) != 1 || ps[0].Name != "internal_cluster_id" {
		t.Errorf("left: %v", ps)
	}
}
