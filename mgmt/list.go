package mgmt

import (
	"cmp"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/warrenmq/warren/frame"
)

// maxPageSize is RabbitMQ's largest page_size.
const maxPageSize = 500

// writeList answers a list endpoint with RabbitMQ's query parameters:
// name (a case-insensitive substring, or a regular expression with
// use_regex=true), sort (a column, dotted for nested ones) and
// sort_reverse, columns (the top-level keys to keep), and page/page_size,
// which turn the answer into RabbitMQ's page object. rows come in the
// endpoint's default order.
func writeList(w http.ResponseWriter, r *http.Request, rows []map[string]any) {
	lister{
		n:     len(rows),
		name:  func(i int) string { s, _ := rows[i]["name"].(string); return s },
		asMap: func(i int) map[string]any { return rows[i] },
	}.write(w, r)
}

// lister is a list whose rows are rendered on demand, so that a page of a
// long list renders only that page: name gives row i's name (for the
// filter and the default sort), asMap the row as a map (for sorting on
// other columns and selecting columns), and fast, if set, the same row in
// a form that encodes quicker (a struct with the map's keys in order).
// field, if set, reads one value of row i (a dotted sort key split, or
// one column) as asMap's map holds it without building the map; ok false
// sends that lookup to the map.
type lister struct {
	n     int
	name  func(i int) string
	asMap func(i int) map[string]any
	fast  func(i int) any
	field func(i int, path []string) (any, bool)
}

func (l lister) write(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	paged := q.Has("page") || q.Has("page_size")
	page, size := 1, 100
	if paged {
		var err1, err2 error
		if s := q.Get("page"); s != "" {
			page, err1 = strconv.Atoi(s)
		}
		if s := q.Get("page_size"); s != "" {
			size, err2 = strconv.Atoi(s)
		}
		if err1 != nil || err2 != nil {
			writeError(w, http.StatusBadRequest, "bad_request", "Pagination parameters are invalid")
			return
		}
		if page < 1 || size < 1 || size > maxPageSize {
			writeError(w, http.StatusBadRequest, "invalid_pagination_parameters",
				"Invalid pagination parameters: page number "+strconv.Itoa(page)+", page size "+strconv.Itoa(size))
			return
		}
	}
	idx := make([]int, l.n)
	for i := range idx {
		idx[i] = i
	}
	if name := q.Get("name"); name != "" && paged {
		match, ok := nameMatcher(name, q.Get("use_regex") == "true")
		if !ok {
			writeError(w, http.StatusBadRequest, "bad_request", "invalid regular expression")
			return
		}
		idx = slices.DeleteFunc(idx, func(i int) bool { return !match(l.name(i)) })
	}
	maps := map[int]map[string]any{}
	asMap := func(i int) map[string]any {
		m, ok := maps[i]
		if !ok {
			m = l.asMap(i)
			maps[i] = m
		}
		return m
	}
	switch key := q.Get("sort"); key {
	case "":
	case "name":
		slices.SortStableFunc(idx, func(x, y int) int { return cmp.Compare(l.name(x), l.name(y)) })
	default:
		// Each row's key is read once, not once per comparison.
		path := strings.Split(key, ".")
		keys := make([]any, l.n)
		for _, i := range idx {
			v, ok := any(nil), false
			if l.field != nil {
				v, ok = l.field(i, path)
			}
			if !ok {
				v = lookup(asMap(i), path)
			}
			keys[i] = v
		}
		slices.SortStableFunc(idx, func(x, y int) int { return compareAny(keys[x], keys[y]) })
	}
	if q.Get("sort_reverse") == "true" {
		slices.Reverse(idx)
	}
	filtered := len(idx)
	if paged {
		if (page-1)*size > filtered { // RabbitMQ's bound: a page just past the end is empty, not an error
			writeError(w, http.StatusBadRequest, "page_out_of_range",
				"Page out of range, page: "+strconv.Itoa(page)+" page size: "+strconv.Itoa(size)+", len: "+strconv.Itoa(filtered))
			return
		}
		lo := min((page-1)*size, filtered)
		idx = idx[lo:min(lo+size, filtered)]
	}
	columns := q.Get("columns")
	var cols [][]string
	if columns != "" && l.field != nil {
		for c := range strings.SplitSeq(columns, ",") {
			cols = append(cols, []string{strings.SplitN(c, ".", 2)[0]}) // "a.b" keeps all of a, as selectColumns
		}
	}
	items := make([]any, len(idx))
	for j, i := range idx {
		switch {
		case columns != "" && maps[i] == nil && cols != nil:
			if m, ok := l.columns(i, cols); ok {
				items[j] = m
			} else {
				items[j] = selectColumns([]map[string]any{asMap(i)}, columns)[0]
			}
		case columns != "":
			items[j] = selectColumns([]map[string]any{asMap(i)}, columns)[0]
		case l.fast != nil && maps[i] == nil:
			items[j] = l.fast(i)
		default:
			items[j] = asMap(i)
		}
	}
	if paged {
		writeJSON(w, map[string]any{
			"filtered_count": filtered, "item_count": len(items), "items": items,
			"page": page, "page_count": (filtered + size - 1) / size, "page_size": size, "total_count": l.n,
		})
		return
	}
	writeJSON(w, items)
}

