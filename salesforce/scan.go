package salesforce

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/sfsync/sfsync"
)

// scanner is a small JSON tokenizer over one page body held in memory. It
// exists so records decode straight into typed values, without a
// map[string]any per record or an interface value per token.
//
// Input that stops mid-value is reported as io.ErrUnexpectedEOF (a
// truncated body: Retryable); any other malformation is a *syntaxError
// (Permanent).
type scanner struct {
	data []byte
	pos  int
	buf  []byte // scratch for strings with escapes
}

// syntaxError is malformed JSON.
type syntaxError struct {
	pos int
	msg string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("malformed JSON at byte %d: %s", e.pos, e.msg)
}

// Unwrap makes malformed JSON permanent: fetching it again gives the same.
func (e *syntaxError) Unwrap() error { return sfsync.ErrPermanent }

// maxDepth bounds nesting of skipped values.
const maxDepth = 512

func (s *scanner) truncated() error {
	return fmt.Errorf("body ends at byte %d in the middle of a value: %w", len(s.data), io.ErrUnexpectedEOF)
}

func (s *scanner) fail(format string, args ...any) error {
	return &syntaxError{pos: s.pos, msg: fmt.Sprintf(format, args...)}
}

func (s *scanner) skipWS() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte without consuming it.
func (s *scanner) peek() (byte, error) {
	s.skipWS()
	if s.pos >= len(s.data) {
		return 0, s.truncated()
	}
	return s.data[s.pos], nil
}

// expect consumes the byte c.
func (s *scanner) expect(c byte) error {
	b, err := s.peek()
	if err != nil {
		return err
	}
	if b != c {
		return s.fail("want %q, found %q", c, b)
	}
	s.pos++
	return nil
}

// next consumes a ',' (true: another element follows) or the closing byte
// (false).
func (s *scanner) next(closing byte) (bool, error) {
	b, err := s.peek()
	if err != nil {
		return false, err
	}
	switch b {
	case ',':
		s.pos++
		return true, nil
	case closing:
		s.pos++
		return false, nil
	}
	return false, s.fail("want ',' or %q, found %q", closing, b)
}

// openContainer consumes the opening byte and reports whether the container
// is empty (consuming the closing byte too).
func (s *scanner) openContainer(open, closing byte) (empty bool, err error) {
	if err := s.expect(open); err != nil {
		return false, err
	}
	b, err := s.peek()
	if err != nil {
		return false, err
	}
	if b == closing {
		s.pos++
		return true, nil
	}
	return false, nil
}

// str consumes a string and returns its decoded bytes. The slice aliases
// the input or the scratch buffer: it is valid until the next call.
// Invalid UTF-8 becomes U+FFFD, as encoding/json does.
func (s *scanner) str() ([]byte, error) {
	if err := s.expect('"'); err != nil {
		return nil, err
	}
	start := s.pos
	for i := start; i < len(s.data); i++ {
		switch c := s.data[i]; {
		case c == '"':
			s.pos = i + 1
			out := s.data[start:i]
			if !utf8.Valid(out) {
				s.buf = appendValidUTF8(s.buf[:0], out)
				return s.buf, nil
			}
			return out, nil
		case c == '\\':
			s.pos = i
			return s.strSlow(start)
		case c < 0x20:
			s.pos = i
			return nil, s.fail("control character %q in string", c)
		}
	}
	return nil, s.truncated()
}

// strSlow decodes a string with escapes; s.pos is at the first backslash.
func (s *scanner) strSlow(start int) ([]byte, error) {
	s.buf = append(s.buf[:0], s.data[start:s.pos]...)
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			if !utf8.Valid(s.buf) {
				s.buf = appendValidUTF8(nil, s.buf)
			}
			return s.buf, nil
		case c < 0x20:
			return nil, s.fail("control character %q in string", c)
		case c != '\\':
			s.buf = append(s.buf, c)
			s.pos++
			continue
		}
		if s.pos+1 >= len(s.data) {
			return nil, s.truncated()
		}
		e := s.data[s.pos+1]
		s.pos += 2
		switch e {
		case '"', '\\', '/':
			s.buf = append(s.buf, e)
		case 'b':
			s.buf = append(s.buf, '\b')
		case 'f':
			s.buf = append(s.buf, '\f')
		case 'n':
			s.buf = append(s.buf, '\n')
		case 'r':
			s.buf = append(s.buf, '\r')
		case 't':
			s.buf = append(s.buf, '\t')
		case 'u':
			r, err := s.hex4()
			if err != nil {
				return nil, err
			}
			if utf16.IsSurrogate(r) {
				// A high surrogate pairs with a following \uXXXX low one;
				// anything else is replaced, as encoding/json does.
				r2 := utf8.RuneError
				if s.pos+1 < len(s.data) && s.data[s.pos] == '\\' && s.data[s.pos+1] == 'u' {
					save := s.pos
					s.pos += 2
					low, err := s.hex4()
					if err != nil {
						return nil, err
					}
					if d := utf16.DecodeRune(r, low); d != utf8.RuneError {
						r2 = d
					} else {
						s.pos = save
					}
				}
				r = r2
			}
			s.buf = utf8.AppendRune(s.buf, r)
		default:
			s.pos -= 2
			return nil, s.fail("invalid escape \\%c", e)
		}
	}
	return nil, s.truncated()
}

