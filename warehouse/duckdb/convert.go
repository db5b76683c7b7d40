package duckdb

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/sfsync/sfsync"
)

// converter turns a record value (see sfsync.Record) into what the
// Appender writes to one column. nil stays nil.
type converter func(v any) (any, error)

// newConverter converts values of field f into a column of type c. When c
// is the field's own type this is a type check; when the field's type
// changed and the column kept its old type, values are converted through
// their meaning (text, number, date) or rejected.
func newConverter(f sfsync.Field, c colType) (converter, error) {
	k := f.Kind()
	switch c.kind {
	case sfsync.KindString:
		return func(v any) (any, error) { return toString(k, v) }, nil
	case sfsync.KindBool:
		return toBool, nil
	case sfsync.KindInt:
		return toInt, nil
	case sfsync.KindDecimal:
		p, s := c.precision, c.scale
		return func(v any) (any, error) { return toDecimal(v, p, s) }, nil
	case sfsync.KindFloat:
		return toFloat, nil
	case sfsync.KindDate:
		return toDate, nil
	case sfsync.KindTime:
		return toTime, nil
	case sfsync.KindDateTime:
		return toDateTime, nil
	default:
		return nil, fmt.Errorf("column type %s is not one sfsync writes", c.sql)
	}
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
		// DuckDB stores invalid UTF-8 as NULL without a word.
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
	return nil, unexpected(v, "VARCHAR")
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
		return nil, unexpected(v, fmt.Sprintf("DECIMAL(%d,%d)", precision, scale))
	}
	n, err := d.Scaled(precision, scale)
	if err != nil {
		return nil, err
	}
	return duckdb.Decimal{Width: uint8(precision), Scale: uint8(scale), Value: n}, nil
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
	return nil, unexpected(v, "DOUBLE")
}

func toDate(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case time.Time:
		y, m, d := x.UTC().Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
	case string:
		if t, err := sfsync.ParseDate(x); err == nil {
			return t, nil
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
		return time.Date(1970, 1, 1, x.Hour(), x.Minute(), x.Second(), x.Nanosecond(), time.UTC), nil
	case string:
		t, err := sfsync.ParseTime(x)
		if err != nil {
			return nil, fmt.Errorf("text %q is not a time of day", clip(x))
		}
		return t, nil
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