// columns is row i with only cols, read with field; ok false if field
// does not answer for one of them.
func (l lister) columns(i int, cols [][]string) (map[string]any, bool) {
	m := make(map[string]any, len(cols))
	for _, c := range cols {
		v, ok := l.field(i, c)
		if !ok {
			return nil, false
		}
		m[c[0]] = v
	}
	return m, true
}

func nameMatcher(pattern string, regex bool) (func(string) bool, bool) {
	if !regex {
		pattern = regexp.QuoteMeta(pattern)
	}
	re, err := regexp.Compile("(?i)" + pattern)
	if err != nil {
		return nil, false
	}
	return re.MatchString, true
}

// selectColumns keeps the rows' keys named in columns (a comma-separated
// list; "a.b" keeps all of a, as RabbitMQ 3.10 does).
func selectColumns(rows []map[string]any, columns string) []map[string]any {
	if columns == "" {
		return rows
	}
	var keys []string
	for c := range strings.SplitSeq(columns, ",") {
		keys = append(keys, strings.SplitN(c, ".", 2)[0])
	}
	out := make([]map[string]any, len(rows))
	for i, row := range rows {
		m := make(map[string]any, len(keys))
		for _, k := range keys {
			if v, ok := row[k]; ok {
				m[k] = v
			}
		}
		out[i] = m
	}
	return out
}

func lookup(row map[string]any, path []string) any {
	var v any = row
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// compareAny orders missing values first, then numbers, then strings.
func compareAny(x, y any) int {
	fx, xnum := number(x)
	fy, ynum := number(y)
	switch {
	case xnum && ynum:
		return cmp.Compare(fx, fy)
	case x == nil || y == nil:
		return cmp.Compare(boolInt(x != nil), boolInt(y != nil))
	case xnum != ynum:
		return cmp.Compare(boolInt(!xnum), boolInt(!ynum))
	}
	return cmp.Compare(toString(x), toString(y))
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case int32:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

func toString(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case bool:
		return strconv.FormatBool(s)
	}
	return ""
}

// tableJSON is an AMQP field table as RabbitMQ's management API prints it:
// byte strings as text, decimals as numbers, nested tables and arrays
// converted alike.
func tableJSON(t frame.Table) map[string]any {
	if t == nil {
		return nil
	}
	out := make(map[string]any, len(t))
	for k, v := range t {
		out[k] = fieldJSON(v)
	}
	return out
}

func fieldJSON(v any) any {
	switch x := v.(type) {
	case frame.Table:
		return tableJSON(x)
	case map[string]any:
		return tableJSON(frame.Table(x))
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = fieldJSON(e)
		}
		return out
	case []byte:
		return string(x)
	case frame.Decimal:
		f := float64(x.Value)
		for range x.Scale {
			f /= 10
		}
		return f
	}
	return v
}
