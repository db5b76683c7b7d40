package salesforce

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"github.com/sfsync/sfsync"
)

// csvReader splits Bulk API 2.0 result CSV into records while it streams
// in: RFC 4180 quoting with doubled quotes, values spanning lines inside
// quotes (kept byte for byte, CR LF included), LF or CRLF line endings and
// any one-byte delimiter. A quote inside an unquoted value is taken
// literally. Blank lines are skipped. Values have no length limit; memory
// holds one record at a time.
//
// It is not safe for concurrent use.
type csvReader struct {
	br    *bufio.Reader
	delim byte
	recs  int    // records read, the header included
	buf   []byte // the current record's values, unquoted, back to back
	ends  []int  // where each value of the current record ends in buf
	long  []byte // a line longer than br's buffer
}

// csvBufferSize is the read buffer of a csvReader.
const csvBufferSize = 64 << 10

func newCSVReader(r io.Reader, delim byte) *csvReader {
	return &csvReader{br: bufio.NewReaderSize(r, csvBufferSize), delim: delim}
}

// reset makes r read from a new input.
func (r *csvReader) reset(in io.Reader) {
	r.br.Reset(in)
	r.recs = 0
}

// csvError is malformed CSV. It is permanent: the same bytes come back when
// the page is fetched again.
type csvError struct {
	record int // 1-based, the header being record 1
	msg    string
}

func (e *csvError) Error() string {
	return fmt.Sprintf("malformed CSV in record %d: %s", e.record, e.msg)
}

func (e *csvError) Unwrap() error { return sfsync.ErrPermanent }

// fields returns how many values the current record has.
func (r *csvReader) fields() int { return len(r.ends) }

// field returns value i of the current record; it aliases r's buffer.
func (r *csvReader) field(i int) []byte {
	start := 0
	if i > 0 {
		start = r.ends[i-1]
	}
	return r.buf[start:r.ends[i]]
}

// readLine returns the next line with its line feed, if any. The slice is
// valid until the next call.
func (r *csvReader) readLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		r.long = append(r.long[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = r.br.ReadSlice('\n')
			r.long = append(r.long, line...)
		}
		line = r.long
	}
	return line, err
}

// read reads the next record. It returns io.EOF at the clean end of the
// input; an error wrapping io.ErrUnexpectedEOF when the input stops inside
// a quoted value (a body cut short); a *csvError for malformed input; and
// the input's own read errors, wrapped.
func (r *csvReader) read() error {
	r.buf, r.ends = r.buf[:0], r.ends[:0]
	var line []byte
	atEOF := false
	for {
		l, err := r.readLine()
		if err != nil && err != io.EOF {
			return fmt.Errorf("read CSV record %d: %w", r.recs+1, err)
		}
		if len(l) == 0 || (err == io.EOF && isBlankLine(l)) {
			return io.EOF
		}
		if isBlankLine(l) {
			continue
		}
		line, atEOF = l, err == io.EOF
		break
	}
	r.recs++
	pos := 0
	for {
		if pos < len(line) && line[pos] == '"' {
			pos++
			for {
				i := bytes.IndexByte(line[pos:], '"')
				if i < 0 {
					// The value goes on past this line.
					r.buf = append(r.buf, line[pos:]...)
					if atEOF {
						return r.truncated()
					}
					l, err := r.readLine()
					if err != nil && err != io.EOF {
						return fmt.Errorf("read CSV record %d: %w", r.recs, err)
					}
					if len(l) == 0 {
						return r.truncated()
					}
					line, pos, atEOF = l, 0, err == io.EOF
					continue
				}
				r.buf = append(r.buf, line[pos:pos+i]...)
				pos += i + 1
				if pos < len(line) && line[pos] == '"' {
					r.buf = append(r.buf, '"')
					pos++
					continue
				}
				break
			}
			r.ends = append(r.ends, len(r.buf))
			rest := line[pos:]
			switch {
			case len(rest) > 0 && rest[0] == r.delim:
				pos++
			case len(rest) == 0 || string(rest) == "\n" || string(rest) == "\r\n":
				return nil
			default:
				return &csvError{record: r.recs, msg: fmt.Sprintf("unexpected %q after a closing quote", rest[0])}
			}
			continue
		}
		if i := bytes.IndexByte(line[pos:], r.delim); i >= 0 {
			r.buf = append(r.buf, line[pos:pos+i]...)
			r.ends = append(r.ends, len(r.buf))
			pos += i + 1
			continue
		}
		v := line[pos:]
		if n := len(v); n > 0 && v[n-1] == '\n' {
			v = v[:n-1]
			if n := len(v); n > 0 && v[n-1] == '\r' {
				v = v[:n-1]
			}
		}
		r.buf = append(r.buf, v...)
		r.ends = append(r.ends, len(r.buf))
		return nil
	}
}

