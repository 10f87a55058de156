package perf

import (
	"os"
	"path/filepath"
	"syscall"
)

// DirBytes is the disk usage (allocated blocks, as du reports) and the
// apparent size of the files under dir, for the broker's data directory.
func DirBytes(dir string) (alloc, apparent int64) {
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		apparent += fi.Size()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			alloc += st.Blocks * 512
		}
		return nil
	})
	return alloc, apparent
}