// appendValidUTF8 appends src to dst with every byte that is not part of a
// valid UTF-8 sequence replaced by U+FFFD, as encoding/json does.
func appendValidUTF8(dst, src []byte) []byte {
	for len(src) > 0 {
		r, n := utf8.DecodeRune(src)
		if r == utf8.RuneError && n == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, src[:n]...)
		}
		src = src[n:]
	}
	return dst
}

func (s *scanner) hex4() (rune, error) {
	if s.pos+4 > len(s.data) {
		return 0, s.truncated()
	}
	var r rune
	for _, c := range s.data[s.pos : s.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, s.fail("invalid \\u escape")
		}
	}
	s.pos += 4
	return r, nil
}

// number consumes a JSON number and returns its text (aliasing the input).
func (s *scanner) number() ([]byte, error) {
	s.skipWS()
	start := s.pos
	n, err := numberLen(s.data[start:])
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, s.truncated()
		}
		return nil, s.fail("%v", err)
	}
	s.pos += n
	return s.data[start:s.pos], nil
}

var errNotNumber = errors.New("not a number")

// numberLen returns the length of the JSON number at the start of b.
// Reaching the end of b before the number is complete is
// io.ErrUnexpectedEOF; a number that is complete at the end of b is fine
// (callers that need a terminator check for it themselves).
func numberLen(b []byte) (int, error) {
	i := 0
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return 0, io.ErrUnexpectedEOF
	}
	switch {
	case b[i] == '0':
		i++
	case b[i] >= '1' && b[i] <= '9':
		digits()
	default:
		return 0, errNotNumber
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			if i >= len(b) {
				return 0, io.ErrUnexpectedEOF
			}
			return 0, errNotNumber
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			if i >= len(b) {
				return 0, io.ErrUnexpectedEOF
			}
			return 0, errNotNumber
		}
	}
	return i, nil
}

// isNumber reports whether b is exactly one JSON number.
func isNumber(b []byte) bool {
	n, err := numberLen(b)
	return err == nil && n == len(b)
}

// word consumes the literal true, false or null.
func (s *scanner) word(w string) error {
	s.skipWS()
	end := s.pos + len(w)
	if end > len(s.data) {
		if bytes.HasPrefix([]byte(w), s.data[s.pos:]) {
			return s.truncated()
		}
		return s.fail("invalid literal")
	}
	if string(s.data[s.pos:end]) != w {
		return s.fail("invalid literal")
	}
	s.pos = end
	return nil
}

// boolean consumes true or false.
func (s *scanner) boolean() (bool, error) {
	b, err := s.peek()
	if err != nil {
		return false, err
	}
	if b == 't' {
		return true, s.word("true")
	}
	return false, s.word("false")
}

// skip consumes any value.
func (s *scanner) skip(depth int) error {
	if depth > maxDepth {
		return s.fail("nesting deeper than %d", maxDepth)
	}
	b, err := s.peek()
	if err != nil {
		return err
	}
	switch {
	case b == '"':
		_, err := s.str()
		return err
	case b == '{':
		empty, err := s.openContainer('{', '}')
		if err != nil || empty {
			return err
		}
		for {
			if _, err := s.str(); err != nil {
				return err
			}
			if err := s.expect(':'); err != nil {
				return err
			}
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			more, err := s.next('}')
			if err != nil || !more {
				return err
			}
		}
	case b == '[':
		empty, err := s.openContainer('[', ']')
		if err != nil || empty {
			return err
		}
		for {
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			more, err := s.next(']')
			if err != nil || !more {
				return err
			}
		}
	case b == 't':
		return s.word("true")
	case b == 'f':
		return s.word("false")
	case b == 'n':
		return s.word("null")
	case b == '-' || b >= '0' && b <= '9':
		_, err := s.number()
		return err
	}
	return s.fail("unexpected %q", b)
}

// raw consumes any value and returns its text (aliasing the input).
func (s *scanner) raw() ([]byte, error) {
	s.skipWS()
	start := s.pos
	if err := s.skip(0); err != nil {
		return nil, err
	}
	return s.data[start:s.pos], nil
}

// end checks that only whitespace follows.
func (s *scanner) end() error {
	s.skipWS()
	if s.pos != len(s.data) {
		return s.fail("unexpected data after the end of the document")
	}
	return nil
}
