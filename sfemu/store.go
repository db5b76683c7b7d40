package sfemu

import (
	"math"
	"sort"
	"strings"
	"time"
	"unsafe"
)

// Records are stored column-wise and versioned: a change never edits a row,
// it appends a new row (a version) for the record and points the record at
// it. Rows are therefore immutable once written, which is what lets a query
// cursor keep serving its snapshot by row number while the org changes.

// nullNum marks a null in a numeric column. As a float64 it is a NaN the
// emulator never stores; as an int64 it is beyond 18 digits and beyond any
// timestamp in milliseconds that Salesforce can hold.
const nullNum int64 = 0x7FF4DEADBEEF0001

// cell is one value in storage form: text in s ("" is null, as Salesforce
// stores no empty strings); everything else in n: booleans 0/1, integers,
// float64 bits, and times in Unix milliseconds (dates at midnight UTC,
// times of day on 1970-01-01).
type cell struct {
	s string
	n int64
}

var nullCell = cell{n: nullNum}

// column holds one field's values. Numeric kinds use num. Text lives in
// append-only byte chunks: ref packs each row's chunk (high 24 bits),
// offset in the chunk (middle 20 bits) and length (low 20 bits; 0 is
// null). Chunk bytes are never overwritten, so a string read from them
// stays valid after the lock is released, and the columns hold no
// pointers for the garbage collector to scan per row. Until a column has
// seen many distinct values, repeated values (picklists, user Ids) are
// stored once.
type column struct {
	kind   valueKind
	num    []int64
	ref    []uint64
	chunks [][]byte
	intern map[string]uint64
	unique bool // too many distinct values: interning is off
}

const (
	refBits      = 20
	refMask      = 1<<refBits - 1
	maxChunk     = 1 << refBits // also the longest text, in bytes, plus one
	firstChunk   = 4 << 10
	internLimit  = 4096 // distinct values remembered per column
	internMaxLen = 4096 // longest value remembered, in bytes
)

// str returns the text in row ("" for null).
func (c *column) str(row int32) string {
	r := c.ref[row]
	n := int(r & refMask)
	if n == 0 {
		return ""
	}
	chunk := c.chunks[r>>(2*refBits)]
	off := int(r >> refBits & refMask)
	return unsafe.String(&chunk[off], n)
}

// store returns the ref of s, appending it to the chunks unless it is
// there already. Text longer than maxChunk-1 bytes is cut (field lengths
// keep text far shorter).
func (c *column) store(s string) uint64 {
	if s == "" {
		return 0
	}
	if len(s) >= maxChunk {
		s = s[:maxChunk-1]
	}
	short := len(s) <= internMaxLen && !c.unique
	if short {
		if r, ok := c.intern[s]; ok {
			return r
		}
	}
	last := len(c.chunks) - 1
	if last < 0 || len(c.chunks[last])+len(s) > cap(c.chunks[last]) {
		size := firstChunk
		if last >= 0 {
			size = min(2*cap(c.chunks[last]), maxChunk)
		}
		c.chunks = append(c.chunks, make([]byte, 0, max(size, len(s))))
		last++
	}
	off := len(c.chunks[last])
	c.chunks[last] = append(c.chunks[last], s...)
	r := uint64(last)<<(2*refBits) | uint64(off)<<refBits | uint64(len(s))
	if short {
		if c.intern == nil {
			c.intern = map[string]uint64{}
		}
		c.intern[strings.Clone(s)] = r
		if len(c.intern) >= internLimit {
			c.intern, c.unique = nil, true
		}
	}
	return r
}

// table holds an object's records.
type table struct {
	cols  []column
	recNo []int32 // row → record number
	cur   []int32 // record number → current row, -1 once purged
	// order lists rows (current and superseded) by the cursor field, ties
	// in the order they were written; orderCol is that field's column or -1.
	order    []int32
	orderCol int
	// deletions is the delete log behind /deleted: one entry per deleted
	// or purged record, removed on undelete.
	deletions []deletion
	// drift, when set, replaces every formula value (SetFormulaDrift).
	drift    any
	hasDrift bool
}

type deletion struct {
	recNo int32
	at    int64 // Unix ms
}

func (t *table) rows() int { return len(t.recNo) }

// addColumn adds a column, null for every existing row.
func (t *table) addColumn(k valueKind) int {
	c := column{kind: k}
	n := t.rows()
	if k == vkString {
		c.ref = make([]uint64, n, n+n/4+16)
	} else {
		c.num = make([]int64, n, n+n/4+16)
		if k != vkBool { // booleans are never null: existing records read false
			for i := range c.num {
				c.num[i] = nullNum
			}
		}
	}
	t.cols = append(t.cols, c)
	return len(t.cols) - 1
}

// grow reserves room for n more rows.
func (t *table) grow(n int) {
	for i := range t.cols {
		c := &t.cols[i]
		if c.kind == vkString {
			c.ref = growSlice(c.ref, n)
		} else {
			c.num = growSlice(c.num, n)
		}
	}
	t.recNo = growSlice(t.recNo, n)
	t.order = growSlice(t.order, n)
}

