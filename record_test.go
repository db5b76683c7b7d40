package sfsync

import (
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestParseDecimal(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      bool
	}{
		{in: "0", want: "0"},
		{in: "-0.0", want: "0"},
		{in: "12.50", want: "12.5"},
		{in: "+12.50", want: "12.5"},
		{in: "1.39E8", want: "139000000"},
		{in: "1.39e+8", want: "139000000"},
		{in: "-5E-3", want: "-0.005"},
		{in: "123456789012345678.12", want: "123456789012345678.12"},
		{in: "9.999999999999999999999999999999999999E37", want: "99999999999999999999999999999999999990"},
		{in: "", bad: true},
		{in: "abc", bad: true},
		{in: "1/3", bad: true},
		{in: "NaN", bad: true},
		{in: "1..2", bad: true},
	} {
		got, err := ParseDecimal(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("ParseDecimal(%q) = %q, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("ParseDecimal(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestDecimalScaled(t *testing.T) {
	for _, tc := range []struct {
		d          Decimal
		prec, sc   int
		want       string
		wantErrSub string
	}{
		{d: "12.5", prec: 18, sc: 2, want: "1250"},
		{d: "-0.01", prec: 18, sc: 2, want: "-1"},
		{d: "12.345", prec: 18, sc: 2, wantErrSub: "more than 2 fractional digits"},
		{d: "1000", prec: 3, sc: 0, wantErrSub: "does not fit DECIMAL(3,0)"},
		{d: "999", prec: 3, sc: 0, want: "999"},
	} {
		got, err := tc.d.Scaled(tc.prec, tc.sc)
		if tc.wantErrSub != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErrSub) {
				t.Errorf("%s.Scaled(%d,%d) error = %v, want %q", tc.d, tc.prec, tc.sc, err, tc.wantErrSub)
			}
			continue
		}
		if err != nil || got.String() != tc.want {
			t.Errorf("%s.Scaled(%d,%d) = %v, %v; want %s", tc.d, tc.prec, tc.sc, got, err, tc.want)
		}
	}
}

func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"0", "1.5", "-1.39E8", "1e-30", "123.000", "+.5", "5."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 64 {
			return
		}
		d, err := ParseDecimal(s)
		if err != nil {
			return
		}
		// Canonical form is a fixed point of parsing and equals the input.
		again, err := ParseDecimal(string(d))
		if err != nil || again != d {
			t.Fatalf("ParseDecimal(%q) = %q, reparsed %q, %v", s, d, again, err)
		}
		if strings.ContainsAny(string(d), "eE+") {
			t.Fatalf("ParseDecimal(%q) = %q has an exponent or plus", s, d)
		}
		in, _ := new(big.Rat).SetString(strings.TrimSpace(s))
		out, _ := d.Rat()
		if in.Cmp(out) != 0 {
			t.Fatalf("ParseDecimal(%q) = %q changes the value", s, d)
		}
	})
}

func TestParseTemporal(t *testing.T) {
	want := time.Date(2024, 1, 2, 3, 4, 5, 123e6, time.UTC)
	for _, s := range []string{"2024-01-02T03:04:05.123+0000", "2024-01-02T03:04:05.123Z", "2024-01-02T05:04:05.123+02:00", "2024-01-01T22:04:05.123-0500"} {
		got, err := ParseDateTime(s)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseDateTime(%q) = %v, %v; want %v UTC", s, got, err, want)
		}
	}
	if _, err := ParseDateTime("2024-01-02 03:04:05"); err == nil {
		t.Error("ParseDateTime accepted a space-separated datetime")
	}
	d, err := ParseDate("2024-02-29")
	if err != nil || !d.Equal(time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("ParseDate = %v, %v", d, err)
	}
	if _, err := ParseDate("2023-02-29"); err == nil {
		t.Error("ParseDate accepted 2023-02-29")
	}
	tm, err := ParseTime("13:30:00.250Z")
	if err != nil || !tm.Equal(time.Date(1970, 1, 1, 13, 30, 0, 250e6, time.UTC)) {
		t.Errorf("ParseTime = %v, %v", tm, err)
	}
}

