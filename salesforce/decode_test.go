package salesforce

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
)

// decodeFields covers every value kind.
var decodeFields = []sfsync.Field{
	{Name: "Id", Type: sfsync.TypeID},
	{Name: "Name", Type: sfsync.TypeString},
	{Name: "Flag__c", Type: sfsync.TypeBoolean},
	{Name: "Count__c", Type: sfsync.TypeInt},
	{Name: "Big__c", Type: sfsync.TypeLong},
	{Name: "Amount__c", Type: sfsync.TypeCurrency, Precision: 18, Scale: 2},
	{Name: "Ratio__c", Type: sfsync.TypeDouble},
	{Name: "Day__c", Type: sfsync.TypeDate},
	{Name: "At__c", Type: sfsync.TypeTime},
	{Name: "SystemModstamp", Type: sfsync.TypeDateTime},
	{Name: "Any__c", Type: sfsync.TypeAnyType},
}

const nf = 11

func rec(vals map[int]any) sfsync.Record {
	r := make(sfsync.Record, nf)
	for i, v := range vals {
		r[i] = v
	}
	return r
}

func page(records ...string) string {
	return `{"totalSize":` + fmt.Sprint(len(records)) + `,"done":true,"records":[` + strings.Join(records, ",") + `]}`
}

func TestDecodeValues(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ms int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ms*1e6, time.UTC)
	}
	tests := []struct {
		name string
		json string // one record
		want sfsync.Record
	}{
		{
			name: "typical record",
			json: `{"attributes":{"type":"X","url":"/x"},"Id":"a01000000000001AAA","Name":"Acme","Flag__c":true,"Count__c":42,"Big__c":9007199254740993,
				"Amount__c":1234.50,"Ratio__c":0.25,"Day__c":"2024-02-29","At__c":"13:30:00.000Z","SystemModstamp":"2024-01-02T03:04:05.000+0000","Any__c":"x"}`,
			want: sfsync.Record{"a01000000000001AAA", "Acme", true, int64(42), int64(9007199254740993), sfsync.Decimal("1234.5"), 0.25,
				utc(2024, 2, 29, 0, 0, 0, 0), utc(1970, 1, 1, 13, 30, 0, 0), utc(2024, 1, 2, 3, 4, 5, 0), "x"},
		},
		{
			name: "nulls and missing fields",
			json: `{"Id":"a01000000000002AAA","Name":null,"Flag__c":null,"Amount__c":null,"SystemModstamp":null}`,
			want: rec(map[int]any{0: "a01000000000002AAA"}),
		},
		{
			name: "datetime forms",
			json: `{"SystemModstamp":"2024-01-02T03:04:05.123Z","Day__c":"1999-12-31"}`,
			want: rec(map[int]any{9: utc(2024, 1, 2, 3, 4, 5, 123), 7: utc(1999, 12, 31, 0, 0, 0, 0)}),
		},
		{
			name: "datetime with offset",
			json: `{"SystemModstamp":"2024-01-02T03:04:05.000+0530"}`,
			want: rec(map[int]any{9: utc(2024, 1, 1, 21, 34, 5, 0)}),
		},
		{
			name: "datetime with colon offset and no millis",
			json: `{"SystemModstamp":"2024-01-02T03:04:05-08:00"}`,
			want: rec(map[int]any{9: utc(2024, 1, 2, 11, 4, 5, 0)}),
		},
		{
			name: "exponent numbers",
			json: `{"Amount__c":1.39E8,"Ratio__c":-2.5e-3,"Count__c":1.2E3,"Big__c":-0}`,
			want: rec(map[int]any{5: sfsync.Decimal("139000000"), 6: -0.0025, 3: int64(1200), 4: int64(0)}),
		},
		{
			name: "decimal canonical forms",
			json: `{"Amount__c":-0.000,"Ratio__c":1e308}`,
			want: rec(map[int]any{5: sfsync.Decimal("0"), 6: 1e308}),
		},
		{
			name: "numbers and booleans sent as strings",
			json: `{"Amount__c":"12.30","Count__c":"7","Flag__c":"false"}`,
			want: rec(map[int]any{5: sfsync.Decimal("12.3"), 3: int64(7), 2: false}),
		},
		{
			name: "strings with escapes, unicode and NUL",
			json: `{"Name":"a\"b\\c\/d\n\t\u00e9\u0000 \ud83d\ude00 ☕ \ud800x"}`,
			want: rec(map[int]any{1: "a\"b\\c/d\n\té\x00 😀 ☕ \ufffdx"}),
		},
		{
			name: "anyType and strings take any JSON",
			json: `{"Any__c":{"a":[1,2,{"b":null}]},"Name":12.50,"Id":true}`,
			want: rec(map[int]any{10: `{"a":[1,2,{"b":null}]}`, 1: "12.50", 0: "true"}),
		},
		{
			name: "keys in another case, unknown and nested fields skipped",
			json: `{"NAME":"upper","Owner":{"attributes":{"type":"User"},"Name":"Ann","Manager":{"Name":"Bo"}},"Other__c":[1,{"x":"y"}],"Extra":null}`,
			want: rec(map[int]any{1: "upper"}),
		},
		{
			name: "whitespace everywhere",
			json: " {\n \"Id\" :\t\"x\" ,\r\n \"Count__c\" : -17 } ",
			want: rec(map[int]any{0: "x", 3: int64(-17)}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newRecordDecoder("Thing__c", decodeFields)
			p, err := decodePage([]byte(page(tt.json)), d)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if len(p.records) != 1 {
				t.Fatalf("%d records", len(p.records))
			}
			if d := cmp.Diff(tt.want, p.records[0]); d != "" {
				t.Errorf("record (-want +got):\n%s", d)
			}
		})
	}
}

