//go:build ignore

// Command gen writes frame/methods_gen.go from the AMQP 0-9-1 spec XML.
//
// It is run by `go generate` in package frame:
//
//	go run ./internal/gen/main.go -spec amqp0-9-1.stripped.extended.xml -out methods_gen.go
//
// The ignore constraint keeps it out of `go install ./...` (it is a build
// tool, not something to put in GOBIN) and out of the module's packages;
// naming the file runs it anyway. TestGeneratedCodeUpToDate in package
// frame builds and runs it, so it cannot rot unnoticed.
//
// The XML is the only table: constants (frame types, reply codes and their
// soft/hard class), classes and methods with their fields. The generated code
// leans on the small reader and append helpers in frame/codec.go, so the
// output stays free of imports and easy to read in review.
package main

import (
	"bytes"
	"encoding/xml"
	"flag"
	"fmt"
	"go/format"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

type spec struct {
	Constants []constant `xml:"constant"`
	Domains   []domain   `xml:"domain"`
	Classes   []class    `xml:"class"`
}

type constant struct {
	Name  string `xml:"name,attr"`
	Value int    `xml:"value,attr"`
	Class string `xml:"class,attr"`
}

type domain struct {
	Name string `xml:"name,attr"`
	Type string `xml:"type,attr"`
}

type class struct {
	Name    string   `xml:"name,attr"`
	Index   int      `xml:"index,attr"`
	Methods []method `xml:"method"`
}

type method struct {
	Name        string  `xml:"name,attr"`
	Index       int     `xml:"index,attr"`
	Synchronous int     `xml:"synchronous,attr"`
	Content     int     `xml:"content,attr"`
	Fields      []field `xml:"field"`
}

type field struct {
	Name     string `xml:"name,attr"`
	Domain   string `xml:"domain,attr"`
	Type     string `xml:"type,attr"`
	Reserved int    `xml:"reserved,attr"`
}

// goType maps the spec's primitive types to the Go types in docs/CONTRACTS.md.
var goType = map[string]string{
	"bit":       "bool",
	"octet":     "uint8",
	"short":     "uint16",
	"long":      "uint32",
	"longlong":  "uint64",
	"shortstr":  "string",
	"longstr":   "string",
	"timestamp": "uint64",
	"table":     "Table",
}

// readFn and appendFn name the helpers in frame/codec.go per primitive type.
var readFn = map[string]string{
	"octet":     "octet",
	"short":     "short",
	"long":      "long",
	"longlong":  "longlong",
	"shortstr":  "shortstr",
	"longstr":   "longstr",
	"timestamp": "longlong",
	"table":     "table",
}

var appendFn = map[string]string{
	"octet":     "appendOctet",
	"short":     "appendShort",
	"long":      "appendLong",
	"longlong":  "appendLonglong",
	"shortstr":  "appendShortstr",
	"longstr":   "appendLongstr",
	"timestamp": "appendLonglong",
	"table":     "appendTableArg",
}

func main() {
	specPath := flag.String("spec", "amqp0-9-1.stripped.extended.xml", "spec XML to read")
	out := flag.String("out", "methods_gen.go", "Go file to write")
	flag.Parse()

	raw, err := os.ReadFile(*specPath)
	if err != nil {
		log.Fatal(err)
	}
	var s spec
	if err := xml.Unmarshal(raw, &s); err != nil {
		log.Fatalf("parse %s: %v", *specPath, err)
	}
	addExtensions(&s)

	src, err := generate(&s, filepath.Base(*specPath))
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}

// addExtensions supplies RabbitMQ methods that some copies of the stripped
// XML predate, so the codec covers what RabbitMQ 3.x clients send whatever
// copy is vendored. Methods already present are left as the XML has them.
func addExtensions(s *spec) {
	for i := range s.Classes {
		c := &s.Classes[i]
		if c.Name != "connection" {
			continue
		}
		has := func(name string) bool {
			return slices.ContainsFunc(c.Methods, func(m method) bool { return m.Name == name })
		}
		if !has("update-secret") {
			c.Methods = append(c.Methods, method{Name: "update-secret", Index: 70, Synchronous: 1,
				Fields: []field{{Name: "new-secret", Type: "longstr"}, {Name: "reason", Type: "shortstr"}}})
		}
		if !has("update-secret-ok") {
			c.Methods = append(c.Methods, method{Name: "update-secret-ok", Index: 71, Synchronous: 1})
		}
	}
}

// camel turns "routing-key" into "RoutingKey". "id" becomes "ID" (Go's
// initialism rule, matching Error.ClassID), and confirm.select's lone
// "nowait" becomes "NoWait" so every method spells the flag the same way.
func camel(s string) string {
	if s == "nowait" {
		return "NoWait"
	}
	var b strings.Builder
	for part := range strings.SplitSeq(s, "-") {
		if part == "" {
			continue
		}
		if part == "id" {
			b.WriteString("ID")
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func upperSnake(s string) string { return strings.ToUpper(strings.ReplaceAll(s, "-", "_")) }

type genField struct {
	Name string // Go field name
	Wire string // spec name, for error text
	Type string // spec primitive type
}

func resolve(s *spec, f field) (string, error) {
	if f.Type != "" {
		return f.Type, nil
	}
	for _, d := range s.Domains {
		if d.Name == f.Domain {
			return d.Type, nil
		}
	}
	return "", fmt.Errorf("field %q: unknown domain %q", f.Name, f.Domain)
}

type writer struct{ bytes.Buffer }

func (w *writer) p(format string, args ...any) { fmt.Fprintf(&w.Buffer, format+"\n", args...) }

func generate(s *spec, specName string) ([]byte, error) {
	var w writer
	w.p("// Code generated by frame/internal/gen from %s; DO NOT EDIT.", specName)
	w.p("")
	w.p("package frame")
	w.p("")

	genConstants(&w, s)
	if err := genMethods(&w, s); err != nil {
		return nil, err
	}

	src, err := format.Source(w.Bytes())
	if err != nil {
		return w.Bytes(), fmt.Errorf("gofmt generated code: %v", err)
	}
	return src, nil
}

func genConstants(w *writer, s *spec) {
	w.p("// Wire constants and reply codes, named after the spec's <constant> elements.")
	w.p("const (")
	for _, c := range s.Constants {
		switch c.Class {
		case "soft-error":
			w.p("\t// %s is a soft error: it closes the channel.", camel(c.Name))
		case "hard-error":
			w.p("\t// %s is a hard error: it closes the connection.", camel(c.Name))
		}
		w.p("\t%s = %d", camel(c.Name), c.Value)
	}
	w.p(")")
	w.p("")

	w.p("// softError reports whether the spec classes code as a soft error, which")
	w.p("// closes only the channel; every other error code closes the connection.")
	w.p("func softError(code uint16) bool {")
	w.p("\tswitch code {")
	var soft []string
	for _, c := range s.Constants {
		if c.Class == "soft-error" {
			soft = append(soft, camel(c.Name))
		}
	}
	w.p("\tcase %s:", strings.Join(soft, ", "))
	w.p("\t\treturn true")
	w.p("\t}")
	w.p("\treturn false")
	w.p("}")
	w.p("")

	w.p("// ReplyName returns the spec name of a reply code as RabbitMQ prints it in")
	w.p("// reply texts (\"NOT_FOUND\"), or \"\" for a code the spec does not define.")
	w.p("func ReplyName(code uint16) string {")
	w.p("\tswitch code {")
	for _, c := range s.Constants {
		if c.Class == "" && c.Name != "reply-success" {
			continue
		}
		w.p("\tcase %s:", camel(c.Name))
		w.p("\t\treturn %q", upperSnake(c.Name))
	}
	w.p("\t}")
	w.p("\treturn \"\"")
	w.p("}")
	w.p("")

	w.p("// Class ids.")
	w.p("const (")
	for _, c := range s.Classes {
		w.p("\tClass%s uint16 = %d", camel(c.Name), c.Index)
	}
	w.p(")")
	w.p("")
}

func genMethods(w *writer, s *spec) error {
	type entry struct {
		cls    class
		m      method
		goName string
		wire   string
	}
	var all []entry
	for _, c := range s.Classes {
		for _, m := range c.Methods {
			all = append(all, entry{c, m, camel(c.Name) + camel(m.Name), c.Name + "." + m.Name})
		}
	}

	w.p("// Method ids: class id << 16 | method id, as MethodID reads them.")
	w.p("const (")
	for _, e := range all {
		w.p("\tID%s uint32 = %d<<16 | %d", e.goName, e.cls.Index, e.m.Index)
	}
	w.p(")")
	w.p("")

	for _, e := range all {
		var fields []genField
		for _, f := range e.m.Fields {
			t, err := resolve(s, f)
			if err != nil {
				return fmt.Errorf("%s: %v", e.wire, err)
			}
			if _, ok := goType[t]; !ok {
				return fmt.Errorf("%s: field %q: unsupported type %q", e.wire, f.Name, t)
			}
			fields = append(fields, genField{Name: camel(f.Name), Wire: f.Name, Type: t})
		}
		genMethod(w, e.goName, e.wire, e.cls.Index, e.m, fields)
	}

	w.p("// NewMethod returns a zero method of the given id, ready for Decode.")
	w.p("func NewMethod(id uint32) (Method, error) {")
	w.p("\tswitch id {")
	for _, e := range all {
		w.p("\tcase ID%s:", e.goName)
		w.p("\t\treturn new(%s), nil", e.goName)
	}
	w.p("\t}")
	w.p("\treturn nil, unknownMethod(id)")
	w.p("}")
	w.p("")

	w.p("// MethodName returns the spec name (\"basic.publish\") of a method id, or \"\".")
	w.p("func MethodName(id uint32) string {")
	w.p("\tswitch id {")
	for _, e := range all {
		w.p("\tcase ID%s:", e.goName)
		w.p("\t\treturn %q", e.wire)
	}
	w.p("\t}")
	w.p("\treturn \"\"")
	w.p("}")
	w.p("")

	w.p("// Synchronous reports whether the spec marks a method synchronous: the")
	w.p("// sender waits for its reply, and may not send another on the channel.")
	w.p("func Synchronous(id uint32) bool {")
	w.p("\tswitch id {")
	var sync []string
	for _, e := range all {
		if e.m.Synchronous != 0 {
			sync = append(sync, "ID"+e.goName)
		}
	}
	w.p("\tcase %s:", strings.Join(sync, ",\n"))
	w.p("\t\treturn true")
	w.p("\t}")
	w.p("\treturn false")
	w.p("}")
	w.p("")

	w.p("// knownClass reports whether the spec defines a class with this id.")
	w.p("func knownClass(classID uint16) bool {")
	w.p("\tswitch classID {")
	var cls []string
	for _, c := range s.Classes {
		cls = append(cls, "Class"+camel(c.Name))
	}
	w.p("\tcase %s:", strings.Join(cls, ", "))
	w.p("\t\treturn true")
	w.p("\t}")
	w.p("\treturn false")
	w.p("}")
	return nil
}

func genMethod(w *writer, name, wire string, classIndex int, m method, fields []genField) {
	content := ""
	if m.Content != 0 {
		content = " It is followed by a content header and body."
	}
	w.p("// %s is %s (class %d, method %d).%s", name, wire, classIndex, m.Index, content)
	if len(fields) == 0 {
		w.p("type %s struct{}", name)
	} else {
		w.p("type %s struct {", name)
		for _, f := range fields {
			w.p("\t%s %s", f.Name, goType[f.Type])
		}
		w.p("}")
	}
	w.p("")
	w.p("func (*%s) ID() uint32 { return ID%s }", name, name)
	w.p("func (*%s) Name() string { return %q }", name, wire)
	w.p("func (*%s) HasContent() bool { return %v }", name, m.Content != 0)
	w.p("")

	recv := "m"
	if len(fields) == 0 {
		recv = ""
	}

	// Decode.
	w.p("func (%s *%s) Decode(args []byte) error {", recv, name)
	w.p("\tr := reader{b: args}")
	groups := 0
	forEachGroup(fields, func(f genField) {
		read := readFn[f.Type]
		if f.Type == "shortstr" && m.Content == 0 {
			read = "name" // RabbitMQ refuses these when not UTF-8
		}
		w.p("\t%s.%s = r.%s()", recv, f.Name, read)
	}, func(bits []genField) {
		if groups == 0 {
			w.p("\tbits := r.octet()")
		} else {
			w.p("\tbits = r.octet()")
		}
		groups++
		for i, f := range bits {
			w.p("\t%s.%s = bits&(1<<%d) != 0", recv, f.Name, i)
		}
	})
	w.p("\treturn r.end(ID%s)", name)
	w.p("}")
	w.p("")

	// AppendArgs.
	w.p("func (%s *%s) AppendArgs(dst []byte) []byte {", recv, name)
	forEachGroup(fields, func(f genField) {
		w.p("\tdst = %s(dst, %s.%s)", appendFn[f.Type], recv, f.Name)
	}, func(bits []genField) {
		var terms []string
		for i, f := range bits {
			terms = append(terms, fmt.Sprintf("bit(%s.%s, %d)", recv, f.Name, i))
		}
		w.p("\tdst = append(dst, %s)", strings.Join(terms, "|"))
	})
	w.p("\treturn dst")
	w.p("}")
	w.p("")

	// Validate.
	w.p("func (%s *%s) Validate() error {", recv, name)
	for _, f := range fields {
		switch f.Type {
		case "shortstr":
			w.p("\tif len(%s.%s) > maxShortstr {", recv, f.Name)
			w.p("\t\treturn shortstrTooLong(ID%s, %q, len(%s.%s))", name, f.Wire, recv, f.Name)
			w.p("\t}")
		case "table":
			w.p("\tif err := validateTableArg(ID%s, %q, %s.%s); err != nil {", name, f.Wire, recv, f.Name)
			w.p("\t\treturn err")
			w.p("\t}")
		}
	}
	w.p("\treturn nil")
	w.p("}")
	w.p("")
}

// forEachGroup walks fields in wire order, handing each run of consecutive
// bit fields (at most 8, as they share one octet) to bits and every other
// field to one.
func forEachGroup(fields []genField, one func(genField), bits func([]genField)) {
	for i := 0; i < len(fields); {
		if fields[i].Type != "bit" {
			one(fields[i])
			i++
			continue
		}
		j := i
		for j < len(fields) && fields[j].Type == "bit" && j-i < 8 {
			j++
		}
		bits(fields[i:j])
		i = j
	}
}
