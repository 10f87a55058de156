// Command warrenctl manages a running Warren (or RabbitMQ) over its HTTP
// management API: lists with rabbitmqctl's column names, declare and
// delete, publish and get, users, permissions, policies, definitions,
// status and health checks. Exit codes are in client.go and usage.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// options are the command line's flags, global and per command: every
// flag may come before or after the command's words.
type options struct {
	url, user, pass string
	vhost           string
	vhostSet        bool // --vhost (or WARREN_VHOST) was given
	allVHosts       bool
	json            bool
	timeout         time.Duration
	columns         string

	durable, autoDelete, internal bool
	typ, arguments                string
	ifEmpty, ifUnused             bool
	destType, routingKey          string
	exchange, payload, properties string
	encoding                      string
	count, truncate               int
	ackmode                       string
	reason                        string
	tags                          string
	priority                      int
	applyTo                       string
}

// env is a flag's default from the environment.
func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func (o *options) flags(stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("warrenctl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	fs.StringVar(&o.url, "url", env("WARREN_URL", "http://127.0.0.1:15672"), "management API `URL` (env WARREN_URL)")
	fs.StringVar(&o.user, "username", env("WARREN_USER", "guest"), "user (env WARREN_USER)")
	fs.StringVar(&o.user, "u", env("WARREN_USER", "guest"), "short for --username")
	fs.StringVar(&o.pass, "password", env("WARREN_PASSWORD", "guest"), "password (env WARREN_PASSWORD)")
	fs.StringVar(&o.pass, "p", env("WARREN_PASSWORD", "guest"), "short for --password")
	fs.StringVar(&o.vhost, "vhost", env("WARREN_VHOST", "/"), "virtual host (env WARREN_VHOST)")
	fs.BoolVar(&o.allVHosts, "all-vhosts", false, "list across every vhost")
	fs.BoolVar(&o.json, "json", false, "print JSON instead of a table")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "HTTP timeout")
	fs.StringVar(&o.columns, "columns", "", "comma-separated columns of a list (rabbitmqctl's info items)")

	fs.BoolVar(&o.durable, "durable", false, "declare: durable")
	fs.BoolVar(&o.autoDelete, "auto-delete", false, "declare: auto-delete")
	fs.BoolVar(&o.internal, "internal", false, "declare exchange: internal")
	fs.StringVar(&o.typ, "type", "", "declare: exchange type (direct...) or queue type (classic, quorum, stream)")
	fs.StringVar(&o.arguments, "arguments", "", "declare, bind: arguments as a JSON object")
	fs.BoolVar(&o.ifEmpty, "if-empty", false, "delete queue: only if empty")
	fs.BoolVar(&o.ifUnused, "if-unused", false, "delete: only if unused")
	fs.StringVar(&o.destType, "destination-type", "queue", "bind, unbind: queue or exchange")
	fs.StringVar(&o.routingKey, "routing-key", "", "bind, unbind, publish: routing key")
	fs.StringVar(&o.exchange, "exchange", "", "publish: exchange (default: the default exchange)")
	fs.StringVar(&o.payload, "payload", "", "publish: body (default: standard input)")
	fs.StringVar(&o.properties, "properties", "", "publish: properties as a JSON object")
	fs.StringVar(&o.encoding, "encoding", "auto", "get: auto or base64")
	fs.IntVar(&o.count, "count", 1, "get: messages to get")
	fs.IntVar(&o.truncate, "truncate", -1, "get: payload bytes to show (-1: all)")
	fs.StringVar(&o.ackmode, "ackmode", "ack_requeue_true", "get: ack_requeue_true, ack_requeue_false, reject_requeue_true, reject_requeue_false")
	fs.StringVar(&o.reason, "reason", "", "close connection: reason given to the client")
	fs.StringVar(&o.tags, "tags", "", "add user: comma-separated tags")
	fs.IntVar(&o.priority, "priority", 0, "set policy: priority")
	fs.StringVar(&o.applyTo, "apply-to", "all", "set policy: queues, exchanges or all")
	return fs
}

// parse reads flags anywhere among the words.
func (o *options) parse(args []string, stderr io.Writer) ([]string, error) {
	fs := o.flags(stderr)
	var words []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fail(exitUsage, "%v", err)
		}
		fs.Visit(func(f *flag.Flag) { o.vhostSet = o.vhostSet || f.Name == "vhost" })
		args = fs.Args()
		if len(args) == 0 {
			o.vhostSet = o.vhostSet || os.Getenv("WARREN_VHOST") != ""
			return words, nil
		}
		if args[0] == "--" {
			return append(words, args[1:]...), nil
		}
		words = append(words, args[0])
		args = args[1:]
	}
}