func TestDecodeMisfits(t *testing.T) {
	tests := []struct {
		name      string
		json      string
		wantField string
		wantID    string
		wantIn    string
	}{
		{"string for int", `{"Count__c":"seven","Id":"a01000000000003AAA"}`, "Count__c", "a01000000000003AAA", `want a number, got "seven"`},
		{"fraction for int", `{"Id":"a01","Count__c":1.5}`, "Count__c", "a01", "want a whole number"},
		{"int overflow", `{"Id":"a01","Big__c":9223372036854775808}`, "Big__c", "a01", "out of range"},
		{"float overflow", `{"Id":"a01","Ratio__c":1e400}`, "Ratio__c", "a01", "out of range"},
		{"bad datetime", `{"Id":"a01","SystemModstamp":"2024-13-45T00:00:00.000+0000"}`, "SystemModstamp", "a01", "datetime"},
		{"bad date", `{"Id":"a01","Day__c":"2023-02-29"}`, "Day__c", "a01", "date"},
		{"bad time", `{"Id":"a01","At__c":"25:00"}`, "At__c", "a01", "time"},
		{"number for bool", `{"Id":"a01","Flag__c":1}`, "Flag__c", "a01", "want bool"},
		{"object for decimal", `{"Id":"a01","Amount__c":{"x":1}}`, "Amount__c", "a01", "JSON object"},
		{"bool for date", `{"Id":"a01","Day__c":true}`, "Day__c", "a01", "got a boolean"},
		{"no Id", `{"Count__c":"x"}`, "Count__c", "", "want a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newRecordDecoder("Thing__c", decodeFields)
			_, err := decodePage([]byte(page(tt.json)), d)
			var de *decodeError
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a decode error", err)
			}
			if de.Object != "Thing__c" || de.Field != tt.wantField || de.ID != tt.wantID {
				t.Errorf("decodeError = %+v, want field %s id %q", de, tt.wantField, tt.wantID)
			}
			msg := err.Error()
			for _, w := range []string{"Thing__c", tt.wantField, tt.wantIn} {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
			if !errors.Is(err, sfsync.ErrPermanent) || Classify(err) != Permanent {
				t.Errorf("error %v is not permanent", err)
			}
		})
	}
}

func TestDecodeIdNotSelected(t *testing.T) {
	d := newRecordDecoder("Thing__c", []sfsync.Field{{Name: "Count__c", Type: sfsync.TypeInt}})
	_, err := decodePage([]byte(page(`{"Count__c":"x","Id":"a0199"}`)), d)
	var de *decodeError
	if !errors.As(err, &de) || de.ID != "a0199" {
		t.Errorf("err = %v, want it to name record a0199", err)
	}
}

