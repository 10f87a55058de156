// Command warren-perf is an AMQP 0-9-1 load tool in the spirit of RabbitMQ
// PerfTest and lavinmqperf.
//
//	warren-perf [run flags]              one run (see -h)
//	warren-perf matrix [matrix flags]    the standard benchmark matrix
//	warren-perf compare A.jsonl B.jsonl  ratios between two matrix outputs
//	warren-perf report L=A.jsonl L=B.jsonl  CSV, JSON and SVG plot of matrix outputs
//	warren-perf sink [-listen ADDR]      a null broker, to measure the clients alone
package main

import (
	"fmt"
	"os"
)

func main() {
	args := os.Args[1:]
	var code int
	switch {
	case len(args) > 0 && args[0] == "matrix":
		code = matrixMain(args[1:])
	case len(args) > 0 && args[0] == "compare":
		code = compareMain(args[1:])
	case len(args) > 0 && args[0] == "report":
		code = reportMain(args[1:])
	case len(args) > 0 && args[0] == "sink":
		code = sinkMain(args[1:])
	case len(args) > 0 && args[0] == "run":
		code = runMain(args[1:])
	default:
		code = runMain(args)
	}
	os.Exit(code)
}

func fail(code int, format string, a ...any) int {
	fmt.Fprintf(os.Stderr, "warren-perf: "+format+"\n", a...)
	return code
}
