package postgres

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/sfsync/sfsync"
)

// converter turns a record value (see sfsync.Record) into what pgx writes
// to one column. nil stays nil. change is not "" when the stored value
// differs from the record's (text cleaned under TextClean); it says how.
type converter func(v any) (out any, change string, err error)

// newConverter converts values of field f into a column of type c. When c
// is the field's own type this is a type check; when the field's type
// changed and the column kept its old type, values are converted through
// their meaning (see sfsync.Convert) or rejected. Text is cleaned per
// policy: maxText is the longest text stored whole (0: no limit).
func newConverter(f sfsync.Field, c colType, policy TextPolicy, maxText int) (converter, error) {
	k := f.Kind()
	convert := func(wrap func(any) (any, error)) converter {
		return func(v any) (any, string, error) {
			out, err := sfsync.Convert(v, k, c.Kind)
			if err != nil || out == nil || wrap == nil {
				return out, "", err
			}
			out, err = wrap(out)
			return out, "", err
		}
	}
	switch c.Kind {
	case sfsync.KindString:
		return func(v any) (any, string, error) {
			s, err := sfsync.Convert(v, k, sfsync.KindString)
			if err != nil || s == nil {
				return s, "", err
			}
			text := s.(string)
			clean, change := cleanText(text, maxText)
			if change == "" {
				return text, "", nil
			}
			if policy == TextReject {
				return nil, "", fmt.Errorf("text cannot be stored as it is: it would need to be %s (the text policy is %q)", change, TextReject)
			}
			return clean, change, nil
		}, nil
	case sfsync.KindBool, sfsync.KindInt, sfsync.KindFloat, sfsync.KindDateTime:
		return convert(nil), nil
	case sfsync.KindDecimal:
		p, sc := c.Precision, c.Scale
		return convert(func(v any) (any, error) {
			n, err := v.(sfsync.Decimal).Scaled(p, sc)
			if err != nil {
				return nil, err
			}
			return pgtype.Numeric{Int: n, Exp: int32(-sc), Valid: true}, nil
		}), nil
	case sfsync.KindDate:
		return convert(func(v any) (any, error) {
			return pgtype.Date{Time: v.(time.Time), Valid: true}, nil
		}), nil
	case sfsync.KindTime:
		return convert(func(v any) (any, error) {
			x := v.(time.Time)
			us := int64(x.Hour())*3600e6 + int64(x.Minute())*60e6 + int64(x.Second())*1e6 + int64(x.Nanosecond())/1e3
			return pgtype.Time{Microseconds: us, Valid: true}, nil
		}), nil
	default:
		return nil, fmt.Errorf("column type %s is not one sfsync writes", c.SQL)
	}
}

// cleanText removes NUL characters from s and cuts it to maxBytes (0: no
// limit) at a character boundary. change says what was done, "" when
// nothing was.
func cleanText(s string, maxBytes int) (string, string) {
	var changes []string
	if n := strings.Count(s, "\x00"); n > 0 {
		s = strings.ReplaceAll(s, "\x00", "")
		changes = append(changes, fmt.Sprintf("stripped of %d NUL character(s)", n))
	}
	if maxBytes > 0 && len(s) > maxBytes {
		n := len(s)
		s = s[:maxBytes]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		changes = append(changes, fmt.Sprintf("cut from %d to %d bytes", n, len(s)))
	}
	return s, strings.Join(changes, " and ")
}