func growSlice[T any](s []T, n int) []T {
	if cap(s)-len(s) >= n {
		return s
	}
	out := make([]T, len(s), len(s)+n)
	copy(out, s)
	return out
}

// newRow appends a row for record recNo holding a copy of row from, or all
// nulls when from is -1, and returns it. The row is not yet current and not
// yet placed in order: see commit.
func (t *table) newRow(recNo int32, from int32) int32 {
	for i := range t.cols {
		c := &t.cols[i]
		if c.kind == vkString {
			var v uint64
			if from >= 0 {
				v = c.ref[from]
			}
			c.ref = append(c.ref, v)
		} else {
			v := nullNum
			if from >= 0 {
				v = c.num[from]
			}
			c.num = append(c.num, v)
		}
	}
	t.recNo = append(t.recNo, recNo)
	return int32(len(t.recNo) - 1)
}

// commit makes row the current version of its record and places it in
// order.
func (t *table) commit(row int32) {
	rn := t.recNo[row]
	for int(rn) >= len(t.cur) {
		t.cur = append(t.cur, -1)
	}
	t.cur[rn] = row
	t.place(row)
}

// place inserts row into order after every row whose cursor value is not
// greater, so that appending in stamp order costs nothing and a late
// commit (a stamp in the past) lands where it belongs.
func (t *table) place(row int32) {
	if t.orderCol < 0 || len(t.order) == 0 {
		t.order = append(t.order, row)
		return
	}
	col := t.cols[t.orderCol].num
	v := col[row]
	if col[t.order[len(t.order)-1]] <= v {
		t.order = append(t.order, row)
		return
	}
	i := sort.Search(len(t.order), func(i int) bool { return col[t.order[i]] > v })
	t.order = append(t.order, 0)
	copy(t.order[i+1:], t.order[i:])
	t.order[i] = row
}

// current reports whether row is the current version of a record that is
// not purged.
func (t *table) current(row int32) bool {
	rn := t.recNo[row]
	return int(rn) < len(t.cur) && t.cur[rn] == row
}

// rowOf returns the current row of record recNo, or -1.
func (t *table) rowOf(recNo int64) int32 {
	if recNo < 0 || recNo >= int64(len(t.cur)) {
		return -1
	}
	return t.cur[recNo]
}

func (t *table) set(col int, row int32, c cell) {
	if t.cols[col].kind == vkString {
		t.cols[col].ref[row] = t.cols[col].store(c.s)
	} else {
		t.cols[col].num[row] = c.n
	}
}

func (t *table) get(col int, row int32) cell {
	if t.cols[col].kind == vkString {
		return cell{s: t.cols[col].str(row)}
	}
	return cell{n: t.cols[col].num[row]}
}

// isNull reports whether a stored field's value is null in row.
func (o *sobject) isNull(f *field, row int32) bool {
	c := &o.cols[f.col]
	if c.kind == vkString {
		return c.ref[row]&refMask == 0
	}
	return c.num[row] == nullNum
}

// cellValue converts a storage cell of kind k to its Go value: nil, string,
// bool, int64, float64 or time.Time (UTC).
func cellValue(k valueKind, c cell) any {
	if k == vkString {
		if c.s == "" {
			return nil
		}
		return c.s
	}
	if c.n == nullNum {
		return nil
	}
	switch k {
	case vkBool:
		return c.n != 0
	case vkInt:
		return c.n
	case vkFloat:
		return math.Float64frombits(uint64(c.n))
	case vkDate, vkTime, vkDateTime:
		return time.UnixMilli(c.n).UTC()
	}
	return nil
}

// value returns f's value in row as a Go value (see cellValue); formulas are
// evaluated and compound parents read nil.
func (o *sobject) value(f *field, row int32) any {
	switch {
	case f.role == roleID:
		return o.id(row)
	case f.calculated():
		return o.formulaValue(f, row)
	case f.kind == vkCompound:
		return nil
	}
	return cellValue(f.kind, o.get(f.col, row))
}

// boolAt reads a boolean field; false when f is nil.
func (o *sobject) boolAt(f *field, row int32) bool {
	if f == nil {
		return false
	}
	return o.cols[f.col].num[row] == 1
}

// id returns the Id of the record in row.
func (o *sobject) id(row int32) string {
	return makeID(o.idPrefix, int64(o.recNo[row]))
}

// lookup returns the current row of the record with the given Id.
func (o *sobject) lookup(id string) (int32, bool) {
	n, err := parseID(o.idPrefix, id)
	if err != nil {
		return -1, false
	}
	r := o.rowOf(n)
	return r, r >= 0
}

// deleted reports whether the record in row is soft-deleted.
func (o *sobject) deleted(row int32) bool {
	return o.boolAt(o.roleField(roleIsDeleted), row)
}