func TestDecodePageShape(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		wantErr   string
		truncated bool
		total     int64
		done      bool
		next      string
		n         int
	}{
		{name: "empty result", body: `{"totalSize":0,"done":true,"records":[]}`, total: 0, done: true},
		{name: "records first", body: `{"records":[{"Id":"a"}],"nextRecordsUrl":"/services/data/v62.0/query/01g-2","done":false,"totalSize":5}`, total: 5, next: "/services/data/v62.0/query/01g-2", n: 1},
		{name: "null records and next", body: `{"totalSize":0,"done":true,"nextRecordsUrl":null,"records":null}`, done: true},
		{name: "not done without next", body: `{"totalSize":5,"done":false,"records":[]}`, wantErr: "no nextRecordsUrl"},
		{name: "trailing garbage", body: `{"totalSize":0,"done":true,"records":[]} x`, wantErr: "after the end"},
		{name: "array body", body: `[{"message":"x"}]`, wantErr: "want '{'"},
		{name: "html", body: `<html>`, wantErr: "malformed JSON"},
		{name: "bad literal", body: `{"done":tru,"records":[]}`, wantErr: "invalid literal"},
		{name: "empty", body: ``, truncated: true},
		{name: "cut in a key", body: `{"totalSize":1,"done":true,"rec`, truncated: true},
		{name: "cut in a record", body: `{"totalSize":1,"done":true,"records":[{"Id":"a01","Count__c":12`, truncated: true},
		{name: "cut in a string escape", body: `{"totalSize":1,"done":true,"records":[{"Name":"ab\u00`, truncated: true},
		{name: "cut in a literal", body: `{"totalSize":1,"done":true,"records":[{"Flag__c":tr`, truncated: true},
		{name: "cut before the end", body: `{"totalSize":1,"done":true,"records":[]`, truncated: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newRecordDecoder("Thing__c", decodeFields)
			p, err := decodePage([]byte(tt.body), d)
			switch {
			case tt.truncated:
				if !errors.Is(err, io.ErrUnexpectedEOF) || Classify(err) != Retryable {
					t.Fatalf("err = %v, want a retryable truncation", err)
				}
				return
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if Classify(err) != Permanent || !errors.Is(err, sfsync.ErrPermanent) {
					t.Errorf("err %v is not permanent", err)
				}
				return
			case err != nil:
				t.Fatalf("decode: %v", err)
			}
			if p.total != tt.total || p.done != tt.done || p.next != tt.next || len(p.records) != tt.n {
				t.Errorf("page = total %d done %v next %q n %d", p.total, p.done, p.next, len(p.records))
			}
		})
	}
}

// FuzzDecodePage feeds arbitrary bodies to the decoder: it must never
// panic, and whatever it accepts must be valid JSON of the documented shape
// with records laid out as the fields.
func FuzzDecodePage(f *testing.F) {
	f.Add(page(`{"Id":"a","Name":"x\u00e9","Flag__c":true,"Count__c":3,"Amount__c":1.5e2,"SystemModstamp":"2024-01-02T03:04:05.000+0000"}`))
	f.Add(page(`{"Any__c":[{"a":null}],"Day__c":"2024-01-01","At__c":"01:02:03Z","Ratio__c":-0.0}`))
	f.Add(`{"totalSize":1,"done":false,"nextRecordsUrl":"/x","records":[{"Big__c":"9"}]}`)
	f.Add(`{"records":[{"Name":"\ud83d\ude00"}],"done":true}`)
	f.Add(`{"a":{"b":[[[[]]]]}}`)
	f.Fuzz(func(t *testing.T, body string) {
		d := newRecordDecoder("Thing__c", decodeFields)
		p, err := decodePage([]byte(body), d)
		if err != nil {
			if Classify(err) == Retryable && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("retryable error that is not a truncation: %v", err)
			}
			return
		}
		if !json.Valid([]byte(body)) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
		for _, r := range p.records {
			if len(r) != nf {
				t.Fatalf("record has %d values, want %d", len(r), nf)
			}
			for i, v := range r {
				if v == nil {
					continue
				}
				ok := false
				switch decodeFields[i].Kind() {
				case sfsync.KindString:
					_, ok = v.(string)
				case sfsync.KindBool:
					_, ok = v.(bool)
				case sfsync.KindInt:
					_, ok = v.(int64)
				case sfsync.KindDecimal:
					var dec sfsync.Decimal
					dec, ok = v.(sfsync.Decimal)
					if _, valid := dec.Rat(); ok && !valid {
						t.Fatalf("decimal %q does not parse", dec)
					}
				case sfsync.KindFloat:
					_, ok = v.(float64)
				case sfsync.KindDate, sfsync.KindTime, sfsync.KindDateTime:
					var tm time.Time
					tm, ok = v.(time.Time)
					if ok && tm.Location() != time.UTC {
						t.Fatalf("time %v is not UTC", tm)
					}
				}
				if !ok {
					t.Fatalf("field %s holds %T", decodeFields[i].Name, v)
				}
			}
		}
		// The same body decoded raw agrees on the record count.
		raw, err := decodePage([]byte(body), nil)
		if err != nil {
			t.Fatalf("raw decode failed where typed decode succeeded: %v", err)
		}
		if len(raw.raw) != len(p.records) {
			t.Fatalf("raw decode found %d records, typed %d", len(raw.raw), len(p.records))
		}
	})
}

