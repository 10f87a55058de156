package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/mgmt"
)

// RabbitMQ's load_definitions (and management.load_definitions, its older
// name): a definitions export, or a directory of them, imported at every
// start by the management import (mgmt.ImportDefinitions), so that a
// second start with the same file changes nothing. As in RabbitMQ
// (rabbit:maybe_insert_default_data), a node that has definitions to load
// seeds neither default_vhost nor default_user on a fresh data dir
// (broker.Config.DefinitionsToLoad): the file says what exists and who may
// log in. A file that cannot be read or imported stops the start with the
// file and the reason.

// definitionsFile is one file to import.
type definitionsFile struct {
	path string
	data []byte
}

// readDefinitions reads path: a file, or the *.json files of a directory
// in name order, as RabbitMQ's local-filesystem importer does.
func readDefinitions(path string) ([]definitionsFile, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load_definitions: %w", err)
	}
	paths := []string{path}
	if st.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, fmt.Errorf("load_definitions: %w", err)
		}
		paths = paths[:0]
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") {
				paths = append(paths, filepath.Join(path, e.Name()))
			}
		}
		sort.Strings(paths)
	}
	files := make([]definitionsFile, 0, len(paths))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("load_definitions: %w", err)
		}
		files = append(files, definitionsFile{p, data})
	}
	return files, nil
}

// importDefinitions imports the files into b, in order.
func importDefinitions(b *broker.Broker, files []definitionsFile) error {
	for _, f := range files {
		if err := mgmt.ImportDefinitions(b, f.data); err != nil {
			return fmt.Errorf("load_definitions %s: %w", f.path, err)
		}
		slog.Info("definitions imported", "file", f.path)
	}
	return nil
}
