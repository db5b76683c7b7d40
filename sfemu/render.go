package sfemu

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// Values are rendered by hand, appending to a byte slice, in the REST
// formats: datetimes 2024-01-02T03:04:05.000+0000, dates 2024-01-02, times
// 13:30:00.000Z, doubles as Java prints them (1.39E8, 15000.0), nulls as
// null, address and location fields as objects with lower-camel keys.

const (
	restDateTime = "2006-01-02T15:04:05.000-0700"
	restDate     = "2006-01-02"
	restTime     = "15:04:05.000Z"
)

// appendField appends the JSON value of f in row.
func (o *sobject) appendField(b []byte, f *field, row int32) []byte {
	switch {
	case f.role == roleID:
		b = append(b, '"')
		b = append(b, o.id(row)...)
		return append(b, '"')
	case f.calculated():
		return appendValue(b, f.kind, o.formulaValue(f, row))
	case f.kind == vkCompound:
		return o.appendCompound(b, f, row)
	}
	c := &o.cols[f.col]
	if c.kind == vkString {
		s := c.str(row)
		if s == "" {
			return append(b, "null"...)
		}
		return appendString(b, s)
	}
	return appendNum(b, f.kind, c.num[row])
}

// appendCompound renders an address or location field as an object of its
// components, or null when every component is null.
func (o *sobject) appendCompound(b []byte, f *field, row int32) []byte {
	empty := true
	for _, p := range f.parts {
		if !o.isNull(o.fields[p.field], row) {
			empty = false
			break
		}
	}
	if empty {
		return append(b, "null"...)
	}
	b = append(b, '{')
	for i, p := range f.parts {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, p.key...)
		b = append(b, '"', ':')
		b = o.appendField(b, o.fields[p.field], row)
	}
	return append(b, '}')
}

// appendNum renders a numeric-column value of kind k.
func appendNum(b []byte, k valueKind, n int64) []byte {
	if n == nullNum {
		return append(b, "null"...)
	}
	switch k {
	case vkBool:
		return strconv.AppendBool(b, n != 0)
	case vkInt:
		return strconv.AppendInt(b, n, 10)
	case vkFloat:
		return appendJavaDouble(b, math.Float64frombits(uint64(n)))
	case vkDateTime:
		b = append(b, '"')
		b = time.UnixMilli(n).UTC().AppendFormat(b, restDateTime)
		return append(b, '"')
	case vkDate:
		b = append(b, '"')
		b = time.UnixMilli(n).UTC().AppendFormat(b, restDate)
		return append(b, '"')
	case vkTime:
		b = append(b, '"')
		b = time.UnixMilli(n).UTC().AppendFormat(b, restTime)
		return append(b, '"')
	}
	return append(b, "null"...)
}

// appendValue renders a Go value (as returned by object.value) of kind k.
func appendValue(b []byte, k valueKind, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendString(b, x)
	case bool:
		return strconv.AppendBool(b, x)
	case int64:
		return strconv.AppendInt(b, x, 10)
	case float64:
		if k == vkInt {
			return strconv.AppendInt(b, int64(x), 10)
		}
		return appendJavaDouble(b, x)
	case time.Time:
		return appendNum(b, k, x.UnixMilli())
	}
	return append(b, "null"...)
}

// appendJavaDouble renders x as Java's Double.toString does, which is what
// Salesforce's JSON carries: plain notation with at least one decimal for
// magnitudes in [1e-3, 1e7), otherwise d.dddE±n.
func appendJavaDouble(b []byte, x float64) []byte {
	abs := math.Abs(x)
	if x == 0 || (abs >= 1e-3 && abs < 1e7) {
		start := len(b)
		b = strconv.AppendFloat(b, x, 'f', -1, 64)
		for _, c := range b[start:] {
			if c == '.' {
				return b
			}
		}
		return append(b, '.', '0')
	}
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], x, 'e', -1, 64)
	i := 0
	for i < len(e) && e[i] != 'e' {
		i++
	}
	mant, exp := e[:i], e[i+1:]
	b = append(b, mant...)
	hasDot := false
	for _, c := range mant {
		if c == '.' {
			hasDot = true
		}
	}
	if !hasDot {
		b = append(b, '.', '0')
	}
	b = append(b, 'E')
	if exp[0] == '-' {
		b = append(b, '-')
	}
	exp = exp[1:]
	for len(exp) > 1 && exp[0] == '0' {
		exp = exp[1:]
	}
	return append(b, exp...)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