// FuzzDecodeString checks the string decoder against encoding/json.
func FuzzDecodeString(f *testing.F) {
	for _, s := range []string{`"a"`, `"\u00e9\n"`, `"\ud83d\ude00"`, `"\ud800\u0041"`, `"\udc00"`, "\"\xff\"", `"\/"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, lit string) {
		s := &scanner{data: []byte(lit)}
		got, err := s.str()
		var want string
		jerr := json.Unmarshal([]byte(lit), &want)
		if err == nil && s.end() != nil {
			return // a valid string prefix with trailing data
		}
		if (err == nil) != (jerr == nil) {
			t.Fatalf("%q: scanner err %v, encoding/json err %v", lit, err, jerr)
		}
		if err == nil && string(got) != want {
			t.Fatalf("%q: scanner %q, encoding/json %q", lit, got, want)
		}
	})
}

// benchPage is a 2000-record page of 30 typed fields, shaped like REST
// query output.
func benchPage(b *testing.B) ([]byte, []sfsync.Field) {
	b.Helper()
	var fields []sfsync.Field
	kinds := []sfsync.FieldType{sfsync.TypeString, sfsync.TypeCurrency, sfsync.TypeDateTime, sfsync.TypeBoolean, sfsync.TypeInt, sfsync.TypeDate}
	fields = append(fields, sfsync.Field{Name: "Id", Type: sfsync.TypeID})
	for i := 1; len(fields) < 30; i++ {
		ft := kinds[i%len(kinds)]
		fields = append(fields, sfsync.Field{Name: fmt.Sprintf("F%02d__c", i), Type: ft, Precision: 18, Scale: 2})
	}
	var sb strings.Builder
	sb.WriteString(`{"totalSize":100000,"done":false,"nextRecordsUrl":"/services/data/v62.0/query/01gX-2000","records":[`)
	for r := range 2000 {
		if r > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"attributes":{"type":"Thing__c","url":"/services/data/v62.0/sobjects/Thing__c/a01%015d"},"Id":"a01%015d"`, r, r)
		for _, f := range fields[1:] {
			fmt.Fprintf(&sb, `,%q:`, f.Name)
			switch f.Type {
			case sfsync.TypeString:
				fmt.Fprintf(&sb, `"Some text value %d with \"quotes\""`, r)
			case sfsync.TypeCurrency:
				fmt.Fprintf(&sb, `%d.%02d`, r*37, r%100)
			case sfsync.TypeDateTime:
				fmt.Fprintf(&sb, `"2024-01-02T03:%02d:%02d.000+0000"`, r%60, r%59)
			case sfsync.TypeBoolean:
				fmt.Fprintf(&sb, `%v`, r%2 == 0)
			case sfsync.TypeInt:
				fmt.Fprintf(&sb, `%d`, r*11)
			case sfsync.TypeDate:
				fmt.Fprintf(&sb, `"2023-%02d-%02d"`, r%12+1, r%28+1)
			}
		}
		sb.WriteByte('}')
	}
	sb.WriteString(`]}`)
	return []byte(sb.String()), fields
}

func BenchmarkDecodePage(b *testing.B) {
	data, fields := benchPage(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		d := newRecordDecoder("Thing__c", fields)
		p, err := decodePage(data, d)
		if err != nil || len(p.records) != 2000 {
			b.Fatalf("decode: %v", err)
		}
	}
	b.ReportMetric(float64(2000*b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkDecodePageMap is the map-per-record decoding the typed decoder
// replaces, for comparison.
func BenchmarkDecodePageMap(b *testing.B) {
	data, _ := benchPage(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var p struct {
			Records []map[string]any `json:"records"`
		}
		if err := json.Unmarshal(data, &p); err != nil || len(p.Records) != 2000 {
			b.Fatalf("decode: %v", err)
		}
	}
	b.ReportMetric(float64(2000*b.N)/b.Elapsed().Seconds(), "records/s")
}