func (r *csvReader) truncated() error {
	return fmt.Errorf("CSV record %d: the body ends inside a quoted value: %w", r.recs, io.ErrUnexpectedEOF)
}

func isBlankLine(l []byte) bool {
	return len(l) == 0 || string(l) == "\n" || string(l) == "\r\n"
}

// csvDecoder turns CSV records into sfsync.Records laid out as fields. An
// empty value is null: Salesforce stores no empty text, and Bulk results
// write nulls as empty values, quoted or not.
//
// It is not safe for concurrent use.
type csvDecoder struct {
	object string
	fields []sfsync.Field
	kinds  []sfsync.Kind
	cols   []int // the field of each column, -1 for a column not selected
	idCol  int   // the Id column, or -1
	slab   []any // values of records to come, allocated in chunks
}

func newCSVDecoder(object string, fields []sfsync.Field) *csvDecoder {
	d := &csvDecoder{object: object, fields: fields, kinds: make([]sfsync.Kind, len(fields)), idCol: -1}
	for i, f := range fields {
		d.kinds[i] = f.Kind()
	}
	return d
}

// header maps the columns of the header record to the selected fields:
// by exact name, else ignoring case. Every selected field needs a column.
func (d *csvDecoder) header(r *csvReader) error {
	d.cols = d.cols[:0]
	d.idCol = -1
	found := make([]bool, len(d.fields))
	for c := range r.fields() {
		name := r.field(c)
		idx := -1
		for i, f := range d.fields {
			if !found[i] && f.Name == string(name) {
				idx = i
				break
			}
		}
		if idx < 0 {
			for i, f := range d.fields {
				if !found[i] && bytes.EqualFold([]byte(f.Name), name) {
					idx = i
					break
				}
			}
		}
		if idx >= 0 {
			found[idx] = true
			if d.fields[idx].Name == "Id" {
				d.idCol = c
			}
		}
		d.cols = append(d.cols, idx)
	}
	for i, ok := range found {
		if !ok {
			return fmt.Errorf("bulk results of %s have no column for field %s: %w", d.object, d.fields[i].Name, sfsync.ErrPermanent)
		}
	}
	return nil
}

// record decodes the current record of r. A value that does not fit its
// field is a *decodeError naming the record's Id.
func (d *csvDecoder) record(r *csvReader) (sfsync.Record, error) {
	if r.fields() != len(d.cols) {
		return nil, &csvError{record: r.recs, msg: fmt.Sprintf("%d values for %d columns", r.fields(), len(d.cols))}
	}
	n := len(d.fields)
	if len(d.slab) < n {
		d.slab = make([]any, n*256)
	}
	rec := sfsync.Record(d.slab[:n:n])
	d.slab = d.slab[n:]

	// One string holds the record's text; text values are slices of it.
	text := string(r.buf)
	var bad *decodeError
	start := 0
	for c, end := range r.ends {
		lo := start
		start = end
		i := d.cols[c]
		if i < 0 || end == lo {
			continue
		}
		var v any
		var err error
		switch d.kinds[i] {
		case sfsync.KindString, sfsync.KindCompound:
			v = text[lo:end]
		case sfsync.KindDecimal:
			v, err = csvDecimal(text[lo:end])
		default:
			v, err = fromString(d.kinds[i], r.buf[lo:end])
		}
		if err != nil {
			if bad == nil {
				bad = &decodeError{Object: d.object, Field: d.fields[i].Name, Err: err}
			}
			continue
		}
		rec[i] = v
	}
	if bad != nil {
		if d.idCol >= 0 {
			bad.ID = string(r.field(d.idCol))
		}
		return nil, bad
	}
	return rec, nil
}

// csvDecimal canonicalises a number's text without copying it when it is
// plain (no exponent): trailing fractional zeros go, "-0" is "0".
func csvDecimal(s string) (any, error) {
	b := []byte(s) // does not escape; the compiler avoids the copy
	if !isNumber(b) {
		return nil, misfit("want a number, got %q", clip(b))
	}
	for i := 0; i < len(s); i++ {
		if s[i] == 'e' || s[i] == 'E' {
			return decimalOf(b)
		}
	}
	t := s
	for i := 0; i < len(t); i++ {
		if t[i] == '.' {
			for len(t) > 0 && t[len(t)-1] == '0' {
				t = t[:len(t)-1]
			}
			if t[len(t)-1] == '.' {
				t = t[:len(t)-1]
			}
			break
		}
	}
	if t == "-0" {
		t = "0"
	}
	return sfsync.Decimal(t), nil
}
