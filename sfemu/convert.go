package sfemu

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// convert turns a Go value into f's storage form. Accepted: nil; text for
// text fields (a []string joins with ";" for multipicklists); bool or
// "true"/"false"; any Go integer or float, json.Number or numeric text for
// numbers; time.Time or ISO-8601 text for dates, times and datetimes.
func (f *field) convert(v any) (cell, error) {
	if v == nil {
		if !f.Nillable {
			return cell{}, fmt.Errorf("field %s cannot be null", f.Name)
		}
		if f.kind == vkString {
			return cell{}, nil
		}
		return nullCell, nil
	}
	c, err := f.convertValue(v)
	if err != nil {
		return cell{}, fmt.Errorf("field %s (%s): %w", f.Name, f.Type, err)
	}
	if f.kind == vkString && c.s == "" && !f.Nillable {
		return cell{}, fmt.Errorf("field %s cannot be blank", f.Name)
	}
	return c, nil
}

func (f *field) convertValue(v any) (cell, error) {
	switch f.kind {
	case vkString:
		return f.convertString(v)
	case vkBool:
		switch b := v.(type) {
		case bool:
			return boolCell(b), nil
		case string:
			switch strings.ToLower(b) {
			case "true":
				return boolCell(true), nil
			case "false":
				return boolCell(false), nil
			}
		}
		return cell{}, fmt.Errorf("want a boolean, got %s", describeValue(v))
	case vkInt:
		x, err := toFloat(v)
		if err != nil {
			return cell{}, err
		}
		if x != math.Trunc(x) {
			return cell{}, fmt.Errorf("want a whole number, got %v", x)
		}
		digits := f.Digits
		if digits <= 0 || digits > 18 {
			digits = 18
		}
		if math.Abs(x) >= math.Pow10(digits) {
			return cell{}, fmt.Errorf("%v has more than %d digits", x, digits)
		}
		return cell{n: int64(x)}, nil
	case vkFloat:
		x, err := toFloat(v)
		if err != nil {
			return cell{}, err
		}
		if f.Scale >= 0 && f.Scale <= 15 {
			p := math.Pow10(f.Scale)
			if r := math.Round(x*p) / p; !math.IsInf(r, 0) && !math.IsNaN(r) {
				x = r
			}
		}
		if f.Precision > 0 && math.Abs(x) >= math.Pow10(f.Precision-f.Scale) {
			return cell{}, fmt.Errorf("%v is outside precision %d, scale %d", x, f.Precision, f.Scale)
		}
		return cell{n: int64(math.Float64bits(x))}, nil
	case vkDateTime:
		t, err := toTime(v, parseDateTime)
		if err != nil {
			return cell{}, err
		}
		return cell{n: t.UnixMilli()}, nil
	case vkDate:
		t, err := toTime(v, parseDate)
		if err != nil {
			return cell{}, err
		}
		y, m, d := t.UTC().Date()
		return cell{n: time.Date(y, m, d, 0, 0, 0, 0, time.UTC).UnixMilli()}, nil
	case vkTime:
		t, err := toTime(v, parseTimeOfDay)
		if err != nil {
			return cell{}, err
		}
		t = t.UTC()
		ms := int64(t.Hour())*3600000 + int64(t.Minute())*60000 + int64(t.Second())*1000 + int64(t.Nanosecond()/1e6)
		return cell{n: ms}, nil
	}
	return cell{}, errors.New("compound fields are set through their components")
}

func (f *field) convertString(v any) (cell, error) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case []string:
		if f.Type != "multipicklist" {
			return cell{}, fmt.Errorf("want text, got %s", describeValue(v))
		}
		s = strings.Join(x, ";")
	case []any:
		if f.Type != "multipicklist" {
			return cell{}, fmt.Errorf("want text, got %s", describeValue(v))
		}
		parts := make([]string, 0, len(x))
		for _, p := range x {
			ps, ok := p.(string)
			if !ok {
				return cell{}, fmt.Errorf("want a list of text values, got %s", describeValue(p))
			}
			parts = append(parts, ps)
		}
		s = strings.Join(parts, ";")
	default:
		return cell{}, fmt.Errorf("want text, got %s", describeValue(v))
	}
	if !utf8.ValidString(s) {
		return cell{}, errors.New("text is not valid UTF-8")
	}
	if f.Type == "id" || f.Type == "reference" {
		if s == "" {
			return cell{}, nil
		}
		id, ok := to18(s)
		if !ok {
			return cell{}, fmt.Errorf("%q is not a valid record Id", s)
		}
		return cell{s: id}, nil
	}
	if f.Length > 0 {
		if n := utf8.RuneCountInString(s); n > f.Length {
			return cell{}, fmt.Errorf("text of %d characters is longer than the field's length %d", n, f.Length)
		}
	}
	return cell{s: s}, nil
}

func boolCell(b bool) cell {
	if b {
		return cell{n: 1}
	}
	return cell{n: 0}
}

func toFloat(v any) (float64, error) {
	var x float64
	switch n := v.(type) {
	case int:
		x = float64(n)
	case int8:
		x = float64(n)
	case int16:
		x = float64(n)
	case int32:
		x = float64(n)
	case int64:
		x = float64(n)
	case uint:
		x = float64(n)
	case uint8:
		x = float64(n)
	case uint16:
		x = float64(n)
	case uint32:
		x = float64(n)
	case uint64:
		x = float64(n)
	case float32:
		x = float64(n)
	case float64:
		x = n
	case json.Number:
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", string(n))
		}
		x = f
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", n)
		}
		x = f
	default:
		return 0, fmt.Errorf("want a number, got %s", describeValue(v))
	}
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0, fmt.Errorf("%v is not a finite number", x)
	}
	return x, nil
}

func toTime(v any, parse func(string) (time.Time, error)) (time.Time, error) {
	switch t := v.(type) {
	case time.Time:
		return t.UTC().Truncate(time.Millisecond), nil
	case string:
		return parse(strings.TrimSpace(t))
	}
	return time.Time{}, fmt.Errorf("want a time or ISO-8601 text, got %s", describeValue(v))
}

var dateTimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.000-0700",
	"2006-01-02T15:04:05-0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
}

// parseDateTime parses the ISO-8601 forms Salesforce and its clients write:
// 2024-01-02T03:04:05Z, ...+00:00, ...000+0000, and without a zone (UTC).
func parseDateTime(s string) (time.Time, error) {
	for _, l := range dateTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC().Truncate(time.Millisecond), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO-8601 datetime", s)
}

func parseDate(s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if t, err := parseDateTime(s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a date (YYYY-MM-DD)", s)
}

func parseTimeOfDay(s string) (time.Time, error) {
	for _, l := range []string{"15:04:05.999999999Z07:00", "15:04:05.999999999Z", "15:04:05.999999999", "15:04"} {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time of day (HH:MM:SS.sssZ)", s)
}

func describeValue(v any) string {
	s := fmt.Sprintf("%T %v", v, v)
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}
