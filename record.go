package sfsync

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Record is one decoded Salesforce record: one value per selected field, in
// the order of the Window's Fields. The Go type of each value follows the
// field's Kind:
//
//	KindString   string
//	KindBool     bool
//	KindInt      int64
//	KindDecimal  Decimal
//	KindFloat    float64
//	KindDate     time.Time, midnight UTC of the date
//	KindTime     time.Time, the clock time on 1970-01-01 UTC
//	KindDateTime time.Time in UTC
//
// A null is a nil value, whatever the kind.
type Record []any

// Decimal is an exact decimal number in canonical plain text: an optional
// minus sign, digits, and a fractional part without trailing zeros, never an
// exponent ("-1234.5", "0", "139000000"). Salesforce sends numbers in JSON,
// sometimes in exponent form, and as CSV text; Decimal keeps every digit so a
// currency value lands in the warehouse exactly as the source holds it.
type Decimal string

// ParseDecimal parses a decimal number in plain or exponent form ("1.39E8",
// "-0.5e-3", "+12.50") into canonical form, exactly.
func ParseDecimal(s string) (Decimal, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return "", fmt.Errorf("parse decimal %q: empty", s)
	}
	if d, ok := plainDecimal(t); ok {
		return d, nil
	}
	return parseDecimalRat(s, t)
}

// parseDecimalRat is ParseDecimal for every input, through big.Rat; t is
// s trimmed.
func parseDecimalRat(s, t string) (Decimal, error) {
	for _, c := range t {
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return "", fmt.Errorf("parse decimal %q: invalid character %q", s, c)
		}
	}
	r, ok := new(big.Rat).SetString(t)
	if !ok {
		return "", fmt.Errorf("parse decimal %q: not a number", s)
	}
	return DecimalFromRat(r)
}

// plainDecimal canonicalises the common form of a decimal, an optional
// sign, digits and an optional fractional part of digits ("-1234.50"),
// without big.Rat, and without allocating when t is canonical already.
// ok is false for any other form, which ParseDecimal then parses slowly.
func plainDecimal(t string) (d Decimal, ok bool) {
	digits := t
	neg := false
	switch digits[0] {
	case '-':
		neg, digits = true, digits[1:]
	case '+':
		digits = digits[1:]
	}
	whole, frac, dot := strings.Cut(digits, ".")
	if whole == "" || dot && frac == "" {
		return "", false
	}
	for i := 0; i < len(whole); i++ {
		if whole[i] < '0' || whole[i] > '9' {
			return "", false
		}
	}
	for i := 0; i < len(frac); i++ {
		if frac[i] < '0' || frac[i] > '9' {
			return "", false
		}
	}
	w := strings.TrimLeft(whole, "0")
	if w == "" {
		w = "0"
	}
	f := strings.TrimRight(frac, "0")
	if w == "0" && f == "" {
		return "0", true
	}
	if w == whole && f == frac && (!dot || f != "") && t[0] != '+' {
		return Decimal(t), true // canonical already
	}
	out := w
	if f != "" {
		out += "." + f
	}
	if neg {
		out = "-" + out
	}
	return Decimal(out), true
}

// DecimalFromRat renders r as a Decimal; it fails when r has no finite
// decimal expansion (1/3).
func DecimalFromRat(r *big.Rat) (Decimal, error) {
	if r.IsInt() {
		return Decimal(r.Num().String()), nil
	}
	// A fraction has a finite decimal expansion iff its reduced denominator
	// has no prime factors other than 2 and 5.
	den := new(big.Int).Set(r.Denom())
	scale := 0
	two, five, ten := big.NewInt(2), big.NewInt(5), big.NewInt(10)
	mod := new(big.Int)
	for {
		if mod.Mod(den, ten).Sign() == 0 {
			den.Div(den, ten)
		} else if mod.Mod(den, two).Sign() == 0 {
			den.Div(den, two)
		} else if mod.Mod(den, five).Sign() == 0 {
			den.Div(den, five)
		} else {
			break
		}
		scale++
		if scale > 1000 {
			return "", fmt.Errorf("decimal %s: too many fractional digits", r.String())
		}
	}
	if den.Cmp(big.NewInt(1)) != 0 {
		return "", fmt.Errorf("decimal %s: no finite decimal expansion", r.String())
	}
	text := r.FloatString(scale)
	if strings.Contains(text, ".") {
		text = strings.TrimRight(strings.TrimRight(text, "0"), ".")
	}
	if text == "-0" {
		text = "0"
	}
	return Decimal(text), nil
}

