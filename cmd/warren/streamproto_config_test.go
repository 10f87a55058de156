//go:build linux

package main

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// stream.listeners.tcp.default sets the listener; stream.advertised_host
// and _port are what metadata tells clients; without them, the address the
// client reached.
func TestStreamProtoConfigListenerAdvertised(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	conf := writeConf(t, "listeners.tcp.default = 127.0.0.1:0\nmanagement.tcp.port = 0\nprometheus.tcp.port = 0\n"+
		"warren.data_dir = "+dir+"/data\n"+
		"stream.listeners.tcp.default = 127.0.0.1:"+strconv.Itoa(port)+"\n"+
		"stream.advertised_host = stream.example.test\nstream.advertised_port = 5999\n")
	p := startWarren(t, dir+"/data", procOptions{bare: true, streamFromConfig: true, args: []string{"-config", conf}})
	if !spWait(10*time.Second, func() bool { return streamUp(port) }) {
		t.Fatalf("no stream listener on %d; log:\n%s", port, tail(p.log(), 2000))
	}
	w := &streamWarren{warrenProc: p, streamPort: port}
	env := w.env(t)
	if err := env.DeclareStream("adv", nil); err != nil {
		t.Fatal(err)
	}
	md, err := env.StreamMetaData("adv")
	if err != nil {
		t.Fatal(err)
	}
	if md.Leader.Host != "stream.example.test" || md.Leader.Port != "5999" {
		t.Fatalf("advertised %s:%s", md.Leader.Host, md.Leader.Port)
	}
	if problems := logProblems(p.log()); len(problems) > 0 {
		t.Fatalf("log: %v", problems)
	}

	// No advertised address: the one the client reached.
	w2 := startStreamWarren(t, t.TempDir()+"/data")
	env2 := w2.env(t)
	if err := env2.DeclareStream("adv", nil); err != nil {
		t.Fatal(err)
	}
	md, err = env2.StreamMetaData("adv")
	if err != nil {
		t.Fatal(err)
	}
	if md.Leader.Host != "127.0.0.1" || md.Leader.Port != strconv.Itoa(w2.streamPort) {
		t.Fatalf("advertised %s:%s, want 127.0.0.1:%d", md.Leader.Host, md.Leader.Port, w2.streamPort)
	}
	// -stream-port 0 (the harness's default) disables the listener.
	p3 := startWarren(t, t.TempDir()+"/data", procOptions{})
	if strings.Contains(p3.log(), "stream protocol listening") {
		t.Fatalf("-stream-port 0 still listens:\n%s", p3.log())
	}
}
