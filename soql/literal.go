// Package soql builds SOQL statements safely: literals are escaped by the
// rules of the SOQL reference, and object and field names are accepted only
// when they come from a describe and look like API names. Nothing here talks
// to Salesforce.
package soql

import (
	"strings"
	"time"
)

// DateTimeLayout is the datetime literal form SOQL documents: UTC with a "Z"
// and whole seconds. Literals are unquoted.
const DateTimeLayout = "2006-01-02T15:04:05Z"

// DateLayout is the date literal form SOQL documents. Literals are unquoted.
const DateLayout = "2006-01-02"

const hexDigits = "0123456789abcdef"

// Quote returns s as a single-quoted SOQL string literal. Backslash, both
// quote characters, newline, carriage return and tab get their two-character
// escapes; every other control character (and DEL) becomes a \uXXXX escape.
// All other bytes, including non-ASCII text, pass through unchanged, so the
// literal reads back as exactly s.
func Quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\\':
			b.WriteString(`\\`)
		case '\'':
			b.WriteString(`\'`)
		case '"':
			b.WriteString(`\"`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 || c == 0x7f {
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xf])
				continue
			}
			b.WriteByte(c)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// DateTime returns t as a SOQL datetime literal in UTC
// ("2024-01-02T03:04:05Z"). SOQL literals carry whole seconds only, so any
// sub-second part is dropped: DateTime is DateTimeFloor. Use DateTimeFloor
// for inclusive lower bounds and DateTimeCeil for exclusive upper bounds, so
// a window never loses a record whose timestamp has milliseconds.
func DateTime(t time.Time) string {
	return DateTimeFloor(t)
}

// DateTimeFloor renders t rounded down to the whole second, in UTC. A lower
// bound rounded down selects a little more, never less.
func DateTimeFloor(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format(DateTimeLayout)
}

// DateTimeCeil renders t rounded up to the next whole second when it has a
// sub-second part, in UTC. An exclusive upper bound rounded up selects a
// little more, never less; the overlap with the next window (whose lower
// bound is rounded down) is harmless because records are deduplicated by Id.
func DateTimeCeil(t time.Time) string {
	u := t.UTC()
	if f := u.Truncate(time.Second); !f.Equal(u) {
		u = f.Add(time.Second)
	}
	return u.Format(DateTimeLayout)
}

// Date returns the calendar date of t, in t's own location, as a SOQL date
// literal ("2024-01-02"). Dates decoded from Salesforce are midnight UTC, so
// they render as the day they name.
func Date(t time.Time) string {
	return t.Format(DateLayout)
}
