package salesforce

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
)

// readAllCSV reads every record of input.
func readAllCSV(input string, delim byte) ([][]string, error) {
	r := newCSVReader(strings.NewReader(input), delim)
	var out [][]string
	for {
		err := r.read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		rec := make([]string, r.fields())
		for i := range rec {
			rec[i] = string(r.field(i))
		}
		out = append(out, rec)
	}
}

func TestCSVReader(t *testing.T) {
	big := strings.Repeat("x,\"y\"\n🚀", 1<<18) // 2.25 MB, far over the buffer
	for _, tc := range []struct {
		name  string
		in    string
		delim byte
		want  [][]string
		err   error // wrapped by the error, when one is expected
	}{
		{name: "quoted", in: "\"a\",\"b\"\n\"c\",\"d\"\n", want: [][]string{{"a", "b"}, {"c", "d"}}},
		{name: "unquoted", in: "a,b\nc,d\n", want: [][]string{{"a", "b"}, {"c", "d"}}},
		{name: "empty values", in: "\"\",,\"x\",\n", want: [][]string{{"", "", "x", ""}}},
		{name: "doubled quotes", in: `"say ""hi""","""",""""""` + "\n", want: [][]string{{`say "hi"`, `"`, `""`}}},
		{name: "embedded newlines kept byte for byte", in: "\"a\nb\",\"c\r\nd\",\"\r\"\n", want: [][]string{{"a\nb", "c\r\nd", "\r"}}},
		{name: "CRLF line endings", in: "\"a\",b\r\n\"c\",d\r\n", want: [][]string{{"a", "b"}, {"c", "d"}}},
		{name: "no final newline", in: "\"a\",\"b\"\nc,\"d\"", want: [][]string{{"a", "b"}, {"c", "d"}}},
		{name: "no final newline, unquoted", in: "a,b", want: [][]string{{"a", "b"}}},
		{name: "blank lines skipped", in: "\n\"a\"\n\r\n\nb\n\n", want: [][]string{{"a"}, {"b"}}},
		{name: "delimiter inside quotes", in: "\"a,b\",\"c\"\n", want: [][]string{{"a,b", "c"}}},
		{name: "NUL bytes", in: "\"a\x00b\",\x00\n", want: [][]string{{"a\x00b", "\x00"}}},
		{name: "unicode", in: "\"Ünïcödé 中文\",🚀\n", want: [][]string{{"Ünïcödé 中文", "🚀"}}},
		{name: "quote inside an unquoted value", in: "a\"b,c\n", want: [][]string{{"a\"b", "c"}}},
		{name: "pipe", in: "\"a|b\"|c|\"d\"\n", delim: '|', want: [][]string{{"a|b", "c", "d"}}},
		{name: "tab", in: "\"a\"\tb\t\n", delim: '\t', want: [][]string{{"a", "b", ""}}},
		{name: "semicolon", in: "a;\"b;c\"\n", delim: ';', want: [][]string{{"a", "b;c"}}},
		{name: "backquote", in: "a`\"`\"\n", delim: '`', want: [][]string{{"a", "`"}}},
		{name: "caret", in: "\"^\"^x\n", delim: '^', want: [][]string{{"^", "x"}}},
		{name: "commas are data with another delimiter", in: "a,b|c\n", delim: '|', want: [][]string{{"a,b", "c"}}},
		{name: "1 MB value", in: "\"" + strings.ReplaceAll(big, "\"", "\"\"") + "\",\"z\"\n", want: [][]string{{big, "z"}}},
		{name: "long unquoted line", in: strings.Repeat("v", 200_000) + ",w\n", want: [][]string{{strings.Repeat("v", 200_000), "w"}}},
		{name: "quote not closed", in: "\"a\",\"b\n", want: nil, err: io.ErrUnexpectedEOF},
		{name: "quote not closed over lines", in: "\"a\",\"b\nc\nd", want: nil, err: io.ErrUnexpectedEOF},
		{name: "text after a closing quote", in: "\"a\"b,c\n", err: sfsync.ErrPermanent},
		{name: "empty input", in: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			delim := tc.delim
			if delim == 0 {
				delim = ','
			}
			got, err := readAllCSV(tc.in, delim)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("error %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCSVReaderReadErrors(t *testing.T) {
	// A body that breaks off reports the transport's error, which the
	// classifier retries.
	r := newCSVReader(io.MultiReader(strings.NewReader("\"a\",\"b"), iotest.ErrReader(io.ErrUnexpectedEOF)), ',')
	if err := r.read(); !errors.Is(err, io.ErrUnexpectedEOF) || Classify(err) != Retryable {
		t.Fatalf("error %v (%v), want a retryable unexpected EOF", err, Classify(err))
	}
	r = newCSVReader(strings.NewReader("\"a\"x\n"), ',')
	if err := r.read(); Classify(err) != Permanent || !strings.Contains(err.Error(), "record 1") {
		t.Fatalf("malformed CSV: %v (%v), want a permanent error naming the record", err, Classify(err))
	}
}

// decodeCSV decodes a whole result (header first) into records.
func decodeCSV(input string, fields []sfsync.Field) ([]sfsync.Record, error) {
	r := newCSVReader(strings.NewReader(input), ',')
	d := newCSVDecoder("Account", fields)
	if err := r.read(); err != nil {
		return nil, err
	}
	if err := d.header(r); err != nil {
		return nil, err
	}
	var out []sfsync.Record
	for {
		err := r.read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		rec, err := d.record(r)
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
}

// kindFields has one field of every kind.
var kindFields = []sfsync.Field{
	{Name: "Id", Type: sfsync.TypeID},
	{Name: "Name", Type: sfsync.TypeString},
	{Name: "Active__c", Type: sfsync.TypeBoolean},
	{Name: "Employees", Type: sfsync.TypeInt},
	{Name: "Revenue", Type: sfsync.TypeCurrency, Precision: 18, Scale: 2},
	{Name: "Ratio", Type: sfsync.TypeDouble},
	{Name: "Since", Type: sfsync.TypeDate},
	{Name: "Opens", Type: sfsync.TypeTime},
	{Name: "SystemModstamp", Type: sfsync.TypeDateTime},
}

func TestCSVDecoder(t *testing.T) {
	head := `"Id","Name","Active__c","Employees","Revenue","Ratio","Since","Opens","SystemModstamp"` + "\n"
	day := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, in string
		want     []sfsync.Record
		err      string
	}{
		{
			name: "every kind",
			in:   head + `"001A","Acme","true","42","1000.50","0.25","2024-01-02","13:30:00.000Z","2024-01-02T03:04:05.000Z"` + "\n",
			want: []sfsync.Record{{"001A", "Acme", true, int64(42), sfsync.Decimal("1000.5"), 0.25, day,
				time.Date(1970, 1, 1, 13, 30, 0, 0, time.UTC), time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}},
		},
		{
			name: "nulls quoted and not",
			in:   head + `"001B","","",,"",,"",,""` + "\n",
			want: []sfsync.Record{{"001B", nil, nil, nil, nil, nil, nil, nil, nil}},
		},
		{
			name: "number and datetime forms",
			in:   head + `001C,x,false,-7,1.39E8,1e-3,2024-02-29,23:59:59Z,2024-01-02T03:04:05+0000` + "\n" + `001D,y,false,5.0,-0.0,15000.0,2024-01-02,00:00:00.000Z,2024-01-02T03:04:05.123Z` + "\n",
			want: []sfsync.Record{
				{"001C", "x", false, int64(-7), sfsync.Decimal("139000000"), 0.001, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
					time.Date(1970, 1, 1, 23, 59, 59, 0, time.UTC), time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
				{"001D", "y", false, int64(5), sfsync.Decimal("0"), 15000.0, day, time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
					time.Date(2024, 1, 2, 3, 4, 5, 123e6, time.UTC)},
			},
		},
		{
			name: "columns in another order, extra columns, names in another case",
			in: `"systemmodstamp","Owner.Name","ID","name","ACTIVE__C","Employees","Revenue","Ratio","Since","Opens"` + "\n" +
				`"2024-01-02T00:00:00.000Z","Ann","001E","Text ""q""",false,,,,,` + "\n",
			want: []sfsync.Record{{"001E", `Text "q"`, false, nil, nil, nil, nil, nil, day}},
		},
		{
			name: "hostile text stays text",
			in:   head + "\"001F\",\"null\",,,,,,,\n\"001G\",\"NA\",,,,,,,\n\"001H\",\"a\x00\r\nb,\"\"\",,,,,,,\n",
			want: []sfsync.Record{
				{"001F", "null", nil, nil, nil, nil, nil, nil, nil},
				{"001G", "NA", nil, nil, nil, nil, nil, nil, nil},
				{"001H", "a\x00\r\nb,\"", nil, nil, nil, nil, nil, nil, nil},
			},
		},
		{name: "missing column", in: `"Id","Name"` + "\n", err: "no column for field Active__c"},
		{name: "value count", in: head + `"001J","x"` + "\n", err: "2 values for 9 columns"},
		{name: "bad boolean", in: head + `"001K","x","yes",,,,,,` + "\n", err: "record 001K, field Active__c"},
		{name: "bad int", in: head + `"001L","x",,"4.5",,,,,` + "\n", err: "record 001L, field Employees"},
		{name: "bad decimal", in: head + `"001M","x",,,"12,5",,,,` + "\n", err: "record 001M, field Revenue"},
		{name: "bad date", in: head + `"001N","x",,,,,"2024-02-30",,` + "\n", err: "record 001N, field Since"},
		{name: "bad datetime", in: head + `"001O","x",,,,,,,"yesterday"` + "\n", err: "record 001O, field SystemModstamp"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeCSV(tc.in, kindFields)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || Classify(err) != Permanent {
					t.Fatalf("error %v, want a permanent error containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
		})
	}
}

// writeCSV renders records as Bulk results do: every value quoted.
func writeCSV(records [][]string, delim byte, eol string) string {
	var b strings.Builder
	for _, rec := range records {
		for i, v := range rec {
			if i > 0 {
				b.WriteByte(delim)
			}
			b.WriteString(`"` + strings.ReplaceAll(v, `"`, `""`) + `"`)
		}
		b.WriteString(eol)
	}
	return b.String()
}

func FuzzCSVRoundTrip(f *testing.F) {
	f.Add("plain", "with \"quotes\"", "new\nline\r\n", byte(','), false)
	f.Add("", "\x00", "🚀,;|", byte('|'), true)
	f.Fuzz(func(t *testing.T, a, b, c string, delim byte, crlf bool) {
		if delim == '"' || delim == '\n' || delim == '\r' {
			delim = ','
		}
		eol := "\n"
		if crlf {
			eol = "\r\n"
		}
		recs := [][]string{{a, b, c}, {c, a, b}}
		got, err := readAllCSV(writeCSV(recs, delim, eol), delim)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(recs, got); diff != "" {
			t.Fatalf("round trip (-want +got):\n%s", diff)
		}
	})
}

func FuzzCSVDecode(f *testing.F) {
	head := `"Id","Name","Active__c","Employees","Revenue","Ratio","Since","Opens","SystemModstamp"` + "\n"
	f.Add([]byte(head + `"001A","Acme","true","42","1000.50","0.25","2024-01-02","13:30:00.000Z","2024-01-02T03:04:05.000Z"` + "\n"))
	f.Add([]byte(head + "\"001B\",\"a\nb\",,,,,,,\n\"x"))
	f.Add([]byte("\"a\"\"\r\n,\x00\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Never panics; every error is classified.
		recs, err := decodeCSV(string(data), kindFields)
		if err != nil {
			_ = Classify(err)
			return
		}
		for _, r := range recs {
			if len(r) != len(kindFields) {
				t.Fatalf("record of %d values", len(r))
			}
			for i, v := range r {
				if v == "" {
					t.Fatalf("field %d: empty text, want nil", i)
				}
			}
		}
	})
}

// accountCSV renders n rows of a 30-column Account result.
func accountCSV(n int) ([]byte, []sfsync.Field) {
	var fields []sfsync.Field
	add := func(name string, typ sfsync.FieldType, p, s int) {
		fields = append(fields, sfsync.Field{Name: name, Type: typ, Precision: p, Scale: s})
	}
	add("Id", sfsync.TypeID, 0, 0)
	for i := range 12 {
		add(fmt.Sprintf("Text%d", i), sfsync.TypeString, 0, 0)
	}
	for i := range 4 {
		add(fmt.Sprintf("Flag%d", i), sfsync.TypeBoolean, 0, 0)
	}
	for i := range 3 {
		add(fmt.Sprintf("Count%d", i), sfsync.TypeInt, 0, 0)
	}
	for i := range 4 {
		add(fmt.Sprintf("Amount%d", i), sfsync.TypeCurrency, 18, 2)
	}
	for i := range 2 {
		add(fmt.Sprintf("Day%d", i), sfsync.TypeDate, 0, 0)
	}
	for i := range 4 {
		add(fmt.Sprintf("Stamp%d", i), sfsync.TypeDateTime, 0, 0)
	}
	var b bytes.Buffer
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + f.Name + `"`)
	}
	b.WriteByte('\n')
	for r := range n {
		fmt.Fprintf(&b, `"001RO%013dAAA"`, r)
		for i := range 12 {
			if (r+i)%7 == 0 {
				b.WriteString(`,""`)
				continue
			}
			fmt.Fprintf(&b, `,"Value %d of field %d, ""quoted"" text"`, r, i)
		}
		for i := range 4 {
			fmt.Fprintf(&b, `,"%v"`, (r+i)%2 == 0)
		}
		for i := range 3 {
			fmt.Fprintf(&b, `,"%d"`, r*(i+1))
		}
		for i := range 4 {
			fmt.Fprintf(&b, `,"%d.%02d"`, r*100+i, r%100)
		}
		for range 2 {
			b.WriteString(`,"2024-03-15"`)
		}
		for i := range 4 {
			fmt.Fprintf(&b, `,"2024-01-%02dT10:%02d:%02d.000Z"`, 1+i, r%60, (r/60)%60)
		}
		b.WriteByte('\n')
	}
	return b.Bytes(), fields
}

// BenchmarkCSVDecode decodes a 30-column Account result into Records, as
// Bulk extraction does.
func BenchmarkCSVDecode(b *testing.B) {
	const rows = 100_000
	data, fields := accountCSV(rows)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	r := newCSVReader(nil, ',')
	for b.Loop() {
		r.reset(bytes.NewReader(data))
		d := newCSVDecoder("Account", fields)
		if err := r.read(); err != nil {
			b.Fatal(err)
		}
		if err := d.header(r); err != nil {
			b.Fatal(err)
		}
		page := make([]sfsync.Record, 0, 10_000)
		n := 0
		for {
			err := r.read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rec, err := d.record(r)
			if err != nil {
				b.Fatal(err)
			}
			if len(page) == cap(page) {
				page = make([]sfsync.Record, 0, 10_000)
			}
			page = append(page, rec)
			n++
		}
		if n != rows {
			b.Fatalf("%d rows", n)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
