package salesforce

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"time"

	"github.com/sfsync/sfsync"
)

// queryPage is one decoded page of a query result.
type queryPage struct {
	total   int64
	done    bool
	next    string
	records []sfsync.Record   // typed decoding
	raw     []json.RawMessage // raw decoding
}

// recordDecoder turns a page body into sfsync.Records laid out as fields.
// It is not safe for concurrent use.
type recordDecoder struct {
	object string
	fields []sfsync.Field
	kinds  []sfsync.Kind
	index  map[string]int
	idIdx  int
	slab   []any // values of records to come, allocated in chunks
}

func newRecordDecoder(object string, fields []sfsync.Field) *recordDecoder {
	d := &recordDecoder{
		object: object,
		fields: fields,
		kinds:  make([]sfsync.Kind, len(fields)),
		index:  make(map[string]int, len(fields)),
		idIdx:  -1,
	}
	for i, f := range fields {
		d.kinds[i] = f.Kind()
		d.index[f.Name] = i
		if f.Name == "Id" {
			d.idIdx = i
		}
	}
	return d
}

// lookup finds the selected field a key names: the hinted one (Salesforce
// sends fields in SELECT order), else exactly by name, else ignoring case.
func (d *recordDecoder) lookup(key []byte, hint int) (int, bool) {
	if hint < len(d.fields) && d.fields[hint].Name == string(key) {
		return hint, true
	}
	if i, ok := d.index[string(key)]; ok {
		return i, true
	}
	for i, f := range d.fields {
		if len(f.Name) == len(key) && bytes.EqualFold([]byte(f.Name), key) {
			return i, true
		}
	}
	return -1, false
}

// page decodes a whole query response. With d nil it keeps each record's
// raw JSON instead.
func decodePage(data []byte, d *recordDecoder) (*queryPage, error) {
	s := &scanner{data: data}
	p := &queryPage{total: -1, done: true}
	empty, err := s.openContainer('{', '}')
	if err != nil {
		return nil, err
	}
	for !empty {
		key, err := s.str()
		if err != nil {
			return nil, err
		}
		if err := s.expect(':'); err != nil {
			return nil, err
		}
		switch string(key) {
		case "totalSize":
			num, err := s.number()
			if err != nil {
				return nil, err
			}
			n, err := strconv.ParseInt(string(num), 10, 64)
			if err != nil {
				return nil, s.fail("totalSize %s is not a whole number", num)
			}
			p.total = n
		case "done":
			if p.done, err = s.boolean(); err != nil {
				return nil, err
			}
		case "nextRecordsUrl":
			b, err := s.peek()
			if err != nil {
				return nil, err
			}
			if b == 'n' {
				err = s.word("null")
			} else {
				var u []byte
				u, err = s.str()
				p.next = string(u)
			}
			if err != nil {
				return nil, err
			}
		case "records":
			if d == nil {
				err = decodeRaw(s, p)
			} else {
				err = d.records(s, p)
			}
			if err != nil {
				return nil, err
			}
		default:
			if err := s.skip(0); err != nil {
				return nil, err
			}
		}
		more, err := s.next('}')
		if err != nil {
			return nil, err
		}
		empty = !more
	}
	if err := s.end(); err != nil {
		return nil, err
	}
	if !p.done && p.next == "" {
		return nil, fmt.Errorf("page says more records follow but has no nextRecordsUrl: %w", sfsync.ErrPermanent)
	}
	return p, nil
}

func decodeRaw(s *scanner, p *queryPage) error {
	b, err := s.peek()
	if err != nil {
		return err
	}
	if b == 'n' {
		return s.word("null")
	}
	empty, err := s.openContainer('[', ']')
	if err != nil || empty {
		return err
	}
	for {
		r, err := s.raw()
		if err != nil {
			return err
		}
		p.raw = append(p.raw, json.RawMessage(r))
		more, err := s.next(']')
		if err != nil || !more {
			return err
		}
	}
}

// records decodes the records array.
func (d *recordDecoder) records(s *scanner, p *queryPage) error {
	b, err := s.peek()
	if err != nil {
		return err
	}
	if b == 'n' {
		return s.word("null")
	}
	empty, err := s.openContainer('[', ']')
	if err != nil || empty {
		return err
	}
	for {
		rec, err := d.record(s)
		if err != nil {
			return err
		}
		p.records = append(p.records, rec)
		more, err := s.next(']')
		if err != nil || !more {
			return err
		}
	}
}

