package broker

import (
	"bufio"
	"encoding/json"
	"io"
	"slices"
)

// encodeDefinitions writes d as JSON (the shape of RabbitMQ's definitions
// export), streaming the three long lists one entry per line.
//
// Why not json.MarshalIndent of the whole: with 100,000 queues and as many
// bindings the file is ~20 MB, and MarshalIndent holds it three times at
// once (the encoder's buffer, its copy, the indented copy), then leaves the
// encoder's buffer in encoding/json's pool until two GCs later: ~60 MB of
// heap peak per snapshot, which the process keeps as RSS. Marshalling entry
// by entry keeps every buffer the size of one entry.
//
// Every other field of definitions (vhost, format, journal, policies, and
// whatever is added later) goes through json.Marshal as usual, so none can
// be left out by this function.
func encodeDefinitions(w io.Writer, d definitions) error {
	head := d
	head.Exchanges, head.Queues, head.Bindings = nil, nil, nil
	hb, err := json.Marshal(head)
	if err != nil {
		return err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(hb, &fields); err != nil {
		return err
	}
	delete(fields, "exchanges")
	delete(fields, "queues")
	delete(fields, "bindings")
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	slices.Sort(names)

	bw := bufio.NewWriterSize(w, 64<<10)
	sep := "{\n"
	for _, name := range names {
		key, _ := json.Marshal(name)
		bw.WriteString(sep)
		bw.Write(key)
		bw.WriteString(": ")
		bw.Write(fields[name])
		sep = ",\n"
	}
	if err := encodeList(bw, sep, "exchanges", d.Exchanges); err != nil {
		return err
	}
	if err := encodeList(bw, ",\n", "queues", d.Queues); err != nil {
		return err
	}
	if err := encodeList(bw, ",\n", "bindings", d.Bindings); err != nil {
		return err
	}
	bw.WriteString("\n}\n")
	return bw.Flush() // reports the first write error, if any
}

func encodeList[T any](bw *bufio.Writer, sep, name string, entries []T) error {
	bw.WriteString(sep + "\"" + name + "\": [")
	for i := range entries {
		b, err := json.Marshal(&entries[i])
		if err != nil {
			return err
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n  ")
		bw.Write(b)
	}
	bw.WriteString("\n]")
	return nil
}
