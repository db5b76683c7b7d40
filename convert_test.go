package sfsync

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestConvert(t *testing.T) {
	at := time.Date(2024, 2, 29, 23, 30, 15, 250e6, time.FixedZone("x", 3600))
	for _, tc := range []struct {
		v        any
		from, to Kind
		want     any
		err      string
	}{
		{nil, KindString, KindInt, nil, ""},
		// Same kind: a type check.
		{"héllo 🎉", KindString, KindString, "héllo 🎉", ""},
		{int64(-7), KindInt, KindInt, int64(-7), ""},
		{Decimal("12.50"), KindDecimal, KindDecimal, Decimal("12.50"), ""},
		{at, KindDateTime, KindDateTime, at.UTC(), ""},
		{"a\xffb", KindString, KindString, nil, "not valid UTF-8"},
		{true, KindBool, KindDate, nil, "cannot store a bool value in a date column"},
		// To text, as Salesforce shows it.
		{true, KindBool, KindString, "true", ""},
		{int64(42), KindInt, KindString, "42", ""},
		{Decimal("-0.001"), KindDecimal, KindString, "-0.001", ""},
		{1.5, KindFloat, KindString, "1.5", ""},
		{time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), KindDate, KindString, "2024-02-29", ""},
		{time.Date(1970, 1, 1, 8, 5, 0, 0, time.UTC), KindTime, KindString, "08:05:00.000Z", ""},
		{at, KindDateTime, KindString, "2024-02-29T22:30:15.250Z", ""},
		// From text.
		{" TRUE ", KindString, KindBool, true, ""},
		{"yes", KindString, KindBool, nil, `text "yes" is not a boolean`},
		{"1e3", KindString, KindInt, int64(1000), ""},
		{"12.5", KindString, KindInt, nil, "not a 64-bit integer"},
		{"99999999999999999999", KindString, KindInt, nil, "not a 64-bit integer"},
		{"n/a", KindString, KindDecimal, nil, `text "n/a" is not a number`},
		{"3.25", KindString, KindDecimal, Decimal("3.25"), ""},
		{" 2.5 ", KindString, KindFloat, 2.5, ""},
		{"2024-02-29", KindString, KindDate, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), ""},
		{"2024-02-29T23:30:00.000+0100", KindString, KindDate, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), ""},
		{"29/02/2024", KindString, KindDate, nil, "is not a date"},
		{"08:05:00.000Z", KindString, KindTime, time.Date(1970, 1, 1, 8, 5, 0, 0, time.UTC), ""},
		{"2024-02-29", KindString, KindDateTime, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), ""},
		{"tomorrow", KindString, KindDateTime, nil, "is not a datetime"},
		// Between numbers and times.
		{3.0, KindFloat, KindInt, int64(3), ""},
		{3.5, KindFloat, KindInt, nil, "not a 64-bit integer"},
		{Decimal("4"), KindDecimal, KindInt, int64(4), ""},
		{int64(5), KindInt, KindDecimal, Decimal("5"), ""},
		{0.1, KindFloat, KindDecimal, Decimal("0.1"), ""},
		{Decimal("1e400"), KindDecimal, KindFloat, nil, ""}, // +Inf; checked below
		{at, KindDateTime, KindDate, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), ""},
		{at, KindDateTime, KindTime, time.Date(1970, 1, 1, 22, 30, 15, 250e6, time.UTC), ""},
	} {
		got, err := Convert(tc.v, tc.from, tc.to)
		name := func() string { return tc.from.String() + "→" + tc.to.String() }
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Convert(%#v, %s) = %v, %v; want an error with %q", tc.v, name(), got, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Convert(%#v, %s): %v", tc.v, name(), err)
			continue
		}
		if tc.want == nil && tc.v != nil {
			if f, ok := got.(float64); !ok || f < 1e308 {
				t.Errorf("Convert(%#v, %s) = %#v, want +Inf", tc.v, name(), got)
			}
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Convert(%#v, %s) (-want +got):\n%s", tc.v, name(), diff)
		}
	}
}

func TestClipKeepsRunes(t *testing.T) {
	s := strings.Repeat("é", 30) // 60 bytes
	_, err := Convert("x"+s, KindString, KindBool)
	if err == nil || strings.Contains(err.Error(), `\x`) {
		t.Fatalf("error quotes a cut rune: %v", err)
	}
}
