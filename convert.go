package sfsync

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Convert turns a value of a field of kind from (a Record value: string,
// bool, int64, Decimal, float64, time.Time or nil) into the value of kind
// to, through its meaning: a warehouse column keeps its type when the
// field's type changes at the source, and its values are converted, or
// rejected with an error saying why. When from and to agree it is a type
// check. nil stays nil.
//
// The results are Record values of kind to: text as it would show in
// Salesforce (valid UTF-8, else an error), booleans, 64-bit integers,
// decimals (not yet scaled to a column's precision; see Decimal.Scaled),
// float64, dates at midnight UTC, times of day on 1970-01-01 UTC, and
// datetimes in UTC.
func Convert(v any, from, to Kind) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch to {
	case KindString:
		return toString(from, v)
	case KindBool:
		return toBool(v)
	case KindInt:
		return toInt(v)
	case KindDecimal:
		return toDecimal(v)
	case KindFloat:
		return toFloat(v)
	case KindDate:
		return toDate(v)
	case KindTime:
		return toTime(v)
	case KindDateTime:
		return toDateTime(v)
	}
	return nil, fmt.Errorf("no value converts to kind %s", to)
}

func unexpected(v any, want Kind) error {
	return fmt.Errorf("cannot store a %T value in a %s column", v, want)
}

// toString renders any value as the text Salesforce would show.
func toString(from Kind, v any) (any, error) {
	switch x := v.(type) {
	case string:
		// Warehouses store invalid UTF-8 as NULL, or refuse it.
		if !utf8.ValidString(x) {
			return nil, fmt.Errorf("text %q is not valid UTF-8", clip(x))
		}
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case Decimal:
		return string(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case time.Time:
		switch from {
		case KindDate:
			return x.UTC().Format(DateLayout), nil
		case KindTime:
			return x.UTC().Format(TimeLayout), nil
		default:
			return x.UTC().Format("2006-01-02T15:04:05.000Z"), nil
		}
	}
	return nil, unexpected(v, KindString)
}

func toBool(v any) (any, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(x))
		if err != nil {
			return nil, fmt.Errorf("text %q is not a boolean", clip(x))
		}
		return b, nil
	}
	return nil, unexpected(v, KindBool)
}

func toInt(v any) (any, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case Decimal:
		return decimalToInt(x)
	case float64:
		if x != math.Trunc(x) || x < math.MinInt64 || x >= math.MaxInt64 {
			return nil, fmt.Errorf("%v is not a 64-bit integer", x)
		}
		return int64(x), nil
	case string:
		d, err := ParseDecimal(x)
		if err != nil {
			return nil, fmt.Errorf("text %q is not a number", clip(x))
		}
		return decimalToInt(d)
	}
	return nil, unexpected(v, KindInt)
}

func decimalToInt(d Decimal) (any, error) {
	n, ok := new(big.Int).SetString(string(d), 10)
	if !ok || !n.IsInt64() {
		return nil, fmt.Errorf("%s is not a 64-bit integer", d)
	}
	return n.Int64(), nil
}

func toDecimal(v any) (any, error) {
	switch x := v.(type) {
	case Decimal:
		return x, nil
	case int64:
		return Decimal(strconv.FormatInt(x, 10)), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%v is not a decimal", x)
		}
		return Decimal(strconv.FormatFloat(x, 'f', -1, 64)), nil
	case string:
		d, err := ParseDecimal(x)
		if err != nil {
			return nil, fmt.Errorf("text %q is not a number", clip(x))
		}
		return d, nil
	}
	return nil, unexpected(v, KindDecimal)
}

func toFloat(v any) (any, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case int64:
		return float64(x), nil
	case Decimal:
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
	return nil, unexpected(v, KindFloat)
}

func toDate(v any) (any, error) {
	switch x := v.(type) {
	case time.Time:
		y, m, d := x.UTC().Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
	case string:
		if t, err := ParseDate(x); err == nil {
			return t, nil
		}
		t, err := ParseDateTime(x)
		if err != nil {
			return nil, fmt.Errorf("text %q is not a date", clip(x))
		}
		return toDate(t)
	}
	return nil, unexpected(v, KindDate)
}

func toTime(v any) (any, error) {
	switch x := v.(type) {
	case time.Time:
		x = x.UTC()
		return time.Date(1970, 1, 1, x.Hour(), x.Minute(), x.Second(), x.Nanosecond(), time.UTC), nil
	case string:
		t, err := ParseTime(x)
		if err != nil {
			return nil, fmt.Errorf("text %q is not a time of day", clip(x))
		}
		return toTime(t)
	}
	return nil, unexpected(v, KindTime)
}

func toDateTime(v any) (any, error) {
	switch x := v.(type) {
	case time.Time:
		return x.UTC(), nil
	case string:
		t, err := ParseDateTime(x)
		if err != nil {
			if t, err := ParseDate(x); err == nil {
				return t, nil
			}
			return nil, fmt.Errorf("text %q is not a datetime", clip(x))
		}
		return t, nil
	}
	return nil, unexpected(v, KindDateTime)
}

// clip shortens a value quoted in an error.
func clip(s string) string {
	if len(s) <= 40 {
		return s
	}
	n := 40
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}
