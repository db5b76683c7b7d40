package soqlparse

import (
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

type tokKind uint8

const (
	tEOF      tokKind = iota
	tIdent            // a name or keyword; dotted paths are one token
	tString           // 'quoted text'
	tNumber           // 12, -1.5, 2e3
	tDate             // 2024-01-02
	tDateTime         // 2024-01-02T03:04:05Z
	tTime             // 03:04:05.000Z
	tLParen
	tRParen
	tComma
	tOp // = != <> < <= > >=
)

// token is one lexeme with its byte offset in the query and, for literals,
// its decoded value.
type token struct {
	kind tokKind
	text string // source text
	pos  int

	str     string    // tString: decoded text (\% and \_ decoded to % and _)
	likeEsc int       // tString: offset of the first \% or \_, or -1
	num     number    // tNumber
	t       time.Time // tDate, tDateTime, tTime (UTC)
}

// number is a numeric literal; isInt when it is written as an integer that
// fits int64.
type number struct {
	f     float64
	i     int64
	isInt bool
}

// lex splits src into tokens ending with tEOF.
func lex(src string) ([]token, *Error) {
	var toks []token
	i := 0
	for {
		for i < len(src) && isSpace(src[i]) {
			i++
		}
		if i >= len(src) {
			return append(toks, token{kind: tEOF, pos: i}), nil
		}
		c := src[i]
		switch {
		case c == '(':
			toks = append(toks, token{kind: tLParen, text: "(", pos: i})
			i++
		case c == ')':
			toks = append(toks, token{kind: tRParen, text: ")", pos: i})
			i++
		case c == ',':
			toks = append(toks, token{kind: tComma, text: ",", pos: i})
			i++
		case c == '=':
			toks = append(toks, token{kind: tOp, text: "=", pos: i})
			i++
		case c == '!' && i+1 < len(src) && src[i+1] == '=':
			toks = append(toks, token{kind: tOp, text: "!=", pos: i})
			i += 2
		case c == '<' || c == '>':
			n := 1
			if i+1 < len(src) && (src[i+1] == '=' || (c == '<' && src[i+1] == '>')) {
				n = 2
			}
			toks = append(toks, token{kind: tOp, text: src[i : i+n], pos: i})
			i += n
		case c == '\'':
			t, err := lexString(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i += len(t.text)
		case isLetter(c):
			j := identEnd(src, i)
			toks = append(toks, token{kind: tIdent, text: src[i:j], pos: i})
			i = j
		case isDigit(c) || ((c == '-' || c == '+') && i+1 < len(src) && isDigit(src[i+1])):
			t, err := lexValue(src, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
			i += len(t.text)
		default:
			r, _ := utf8.DecodeRuneInString(src[i:])
			return nil, errorAt(CodeMalformedQuery, src, i, "no viable alternative at character '"+string(r)+"'")
		}
	}
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isLetter(c byte) bool { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isIdentByte(c byte) bool { return isLetter(c) || isDigit(c) || c == '_' }

// identEnd returns the end of the name or dotted path starting at src[i].
func identEnd(src string, i int) int {
	for {
		for i < len(src) && isIdentByte(src[i]) {
			i++
		}
		if i+1 < len(src) && src[i] == '.' && isLetter(src[i+1]) {
			i++
			continue
		}
		return i
	}
}

// lexString reads the quoted string starting at src[start].
func lexString(src string, start int) (token, *Error) {
	var b strings.Builder
	likeEsc := -1
	i := start + 1
	for i < len(src) {
		c := src[i]
		if c == '\'' {
			return token{kind: tString, text: src[start : i+1], pos: start, str: b.String(), likeEsc: likeEsc}, nil
		}
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		r, esc, n, ok := escape(src, i)
		if !ok {
			end := strings.IndexByte(src[i+1:], '\'')
			lit := src[start:]
			if end >= 0 {
				lit = src[start : i+1+end+1]
			}
			seq := src[i:min(i+n, len(src))]
			return token{}, errorAt(CodeMalformedQuery, src, i,
				"Invalid string literal "+lit+". Illegal character sequence '"+seq+"' in string literal.")
		}
		if (esc == '%' || esc == '_') && likeEsc < 0 {
			likeEsc = i
		}
		b.WriteRune(r)
		i += n
	}
	return token{}, errorAt(CodeMalformedQuery, src, start, "unterminated string literal: no closing quote")
}

// escape decodes the backslash escape at src[i] (src[i] == '\\'). It returns
// the character, the letter after the backslash, the escape's length in
// bytes, and false when the escape is not one SOQL defines. \% and \_ decode
// to % and _; only LIKE patterns allow them, which the caller checks.
func escape(src string, i int) (r rune, esc byte, n int, ok bool) {
	if i+1 >= len(src) {
		return 0, 0, 1, false
	}
	esc = src[i+1]
	switch esc {
	case 'n', 'N':
		return '\n', esc, 2, true
	case 'r', 'R':
		return '\r', esc, 2, true
	case 't', 'T':
		return '\t', esc, 2, true
	case 'b', 'B':
		return '\b', esc, 2, true
	case 'f', 'F':
		return '\f', esc, 2, true
	case '"', '\'', '\\', '%', '_':
		return rune(esc), esc, 2, true
	case 'u':
		hi, ok := hex4(src, i+2)
		if !ok {
			return 0, esc, min(6, len(src)-i), false
		}
		if !utf16Surrogate(hi) {
			return hi, esc, 6, true
		}
		if hi >= 0xdc00 || i+12 > len(src) || src[i+6] != '\\' || src[i+7] != 'u' {
			return 0, esc, 6, false
		}
		lo, ok := hex4(src, i+8)
		if !ok || lo < 0xdc00 || lo > 0xdfff {
			return 0, esc, 12, false
		}
		return 0x10000 + (hi-0xd800)<<10 + (lo - 0xdc00), esc, 12, true
	}
	_, size := utf8.DecodeRuneInString(src[i+1:])
	return 0, esc, 1 + size, false
}

func utf16Surrogate(r rune) bool { return 0xd800 <= r && r <= 0xdfff }

func hex4(src string, i int) (rune, bool) {
	if i+4 > len(src) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(src[i : i+4]) {
		var d byte
		switch {
		case isDigit(c):
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(d)
	}
	return r, true
}

func isValueByte(c byte) bool {
	return isIdentByte(c) || c == '.' || c == ':' || c == '+' || c == '-'
}

// lexValue reads the number, date, datetime or time literal starting at
// src[start].
func lexValue(src string, start int) (token, *Error) {
	end := start
	for end < len(src) && isValueByte(src[end]) {
		end++
	}
	w := src[start:end]
	t := token{text: w, pos: start}
	switch {
	case len(w) == 10 && isDateShape(w):
		d, ok := parseDate(w)
		if !ok {
			return token{}, errorAt(CodeMalformedQuery, src, start, "invalid date: "+w)
		}
		t.kind, t.t = tDate, d
		return t, nil
	case len(w) > 10 && isDateShape(w[:10]) && w[10] == 'T':
		dt, zoned, ok := parseDateTime(w)
		if !zoned && ok && end < len(src) && src[end] == ' ' {
			// The platform's answer when "+hh:mm" reached it as " hh:mm"
			// because the query was not URL-encoded.
			return token{}, errorAt(CodeMalformedQuery, src, end, "no viable alternative at character ' '")
		}
		if !ok || !zoned {
			return token{}, errorAt(CodeMalformedQuery, src, start, "invalid datetime: "+w+"; use YYYY-MM-DDThh:mm:ssZ or YYYY-MM-DDThh:mm:ss+hh:mm")
		}
		t.kind, t.t = tDateTime, dt
		return t, nil
	case len(w) >= 8 && w[2] == ':':
		tm, ok := parseTime(w)
		if !ok {
			return token{}, errorAt(CodeMalformedQuery, src, start, "invalid time: "+w+"; use hh:mm:ss.sssZ")
		}
		t.kind, t.t = tTime, tm
		return t, nil
	}
	if !isNumberShape(w) {
		return token{}, errorAt(CodeMalformedQuery, src, start, "unexpected token: '"+w+"'")
	}
	f, err := strconv.ParseFloat(w, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return token{}, errorAt(CodeNumberOutsideValidRange, src, start, "number outside the valid range: "+w)
		}
		return token{}, errorAt(CodeMalformedQuery, src, start, "unexpected token: '"+w+"'")
	}
	t.kind, t.num.f = tNumber, f
	if !strings.ContainsAny(w, ".eE") {
		if i, err := strconv.ParseInt(w, 10, 64); err == nil {
			t.num.i, t.num.isInt = i, true
		}
	}
	return t, nil
}

// isNumberShape reports [+-]digits[.digits][(e|E)[+-]digits].
func isNumberShape(w string) bool {
	i := 0
	if i < len(w) && (w[i] == '+' || w[i] == '-') {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(w) && isDigit(w[i]) {
			i++
			n++
		}
		return n
	}
	if digits() == 0 {
		return false
	}
	if i < len(w) && w[i] == '.' {
		i++
		digits()
	}
	if i < len(w) && (w[i] == 'e' || w[i] == 'E') {
		i++
		if i < len(w) && (w[i] == '+' || w[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(w)
}

// isDateShape reports dddd-dd-dd.
func isDateShape(w string) bool {
	for i := 0; i < 10; i++ {
		if i == 4 || i == 7 {
			if w[i] != '-' {
				return false
			}
		} else if !isDigit(w[i]) {
			return false
		}
	}
	return true
}

// num reads a run of exactly n digits.
func num(s string, n int) (int, bool) {
	if len(s) < n {
		return 0, false
	}
	v := 0
	for i := 0; i < n; i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v, true
}

func parseDate(w string) (time.Time, bool) {
	y, _ := num(w, 4)
	m, _ := num(w[5:], 2)
	d, _ := num(w[8:], 2)
	if m < 1 || m > 12 || d < 1 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return time.Time{}, false
	}
	return t, true
}

// parseClock reads hh:mm:ss[.fraction] and returns what follows.
func parseClock(s string) (h, m, sec, nsec int, rest string, ok bool) {
	if len(s) < 8 || s[2] != ':' || s[5] != ':' {
		return 0, 0, 0, 0, "", false
	}
	h, ok1 := num(s, 2)
	m, ok2 := num(s[3:], 2)
	sec, ok3 := num(s[6:], 2)
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || sec > 59 {
		return 0, 0, 0, 0, "", false
	}
	rest = s[8:]
	if rest != "" && rest[0] == '.' {
		i := 1
		scale := 100000000
		for i < len(rest) && isDigit(rest[i]) {
			nsec += int(rest[i]-'0') * scale
			scale /= 10
			i++
		}
		if i == 1 {
			return 0, 0, 0, 0, "", false
		}
		rest = rest[i:]
	}
	return h, m, sec, nsec, rest, true
}

// parseZone reads Z, ±hh:mm or ±hhmm as an offset east of UTC in seconds.
func parseZone(s string) (int, bool) {
	if s == "Z" || s == "z" {
		return 0, true
	}
	if len(s) != 5 && len(s) != 6 || (s[0] != '+' && s[0] != '-') {
		return 0, false
	}
	h, ok1 := num(s[1:], 2)
	mm := s[3:]
	if len(s) == 6 {
		if s[3] != ':' {
			return 0, false
		}
		mm = s[4:]
	}
	m, ok2 := num(mm, 2)
	if !ok1 || !ok2 || h > 23 || m > 59 {
		return 0, false
	}
	off := h*3600 + m*60
	if s[0] == '-' {
		off = -off
	}
	return off, true
}

// parseDateTime reads YYYY-MM-DDThh:mm:ss[.fff](Z|±hh:mm|±hhmm). zoned is
// false when the zone is missing; ok is false on any other fault.
func parseDateTime(w string) (t time.Time, zoned, ok bool) {
	d, ok := parseDate(w[:10])
	if !ok {
		return time.Time{}, false, false
	}
	h, m, s, ns, rest, ok := parseClock(w[11:])
	if !ok {
		return time.Time{}, false, false
	}
	if rest == "" {
		return time.Time{}, false, true
	}
	off, ok := parseZone(rest)
	if !ok {
		return time.Time{}, true, false
	}
	t = time.Date(d.Year(), d.Month(), d.Day(), h, m, s, ns, time.UTC).Add(-time.Duration(off) * time.Second)
	return t, true, true
}

// parseTime reads hh:mm:ss[.fff]Z as a time on 1970-01-01 UTC.
func parseTime(w string) (time.Time, bool) {
	h, m, s, ns, rest, ok := parseClock(w)
	if !ok || (rest != "Z" && rest != "z") {
		return time.Time{}, false
	}
	return time.Date(1970, 1, 1, h, m, s, ns, time.UTC), true
}
