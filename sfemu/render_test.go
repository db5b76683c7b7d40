package sfemu

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func TestAppendJavaDouble(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0.0"},
		{5, "5.0"},
		{-5, "-5.0"},
		{15000, "15000.0"},
		{12345.67, "12345.67"},
		{9999999, "9999999.0"},
		{1e7, "1.0E7"},
		{1.39e8, "1.39E8"},
		{-2.5e10, "-2.5E10"},
		{0.001, "0.001"},
		{0.0001, "1.0E-4"},
		{1.2345e-5, "1.2345E-5"},
		{37.7749295, "37.7749295"},
		{1e21, "1.0E21"},
	}
	for _, tt := range tests {
		if got := string(appendJavaDouble(nil, tt.in)); got != tt.want {
			t.Errorf("appendJavaDouble(%v) = %s, want %s", tt.in, got, tt.want)
		}
		var back float64
		if err := json.Unmarshal([]byte(tt.want), &back); err != nil || back != tt.in {
			t.Errorf("%s decodes to %v (%v)", tt.want, back, err)
		}
	}
}

func TestAppendNumFormats(t *testing.T) {
	dt := time.Date(2024, 1, 2, 3, 4, 5, 6e6, time.UTC).UnixMilli()
	tests := []struct {
		k    valueKind
		n    int64
		want string
	}{
		{vkDateTime, dt, `"2024-01-02T03:04:05.006+0000"`},
		{vkDate, time.Date(1960, 7, 8, 0, 0, 0, 0, time.UTC).UnixMilli(), `"1960-07-08"`},
		{vkTime, (13*3600 + 30*60) * 1000, `"13:30:00.000Z"`},
		{vkBool, 1, "true"},
		{vkInt, -42, "-42"},
		{vkFloat, int64(math.Float64bits(1.5)), "1.5"},
		{vkInt, nullNum, "null"},
	}
	for _, tt := range tests {
		if got := string(appendNum(nil, tt.k, tt.n)); got != tt.want {
			t.Errorf("appendNum(%d, %d) = %s, want %s", tt.k, tt.n, got, tt.want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range descriptions {
		f.Add(s)
	}
	f.Add("\x00\x1f\u2028\u2029\xff\xfe")
	f.Fuzz(func(t *testing.T, s string) {
		b := appendString(nil, s)
		var back string
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("%q rendered as invalid JSON %s: %v", s, b, err)
		}
		want := strings.ToValidUTF8(s, "\ufffd")
		if back != want {
			// encoding/json replaces each invalid byte; so do we.
			std, _ := json.Marshal(s)
			var stdBack string
			_ = json.Unmarshal(std, &stdBack)
			if back != stdBack {
				t.Fatalf("%q round-tripped to %q, want %q", s, back, stdBack)
			}
		}
	})
}

func FuzzParseDateTime(f *testing.F) {
	for _, s := range []string{"2024-01-02T03:04:05Z", "2024-01-02T03:04:05.000+0000", "2024-01-02T03:04:05+02:00", "2024-01-02T03:04:05", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := parseDateTime(s)
		if err != nil {
			return
		}
		if tm.Location() != time.UTC || tm.Nanosecond()%1e6 != 0 {
			t.Fatalf("%q parsed to %v", s, tm)
		}
		// What we render parses back to the same instant.
		again, err := parseDateTime(tm.Format(restDateTime))
		if err != nil || !again.Equal(tm) {
			t.Fatalf("%q: %v re-parsed as %v, %v", s, tm, again, err)
		}
	})
}

func TestIDs(t *testing.T) {
	full, ok := to18("00D000000000062")
	if !ok || full != "00D000000000062EAA" {
		t.Errorf("to18(00D000000000062) = %s, %v; want 00D000000000062EAA", full, ok)
	}
	for _, n := range []int64{0, 1, 61, 62, 12345678, maxRecNo} {
		id := makeID("001", n)
		if len(id) != 18 {
			t.Fatalf("makeID = %q", id)
		}
		if back, ok := to18(id[:15]); !ok || back != id {
			t.Errorf("suffix of %s recomputed as %s", id, back)
		}
		got, err := parseID("001", id)
		if err != nil || got != n {
			t.Errorf("parseID(%s) = %d, %v; want %d", id, got, err, n)
		}
		if got, err := parseID("001", id[:15]); err != nil || got != n {
			t.Errorf("parseID of the 15-character form: %d, %v", got, err)
		}
	}
	if makeID("001", 61) >= makeID("001", 62) {
		t.Error("Ids do not sort in record order")
	}
	for _, bad := range []string{"", "001", "0015g0000004C92AAX", "0035g0000004C92AAE", "001xx0000004C92", "001 5g000004C92AAE"} {
		if _, err := parseID("001", bad); err == nil {
			t.Errorf("parseID(%q) succeeded", bad)
		}
	}
}