// record decodes one record object. A value that does not fit its field is
// reported once the record has been read, so the error can name its Id.
func (d *recordDecoder) record(s *scanner) (sfsync.Record, error) {
	n := len(d.fields)
	if len(d.slab) < n {
		d.slab = make([]any, n*256)
	}
	rec := sfsync.Record(d.slab[:n:n])
	d.slab = d.slab[n:]

	var bad *decodeError
	var id string
	hint := 0
	empty, err := s.openContainer('{', '}')
	if err != nil {
		return nil, err
	}
	for !empty {
		key, err := s.str()
		if err != nil {
			return nil, err
		}
		if err := s.expect(':'); err != nil {
			return nil, err
		}
		i, ok := -1, false
		if string(key) != "attributes" {
			i, ok = d.lookup(key, hint)
		}
		switch {
		case ok:
			hint = i + 1
			v, verr := d.value(s, i)
			if verr != nil {
				if !isFitError(verr) {
					return nil, verr
				}
				if bad == nil {
					bad = &decodeError{Object: d.object, Field: d.fields[i].Name, Err: verr}
				}
			}
			rec[i] = v
		case string(key) == "Id":
			b, err := s.peek()
			if err != nil {
				return nil, err
			}
			if b == '"' {
				v, err := s.str()
				if err != nil {
					return nil, err
				}
				id = string(v)
			} else if err := s.skip(0); err != nil {
				return nil, err
			}
		default:
			if err := s.skip(0); err != nil {
				return nil, err
			}
		}
		more, err := s.next('}')
		if err != nil {
			return nil, err
		}
		empty = !more
	}
	if bad != nil {
		bad.ID = id
		if d.idIdx >= 0 {
			if v, ok := rec[d.idIdx].(string); ok {
				bad.ID = v
			}
		}
		return nil, bad
	}
	return rec, nil
}

// fitError is a well-formed value that does not fit its field.
type fitError struct{ msg string }

func (e *fitError) Error() string { return e.msg }

func isFitError(err error) bool {
	var fe *fitError
	return errors.As(err, &fe)
}

func misfit(format string, args ...any) error {
	return &fitError{msg: fmt.Sprintf(format, args...)}
}

// value decodes the value of field i.
func (d *recordDecoder) value(s *scanner, i int) (any, error) {
	b, err := s.peek()
	if err != nil {
		return nil, err
	}
	kind := d.kinds[i]
	switch {
	case b == 'n':
		return nil, s.word("null")
	case b == '"':
		v, err := s.str()
		if err != nil {
			return nil, err
		}
		return fromString(kind, v)
	case b == 't' || b == 'f':
		v, err := s.boolean()
		if err != nil {
			return nil, err
		}
		switch kind {
		case sfsync.KindBool:
			return v, nil
		case sfsync.KindString, sfsync.KindCompound:
			return strconv.FormatBool(v), nil
		}
		return nil, misfit("want %s, got a boolean", kind)
	case b == '-' || b >= '0' && b <= '9':
		v, err := s.number()
		if err != nil {
			return nil, err
		}
		return fromNumber(kind, v)
	case b == '{' || b == '[':
		v, err := s.raw()
		if err != nil {
			return nil, err
		}
		if kind == sfsync.KindString || kind == sfsync.KindCompound {
			return string(v), nil
		}
		return nil, misfit("want %s, got a JSON %s", kind, map[byte]string{'{': "object", '[': "array"}[b])
	}
	return nil, s.fail("unexpected %q", b)
}

// fromString converts a JSON string to the field's kind. Numbers and
// booleans sent as strings are accepted when they parse.
func fromString(kind sfsync.Kind, v []byte) (any, error) {
	switch kind {
	case sfsync.KindString, sfsync.KindCompound:
		return string(v), nil
	case sfsync.KindDateTime:
		if t, ok := fastDateTime(v); ok {
			return t, nil
		}
		t, err := sfsync.ParseDateTime(string(v))
		if err != nil {
			return nil, misfit("datetime %q: want 2006-01-02T15:04:05.000+0000", clip(v))
		}
		return t, nil
	case sfsync.KindDate:
		if t, ok := fastDate(v); ok {
			return t, nil
		}
		t, err := sfsync.ParseDate(string(v))
		if err != nil {
			return nil, misfit("date %q: want 2006-01-02", clip(v))
		}
		return t, nil
	case sfsync.KindTime:
		t, err := sfsync.ParseTime(string(v))
		if err != nil {
			return nil, misfit("time %q: want 15:04:05.000Z", clip(v))
		}
		return t, nil
	case sfsync.KindBool:
		switch string(v) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, misfit("want a boolean, got %q", clip(v))
	case sfsync.KindInt, sfsync.KindDecimal, sfsync.KindFloat:
		if !isNumber(v) {
			return nil, misfit("want a number, got %q", clip(v))
		}
		return fromNumber(kind, v)
	}
	return nil, misfit("no decoding for %s", kind)
}

