package main

import "syscall"

// raiseFDLimit lifts the soft RLIMIT_NOFILE to the hard limit and returns
// the soft limit in force. Every connection and every open queue file costs
// an fd, and the soft limit is often 1,024. Go (1.19+) already does this at
// start on Linux, so this mostly reads the limit back for the start log; it
// keeps the broker's behaviour independent of that runtime detail.
func raiseFDLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < lim.Max {
		want := lim
		want.Cur = want.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
			return lim.Cur, err
		}
		lim = want
	}
	return lim.Cur, nil
}
