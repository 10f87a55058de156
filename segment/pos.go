package segment

import "fmt"

// Pos names a record: the segment it lives in and its byte offset there.
// Positions order records the way they were appended, so a queue can keep
// requeued messages sorted and compare against a "delivered up to" mark.
type Pos struct {
	Seg uint32
	Off uint32
}

// Less orders positions by (Seg, Off).
func (p Pos) Less(o Pos) bool {
	return p.Seg < o.Seg || (p.Seg == o.Seg && p.Off < o.Off)
}

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Seg, p.Off) }