// fromNumber converts a JSON number's text to the field's kind.
func fromNumber(kind sfsync.Kind, num []byte) (any, error) {
	switch kind {
	case sfsync.KindDecimal:
		return decimalOf(num)
	case sfsync.KindInt:
		return intOf(num)
	case sfsync.KindFloat:
		f, err := strconv.ParseFloat(string(num), 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, misfit("number %s is out of range for a float", clip(num))
		}
		return f, nil
	case sfsync.KindString, sfsync.KindCompound:
		return string(num), nil
	}
	return nil, misfit("want %s, got the number %s", kind, clip(num))
}

// decimalOf renders a JSON number as a canonical Decimal. Plain numbers are
// canonicalised by trimming; exponent forms go through exact arithmetic.
func decimalOf(num []byte) (any, error) {
	if bytes.ContainsAny(num, "eE") {
		dec, err := sfsync.ParseDecimal(string(num))
		if err != nil {
			return nil, misfit("number %s: %v", clip(num), err)
		}
		return dec, nil
	}
	t := num
	if bytes.IndexByte(t, '.') >= 0 {
		t = bytes.TrimRight(t, "0")
		t = bytes.TrimSuffix(t, []byte("."))
	}
	if string(t) == "-0" {
		return sfsync.Decimal("0"), nil
	}
	return sfsync.Decimal(t), nil
}

// intOf parses a whole number into int64; "5.0" and "1.2E3" are accepted
// when they are whole.
func intOf(num []byte) (any, error) {
	neg := false
	digits := num
	if len(digits) > 0 && digits[0] == '-' {
		neg, digits = true, digits[1:]
	}
	if len(digits) > 0 && len(digits) <= 18 {
		var n int64
		plain := true
		for _, c := range digits {
			if c < '0' || c > '9' {
				plain = false
				break
			}
			n = n*10 + int64(c-'0')
		}
		if plain {
			if neg {
				n = -n
			}
			return n, nil
		}
	}
	r, ok := new(big.Rat).SetString(string(num))
	if !ok {
		return nil, misfit("want a whole number, got %s", clip(num))
	}
	if !r.IsInt() {
		return nil, misfit("want a whole number, got %s", clip(num))
	}
	if !r.Num().IsInt64() {
		return nil, misfit("number %s is out of range for a 64-bit integer", clip(num))
	}
	return r.Num().Int64(), nil
}

// fastDateTime parses the two layouts Salesforce sends
// ("2024-01-02T03:04:05.000+0000" and "...Z", milliseconds optional) without
// the general parser; anything else goes to sfsync.ParseDateTime.
func fastDateTime(b []byte) (time.Time, bool) {
	if len(b) < 20 || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	date, ok := fastDate(b[:10])
	if !ok {
		return time.Time{}, false
	}
	hh, ok1 := two(b[11:13])
	mm, ok2 := two(b[14:16])
	ss, ok3 := two(b[17:19])
	if !ok1 || !ok2 || !ok3 || hh > 23 || mm > 59 || ss > 59 {
		return time.Time{}, false
	}
	rest := b[19:]
	ms := 0
	if len(rest) >= 4 && rest[0] == '.' {
		a, okA := two(rest[1:3])
		c := rest[3]
		if !okA || c < '0' || c > '9' {
			return time.Time{}, false
		}
		ms = a*10 + int(c-'0')
		rest = rest[4:]
	}
	switch string(rest) {
	case "Z", "+0000", "+00:00", "-0000":
	default:
		return time.Time{}, false
	}
	return date.Add(time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute +
		time.Duration(ss)*time.Second + time.Duration(ms)*time.Millisecond), true
}

// fastDate parses "2006-01-02" as midnight UTC, rejecting impossible dates.
func fastDate(b []byte) (time.Time, bool) {
	if len(b) != 10 || b[4] != '-' || b[7] != '-' {
		return time.Time{}, false
	}
	y1, ok1 := two(b[0:2])
	y2, ok2 := two(b[2:4])
	mo, ok3 := two(b[5:7])
	dd, ok4 := two(b[8:10])
	if !ok1 || !ok2 || !ok3 || !ok4 || mo < 1 || mo > 12 || dd < 1 {
		return time.Time{}, false
	}
	t := time.Date(y1*100+y2, time.Month(mo), dd, 0, 0, 0, 0, time.UTC)
	if t.Day() != dd {
		return time.Time{}, false
	}
	return t, true
}

func two(b []byte) (int, bool) {
	if b[0] < '0' || b[0] > '9' || b[1] < '0' || b[1] > '9' {
		return 0, false
	}
	return int(b[0]-'0')*10 + int(b[1]-'0'), true
}

// clip shortens a value quoted in an error.
func clip(b []byte) string {
	const max = 40
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}