// Rat returns d as an exact rational.
func (d Decimal) Rat() (*big.Rat, bool) {
	return new(big.Rat).SetString(string(d))
}

// Scaled returns the unscaled integer of d at the given scale (d × 10^scale)
// and reports whether that is exact and fits the given precision (total
// digits). It is how a warehouse puts d into a DECIMAL(precision, scale).
// Plain decimal text that fits takes a fast path without rational
// arithmetic (staging spends most of its Go time here otherwise).
func (d Decimal) Scaled(precision, scale int) (*big.Int, error) {
	if n, ok := scaledFast(string(d), precision, scale); ok {
		return n, nil
	}
	return d.scaledExact(precision, scale)
}

// scaledExact is Scaled by rational arithmetic, for every input.
func (d Decimal) scaledExact(precision, scale int) (*big.Int, error) {
	r, ok := d.Rat()
	if !ok {
		return nil, fmt.Errorf("decimal %q: not a number", string(d))
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	if !r.IsInt() {
		return nil, fmt.Errorf("decimal %s has more than %d fractional digits", string(d), scale)
	}
	n := new(big.Int).Set(r.Num())
	limit := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(precision)), nil)
	if new(big.Int).Abs(n).Cmp(limit) >= 0 {
		return nil, fmt.Errorf("decimal %s does not fit DECIMAL(%d,%d)", string(d), precision, scale)
	}
	return n, nil
}

// Salesforce wire layouts for temporal values. REST JSON writes datetimes
// with a "+0000" offset; Bulk CSV writes them with "Z". ParseDateTime accepts
// both, and any other offset, with or without milliseconds.
const (
	DateLayout     = "2006-01-02"
	DateTimeLayout = "2006-01-02T15:04:05.000Z0700"
	TimeLayout     = "15:04:05.000Z"
)

// ParseDateTime parses a Salesforce datetime ("2024-01-02T03:04:05.000+0000",
// "2024-01-02T03:04:05.000Z", "2024-01-02T03:04:05Z", "...+05:30") into UTC.
func ParseDateTime(s string) (time.Time, error) {
	for _, layout := range []string{
		"2006-01-02T15:04:05.999999999Z0700",
		"2006-01-02T15:04:05.999999999Z07:00",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("parse datetime %q: want 2006-01-02T15:04:05.000+0000", s)
}

// ParseDate parses a Salesforce date ("2024-01-02") as midnight UTC.
func ParseDate(s string) (time.Time, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("parse date %q: want 2006-01-02", s)
	}
	return t, nil
}

// ParseTime parses a Salesforce time of day ("13:30:00.000Z", "13:30:00Z",
// "13:30:00.000") onto 1970-01-01 UTC.
func ParseTime(s string) (time.Time, error) {
	for _, layout := range []string{"15:04:05.999999999Z07:00", "15:04:05.999999999Z0700", "15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC()
			return time.Date(1970, 1, 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC), nil
		}
	}
	return time.Time{}, fmt.Errorf("parse time %q: want 15:04:05.000Z", s)
}

// scaledFast is Scaled for plain decimal text that fits, without rational
// arithmetic. It reports false for anything else, which scaledExact then
// handles or rejects with its error.
func scaledFast(s string, precision, scale int) (*big.Int, bool) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > scale || !digitsOnly(whole) || !digitsOnly(frac) {
		return nil, false
	}
	var b strings.Builder
	b.Grow(len(whole) + scale + 1)
	if neg {
		b.WriteByte('-')
	}
	b.WriteString(strings.TrimLeft(whole, "0"))
	b.WriteString(frac)
	for range scale - len(frac) {
		b.WriteByte('0')
	}
	digits := strings.TrimLeft(strings.TrimPrefix(b.String(), "-"), "0")
	if len(digits) > precision {
		return nil, false
	}
	if len(digits) == 0 {
		return new(big.Int), true
	}
	if precision <= 18 {
		v, err := strconv.ParseInt(b.String(), 10, 64)
		if err != nil {
			return nil, false
		}
		return big.NewInt(v), true
	}
	n, ok := new(big.Int).SetString(b.String(), 10)
	return n, ok
}

func digitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
