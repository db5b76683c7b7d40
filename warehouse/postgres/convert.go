package postgres

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
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
// their meaning (text, number, date) or rejected. Text is cleaned per
// policy: maxText is the longest text stored whole (0: no limit).
func newConverter(f sfsync.Field, c colType, policy TextPolicy, maxText int) (converter, error) {
	k := f.Kind()
	plain := func(conv func(any) (any, error)) converter {
		return func(v any) (any, string, error) {
			out, err := conv(v)
			return out, "", err
		}
	}
	switch c.kind {
	case sfsync.KindString:
		return func(v any) (any, string, error) {
			s, err := toString(k, v)
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
	case sfsync.KindBool:
		return plain(toBool), nil
	case sfsync.KindInt:
		return plain(toInt), nil
	case sfsync.KindDecimal:
		p, s := c.precision, c.scale
		return plain(func(v any) (any, error) { return toDecimal(v, p, s) }), nil
	case sfsync.KindFloat:
		return plain(toFloat), nil
	case sfsync.KindDate:
		return plain(toDate), nil
	case sfsync.KindTime:
		return plain(toTime), nil
	case sfsync.KindDateTime:
		return plain(toDateTime), nil
	default:
		return nil, fmt.Errorf("column type %s is not one sfsync writes", c.sql)
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

func unexpected(v any, want string) error {
	return fmt.Errorf("cannot store a %T value in a %s column", v, want)
}

// toString renders any value as the text Salesforce would show.
func toString(k sfsync.Kind, v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		if !utf8.ValidString(x) {
			return nil, fmt.Errorf("text %q is not valid UTF-8", clip(x))
		}
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case sfsync.Decimal:
		return string(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case time.Time:
		switch k {
		case sfsync.KindDate:
			return x.UTC().Format(sfsync.DateLayout), nil
		case sfsync.KindTime:
			return x.UTC().Format(sfsync.TimeLayout), nil
		default:
			return x.UTC().Format("2006-01-02T15:04:05.000Z"), nil
		}
	}
	return nil, unexpected(v, "text")
}

func toBool(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case bool:
		return x, nil
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(x))
		if err != nil {
			return nil, fmt.Errorf("text %q is not a boolean", clip(x))
		}
		return b, nil
	}
	return nil, unexpected(v, "BOOLEAN")
}

func toInt(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case int64:
		return x, nil
	case sfsync.Decimal:
		return decimalToInt(x)
	case float64:
		if x != math.Trunc(x) || x < math.MinInt64 || x >= math.MaxInt64 {
			return nil, fmt.Errorf("%v is not a 64-bit integer", x)
		}
		return int64(x), nil
	case string:
		d, err := sfsync.ParseDecimal(x)
		if err != nil {
			return nil, fmt.Errorf("text %q is not a number", clip(x))
		}
		return decimalToInt(d)
	}
	return nil, unexpected(v, "BIGINT")
}

func decimalToInt(d sfsync.Decimal) (any, error) {
	n, ok := new(big.Int).SetString(string(d), 10)
	if !ok || !n.IsInt64() {
		return nil, fmt.Errorf("%s is not a 64-bit integer", d)
	}
	return n.Int64(), nil
}

func toDecimal(v any, precision, scale int) (any, error) {
	var d sfsync.Decimal
	switch x := v.(type) {
	case nil:
		return nil, nil
	case sfsync.Decimal:
		d = x
	case int64:
		d = sfsync.Decimal(strconv.FormatInt(x, 10))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%v is not a decimal", x)
		}
		d = sfsync.Decimal(strconv.FormatFloat(x, 'f', -1, 64))
	case string:
		var err error
		if d, err = sfsync.ParseDecimal(x); err != nil {
			return nil, fmt.Errorf("text %q is not a number", clip(x))
		}
	default:
		return nil, unexpected(v, fmt.Sprintf("NUMERIC(%d,%d)", precision, scale))
	}
	n, err := d.Scaled(precision, scale)
	if err != nil {
		return nil, err
	}
	return pgtype.Numeric{Int: n, Exp: int32(-scale), Valid: true}, nil
}

func toFloat(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	case sfsync.Decimal:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, fmt.Errorf("%s is not a number", x)
		}
		return f, nil
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return nil, fmt.Errorf("text %q is not a number", clip(x))
		}
		return f, nil
	}
	return nil, unexpected(v, "DOUBLE PRECISION")
}

func toDate(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case time.Time:
		y, m, d := x.UTC().Date()
		return pgtype.Date{Time: time.Date(y, m, d, 0, 0, 0, 0, time.UTC), Valid: true}, nil
	case string:
		if t, err := sfsync.ParseDate(x); err == nil {
			return toDate(t)
		}
		t, err := sfsync.ParseDateTime(x)
		if err != nil {
			return nil, fmt.Errorf("text %q is not a date", clip(x))
		}
		return toDate(t)
	}
	return nil, unexpected(v, "DATE")
}

func toTime(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case time.Time:
		x = x.UTC()
		us := int64(x.Hour())*3600e6 + int64(x.Minute())*60e6 + int64(x.Second())*1e6 + int64(x.Nanosecond())/1e3
		return pgtype.Time{Microseconds: us, Valid: true}, nil
	case string:
		t, err := sfsync.ParseTime(x)
		if err != nil {
			return nil, fmt.Errorf("text %q is not a time of day", clip(x))
		}
		return toTime(t)
	}
	return nil, unexpected(v, "TIME")
}

func toDateTime(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case time.Time:
		return x.UTC(), nil
	case string:
		t, err := sfsync.ParseDateTime(x)
		if err != nil {
			if t, err := sfsync.ParseDate(x); err == nil {
				return t, nil
			}
			return nil, fmt.Errorf("text %q is not a datetime", clip(x))
		}
		return t, nil
	}
	return nil, unexpected(v, "TIMESTAMPTZ")
}

// clip shortens a value quoted in an error.
func clip(s string) string {
	if len(s) <= 40 {
		return s
	}
	return s[:40] + "..."
}