func TestReplicatedFields(t *testing.T) {
	obj := &Object{Fields: []Field{
		{Name: "Name", Type: TypeString},
		{Name: "Id", Type: TypeID},
		{Name: "BillingAddress", Type: TypeAddress},
		{Name: "BillingCity", Type: TypeString, CompoundName: "BillingAddress"},
		{Name: "IsDeleted", Type: TypeBoolean},
		{Name: "SystemModstamp", Type: TypeDateTime},
		{Name: "Secret__c", Type: TypeString},
	}}
	names := func(fs []Field) string {
		var s []string
		for _, f := range fs {
			s = append(s, f.Name)
		}
		return strings.Join(s, ",")
	}
	if got := names(obj.ReplicatedFields(nil, nil)); got != "Id,Name,BillingCity,IsDeleted,SystemModstamp,Secret__c" {
		t.Errorf("all fields = %s", got)
	}
	if got := names(obj.ReplicatedFields(nil, []string{"secret__c", "systemmodstamp"})); got != "Id,Name,BillingCity,IsDeleted,SystemModstamp" {
		t.Errorf("exclude = %s", got)
	}
	if got := names(obj.ReplicatedFields([]string{"Name"}, nil)); got != "Id,Name,IsDeleted,SystemModstamp" {
		t.Errorf("include = %s", got)
	}
	if got := obj.CursorField(); got != "SystemModstamp" {
		t.Errorf("CursorField = %q", got)
	}
	noStamp := &Object{Fields: []Field{{Name: "Id", Type: TypeID}, {Name: "CreatedDate", Type: TypeDateTime}}}
	if got := noStamp.CursorField(); got != "CreatedDate" {
		t.Errorf("fallback CursorField = %q", got)
	}
	if got := (&Object{}).CursorField(); got != "" {
		t.Errorf("no timestamp CursorField = %q", got)
	}
}

func TestKinds(t *testing.T) {
	for _, tc := range []struct {
		f    Field
		want Kind
	}{
		{Field{Type: TypeCurrency, Precision: 18, Scale: 2}, KindDecimal},
		{Field{Type: TypeDouble}, KindFloat},
		{Field{Type: TypeDouble, Precision: 60}, KindFloat},
		{Field{Type: TypeLong}, KindInt},
		{Field{Type: TypeLocation}, KindCompound},
		{Field{Type: "somethingnew"}, KindString},
		{Field{Type: TypeTime}, KindTime},
	} {
		if got := tc.f.Kind(); got != tc.want {
			t.Errorf("%+v Kind = %v, want %v", tc.f, got, tc.want)
		}
	}
}

// FuzzScaledFast checks the fast decimal path against the exact one:
// whenever it answers, it answers the same.
func FuzzScaledFast(f *testing.F) {
	for _, s := range []string{"0", "-0", "1.5", "-1234.56", "0.001", "99999999999999999999.99", "007", "-", ".5", "1.", "1e5"} {
		f.Add(s, 18, 2)
	}
	f.Fuzz(func(t *testing.T, s string, precision, scale int) {
		if precision < 1 || precision > 38 || scale < 0 || scale > precision {
			return
		}
		fast, ok := scaledFast(s, precision, scale)
		if !ok {
			return
		}
		slow, err := Decimal(s).scaledExact(precision, scale)
		if err != nil {
			t.Fatalf("scaledFast(%q, %d, %d) = %v, but scaledExact fails: %v", s, precision, scale, fast, err)
		}
		if fast.Cmp(slow) != 0 {
			t.Fatalf("scaledFast(%q, %d, %d) = %v, scaledExact = %v", s, precision, scale, fast, slow)
		}
	})
}

// TestPlainDecimalMatchesRat checks the fast path of ParseDecimal against
// the big.Rat one on plain decimals of every shape it takes.
func TestPlainDecimalMatchesRat(t *testing.T) {
	var inputs []string
	for _, sign := range []string{"", "-", "+"} {
		for _, whole := range []string{"0", "00", "7", "007", "1234567890123456789012345", "100"} {
			for _, frac := range []string{"", ".0", ".5", ".50", ".000", ".0001", ".123456789012345678901"} {
				inputs = append(inputs, sign+whole+frac)
			}
		}
	}
	for _, in := range inputs {
		fast, ok := plainDecimal(in)
		if !ok {
			t.Errorf("plainDecimal(%q) declined a plain decimal", in)
			continue
		}
		slow, err := parseDecimalRat(in, in)
		if err != nil || fast != slow {
			t.Errorf("plainDecimal(%q) = %q; big.Rat gives %q, %v", in, fast, slow, err)
		}
	}
	for _, in := range []string{"1e5", ".5", "5.", "-", "+", "1.2.3", "1-2", "0x10", "1_000"} {
		if d, ok := plainDecimal(in); ok {
			t.Errorf("plainDecimal(%q) = %q; want it left to the slow path", in, d)
		}
	}
}
