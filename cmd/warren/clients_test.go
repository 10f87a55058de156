//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// runTool runs a command with a deadline and returns its stdout; stderr goes
// into the error.
func runTool(t *testing.T, stdin string, name string, args ...string) (string, int, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	code := 0
	if cmd.ProcessState != nil {
		code = cmd.ProcessState.ExitCode()
	}
	if err != nil {
		err = fmt.Errorf("%s %s: %v; stderr: %s", name, strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), code, err
}

// TestAmqpToolsRoundTrip drives the broker with the rabbitmq-c command line
// tools (Debian's amqp-tools), as the README's "try it" does.
func TestAmqpToolsRoundTrip(t *testing.T) {
	for _, tool := range []string{"amqp-declare-queue", "amqp-publish", "amqp-get"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (apt-get install amqp-tools; .ci/run does)", tool)
		}
	}
	dataDir := filepath.Join(t.TempDir(), "data")
	proc := startWarren(t, dataDir, procOptions{})
	// The tools take the vhost from the URL path; without a path it is "/".
	u := "amqp://guest:guest@" + proc.addr
	must := func(stdin, name string, args ...string) string {
		t.Helper()
		out, _, err := runTool(t, stdin, name, args...)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	if out := must("", "amqp-declare-queue", "-u", u, "-q", "tools-q", "-d"); strings.TrimSpace(out) != "tools-q" {
		t.Errorf("amqp-declare-queue printed %q, want the queue name", out)
	}
	must("", "amqp-publish", "-u", u, "-r", "tools-q", "-p", "-C", "text/plain", "-E", "utf-8", "-H", "x-test: yes", "-b", "Hello World!")
	if out := must("", "amqp-get", "-u", u, "-q", "tools-q"); out != "Hello World!" {
		t.Errorf("amqp-get printed %q, want %q", out, "Hello World!")
	}
	if _, code, err := runTool(t, "", "amqp-get", "-u", u, "-q", "tools-q"); err == nil || code != 2 {
		t.Errorf("amqp-get on an empty queue: exit %d (%v); RabbitMQ gives 2", code, err)
	}

	// Properties set by the tool arrive as sent.
	must("", "amqp-publish", "-u", u, "-r", "tools-q", "-p", "-C", "text/plain", "-E", "utf-8", "-H", "x-test: yes", "-t", "reply-here", "-b", "props")
	conn := mustDial(t, proc.url)
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	d, ok, err := ch.Get("tools-q", true)
	if err != nil || !ok {
		t.Fatalf("basic.get: ok=%v err=%v", ok, err)
	}
	if string(d.Body) != "props" || d.ContentType != "text/plain" || d.ContentEncoding != "utf-8" ||
		d.DeliveryMode != 2 || d.ReplyTo != "reply-here" || d.Headers["x-test"] != "yes" {
		t.Errorf("message from amqp-publish arrived as body=%q content-type=%q encoding=%q mode=%d reply-to=%q headers=%v",
			d.Body, d.ContentType, d.ContentEncoding, d.DeliveryMode, d.ReplyTo, d.Headers)
	}

	// One message per line, then amqp-consume.
	if _, err := exec.LookPath("amqp-consume"); err == nil {
		must("a\nb\nc\n", "amqp-publish", "-u", u, "-r", "tools-q", "-l", "-p")
		out := must("", "amqp-consume", "-u", u, "-q", "tools-q", "-c", "3", "cat")
		if got := strings.Fields(out); strings.Join(got, ",") != "a,b,c" {
			t.Errorf("amqp-consume printed %q, want a b c", out)
		}
	}

	// A server-named queue.
	if out := strings.TrimSpace(must("", "amqp-declare-queue", "-u", u, "-q", "")); !strings.HasPrefix(out, "amq.gen-") {
		t.Errorf("amqp-declare-queue -q '' printed %q, want amq.gen-...", out)
	}

	// A persistent message survives a restart.
	must("", "amqp-publish", "-u", u, "-r", "tools-q", "-p", "-b", "still here")
	_ = conn.Close()
	if code, ok := proc.signal(syscall.SIGTERM, 15*time.Second); !ok || code != 0 {
		t.Fatalf("SIGTERM: exited=%v code=%d", ok, code)
	}
	proc = startWarren(t, dataDir, procOptions{})
	u = "amqp://guest:guest@" + proc.addr
	if out := must("", "amqp-get", "-u", u, "-q", "tools-q"); out != "still here" {
		t.Errorf("after restart amqp-get printed %q, want %q", out, "still here")
	}
	if _, err := exec.LookPath("amqp-delete-queue"); err == nil {
		if out := must("", "amqp-delete-queue", "-u", u, "-q", "tools-q"); strings.TrimSpace(out) != "0" {
			t.Errorf("amqp-delete-queue printed %q, want 0", out)
		}
	}
	// "amqp://host:port/" names the vhost "": RabbitMQ refuses the login
	// (530 NOT_ALLOWED - vhost  not found), and so should we.
	if _, code, err := runTool(t, "", "amqp-declare-queue", "-u", u+"/", "-q", "x"); err == nil {
		t.Errorf("vhost \"\" was accepted (exit %d); RabbitMQ refuses it", code)
	} else if !strings.Contains(err.Error(), "530") {
		t.Logf("vhost \"\": %v", err)
	}
	proc.checkLog(t, "amqp-tools")
}

const pikaScript = `
import sys, pika
mode, url = sys.argv[1], sys.argv[2]
params = pika.URLParameters(url)
params.socket_timeout = 30
params.blocked_connection_timeout = 30
conn = pika.BlockingConnection(params)
ch = conn.channel()
ch.queue_declare(queue='task_queue', durable=True)
persistent = pika.BasicProperties(delivery_mode=pika.spec.PERSISTENT_DELIVERY_MODE)
if mode == 'new_task':
    # new_task.py: persistent messages to a durable queue
    first, n = int(sys.argv[3]), int(sys.argv[4])
    if len(sys.argv) > 5 and sys.argv[5] == 'confirm':
        ch.confirm_delivery()
    for i in range(first, first + n):
        ch.basic_publish(exchange='', routing_key='task_queue',
                         body=('task %d %s' % (i, '.' * (i % 4))).encode(), properties=persistent)
    print('sent %d' % n)
elif mode == 'crashing_worker':
    # takes one task and dies without acking it
    ch.basic_qos(prefetch_count=1)
    for method, props, body in ch.consume('task_queue', inactivity_timeout=60):
        print(body.decode())
        break
elif mode == 'worker':
    # worker.py: fair dispatch, manual acks
    n = int(sys.argv[3])
    got = []
    def callback(ch, method, props, body):
        got.append('%s|%s|%s' % (body.decode(), method.redelivered, props.delivery_mode))
        ch.basic_ack(delivery_tag=method.delivery_tag)
        if len(got) == n:
            ch.stop_consuming()
    ch.basic_qos(prefetch_count=1)
    ch.basic_consume(queue='task_queue', on_message_callback=callback)
    conn.call_later(60, ch.stop_consuming)
    ch.start_consuming()
    print('\n'.join(got))
    q = ch.queue_declare(queue='task_queue', durable=True, passive=True)
    print('left %d' % q.method.message_count)
conn.close()
`

// TestDurableTutorial is RabbitMQ's "work queues" tutorial with pika: a
// durable queue and persistent messages survive a broker restart (clean, and
// kill -9 after publisher confirms), and a task taken by a worker that dies
// without acking goes to the next worker, marked redelivered.
func TestDurableTutorial(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import pika").Run(); err != nil {
		t.Skip("/usr/bin/python3 has no pika (apt-get install python3-pika; .ci/run does)")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "tutorial.py")
	if err := os.WriteFile(script, []byte(pikaScript), 0o644); err != nil {
		t.Fatal(err)
	}
	dataDir := filepath.Join(dir, "data")
	proc := startWarren(t, dataDir, procOptions{})
	py := func(args ...string) string {
		t.Helper()
		out, _, err := runTool(t, "", "/usr/bin/python3", append([]string{script}, args...)...)
		if err != nil {
			t.Fatalf("pika %s: %v\nstdout: %s\nwarren log:\n%s", args[0], err, out, tail(proc.log(), 3000))
		}
		return out
	}
	url := func() string { return "amqp://guest:guest@" + proc.addr + "/%2F" }

	py("new_task", url(), "0", "10")
	// rabbitmqctl stop; start
	if code, ok := proc.signal(syscall.SIGTERM, 15*time.Second); !ok || code != 0 {
		t.Fatalf("SIGTERM: exited=%v code=%d", ok, code)
	}
	proc = startWarren(t, dataDir, procOptions{})
	if out := strings.TrimRight(py("crashing_worker", url()), "\n"); out != "task 0 " {
		t.Errorf("crashing worker got %q, want %q", out, "task 0 ")
	}
	checkWorker := func(first, n int, redelivered func(i int) bool) {
		t.Helper()
		out := py("worker", url(), fmt.Sprint(n))
		var want []string
		for i := first; i < first+n; i++ {
			r := "False"
			if redelivered(i) {
				r = "True"
			}
			want = append(want, fmt.Sprintf("task %d %s|%s|2", i, strings.Repeat(".", i%4), r))
		}
		want = append(want, "left 0")
		if got := strings.TrimSpace(out); got != strings.Join(want, "\n") {
			t.Errorf("worker got:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
		}
	}
	checkWorker(0, 10, func(i int) bool { return i == 0 })

	// kill -9 after publishes confirmed to the publisher
	py("new_task", url(), "10", "5", "confirm")
	proc.kill()
	proc = startWarren(t, dataDir, procOptions{})
	checkWorker(10, 5, func(int) bool { return false })
	proc.checkLog(t, "pika tutorial")
}