// command is one verb-noun of warrenctl.
type command struct {
	words string // "list queues"
	args  string // positional arguments, for usage
	min   int    // positional arguments at least
	max   int    // at most (-1: any)
	help  string
	run   func(e *cmdEnv, args []string) error
}

// cmdEnv is what a command runs with.
type cmdEnv struct {
	o      *options
	c      *client
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

var commands []command

func init() {
	commands = append(commands, listCommands()...)
	commands = append(commands, objectCommands()...)
	commands = append(commands, accessCommands()...)
	commands = append(commands, adminCommands()...)
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var o options
	words, err := o.parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) || (err == nil && (len(words) == 0 || words[0] == "help")) {
		usage(stdout)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "warrenctl: %v (warrenctl help lists the commands)\n", err)
		return exitUsage
	}
	// rabbitmqctl spellings: list_queues is list queues, set_user_tags is
	// set user_tags.
	if v, n, ok := strings.Cut(words[0], "_"); ok {
		words = append([]string{v, n}, words[1:]...)
	}
	cmd, rest := lookup(words)
	if cmd == nil {
		fmt.Fprintf(stderr, "warrenctl: unknown command %q (warrenctl help lists the commands)\n", strings.Join(words, " "))
		return exitUsage
	}
	if len(rest) < cmd.min || (cmd.max >= 0 && len(rest) > cmd.max) {
		fmt.Fprintf(stderr, "warrenctl: usage: warrenctl %s %s\n", cmd.words, cmd.args)
		return exitUsage
	}
	c, err := newClient(o.url, o.user, o.pass, o.timeout)
	if err == nil {
		err = cmd.run(&cmdEnv{o: &o, c: c, stdin: stdin, stdout: stdout, stderr: stderr}, rest)
	}
	if err != nil {
		code := exitServer
		var ce *cliError
		if errors.As(err, &ce) {
			code = ce.code
		}
		fmt.Fprintf(stderr, "warrenctl: %v\n", err)
		return code
	}
	return exitOK
}

// lookup finds the command named by the first one or two words.
func lookup(words []string) (*command, []string) {
	for _, n := range []int{2, 1} {
		if len(words) < n {
			continue
		}
		name := strings.Join(words[:n], " ")
		for i := range commands {
			if commands[i].words == name {
				return &commands[i], words[n:]
			}
		}
	}
	return nil, nil
}

func usage(w io.Writer) {
	fmt.Fprint(w, `warrenctl manages Warren (or RabbitMQ) over its HTTP management API.

usage: warrenctl [flags] COMMAND [ARGS] [flags]

Commands (rabbitmqctl's spellings work too: list_queues, add_user, set_permissions...):
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-44s %s\n", strings.TrimSpace(c.words+" "+c.args), c.help)
	}
	fmt.Fprint(w, `
Connection flags (and environment):
  --url URL            management API, default http://127.0.0.1:15672 (WARREN_URL)
  -u, --username USER  default guest (WARREN_USER)
  -p, --password PASS  default guest (WARREN_PASSWORD)
  --vhost VHOST        default / (WARREN_VHOST)
  --timeout D          HTTP timeout, default 30s
Output flags:
  --json               JSON instead of tab-separated columns with a header line
  --columns a,b,c      a list's columns (rabbitmqctl's info items; "all" lists them)
  --all-vhosts         a list across every vhost (adds the vhost column)
Command flags: --durable --auto-delete --internal --type T --arguments JSON
  --if-empty --if-unused --destination-type queue|exchange --routing-key K
  --exchange X --payload P --properties JSON --count N --ackmode M
  --encoding auto|base64 --truncate N --reason R --tags a,b --priority N
  --apply-to queues|exchanges|all

Exit codes:
  0  done
  1  the broker refused the request (bad arguments, precondition failed, in use)
  2  bad command line
  3  the broker cannot be reached (not running, wrong --url, timeout)
  4  authentication failed or not authorised (wrong password, missing tag)
  5  not found (vhost, queue, exchange, user, binding, connection...)
  6  broker error (HTTP 5xx) or an answer warrenctl cannot read
  7  the answer is no: a health check fails, a published message was not routed
`)
}
