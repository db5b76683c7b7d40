package warehousetest

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
)

func cmpRows(a, b []map[string]any) string {
	return cmp.Diff(a, b)
}

func testAddedColumn(t *testing.T, h *harness) {
	v1 := sfsync.Table{
		Object: "Contact",
		Fields: []sfsync.Field{
			{Name: "Id", Type: sfsync.TypeID},
			{Name: "LastName", Type: sfsync.TypeString},
			{Name: "Old__c", Type: sfsync.TypeString},
			{Name: "SystemModstamp", Type: sfsync.TypeDateTime},
		},
		CursorField: "SystemModstamp",
	}
	h.ensure(v1)
	b := h.stage(v1, sfsync.Record{"003A", "Smith", "old value", at(1)})
	h.consolidate(v1, consolidation(v1, b, sfsync.DeleteSoft, false, at(1)))

	// Email is new; Old__c left the selection and keeps its column.
	v2 := sfsync.Table{
		Object: "Contact",
		Fields: []sfsync.Field{
			{Name: "Id", Type: sfsync.TypeID},
			{Name: "LastName", Type: sfsync.TypeString},
			{Name: "SystemModstamp", Type: sfsync.TypeDateTime},
			{Name: "Email", Type: sfsync.TypeEmail},
		},
		CursorField: "SystemModstamp",
	}
	h.ensure(v2)
	h.ensure(v2)
	row := func(id, name string, mod int, email, old any) map[string]any {
		return map[string]any{"Id": id, "LastName": name, "SystemModstamp": at(mod), "Email": email, "Old__c": old,
			sfsync.ColDeleted: false, sfsync.ColDeletedAt: nil}
	}
	h.wantRows("Contact", row("003A", "Smith", 1, nil, "old value"))

	b = h.stage(v2, sfsync.Record{"003A", "Smith", at(2), "smith@example.com"}, sfsync.Record{"003B", "Jones", at(2), nil})
	res := h.consolidate(v2, consolidation(v2, b, sfsync.DeleteSoft, false, at(2)))
	h.wantResult("load after the change", res, sfsync.ConsolidateResult{Staged: 2, Upserted: 2})
	// The removed field's column is no longer written: the updated row
	// keeps its value, the new row has none.
	h.wantRows("Contact",
		row("003A", "Smith", 2, "smith@example.com", "old value"),
		row("003B", "Jones", 2, nil, nil))

	// The old shape still works against the evolved table (a run that
	// started before the change): new columns stay as they were.
	h.ensure(v1)
	b = h.stage(v1, sfsync.Record{"003B", "Jones", "back", at(3)})
	h.consolidate(v1, consolidation(v1, b, sfsync.DeleteSoft, false, at(3)))
	h.wantRows("Contact",
		row("003A", "Smith", 2, "smith@example.com", "old value"),
		row("003B", "Jones", 3, nil, "back"))
}

func testDecimalWidened(t *testing.T, h *harness) {
	table := func(precision, scale int, textType sfsync.FieldType) sfsync.Table {
		return sfsync.Table{
			Object: "Opportunity",
			Fields: []sfsync.Field{
				{Name: "Id", Type: sfsync.TypeID},
				{Name: "Amount", Type: sfsync.TypeCurrency, Precision: precision, Scale: scale},
				{Name: "Code__c", Type: textType},
				{Name: "SystemModstamp", Type: sfsync.TypeDateTime},
			},
			CursorField: "SystemModstamp",
		}
	}
	row := func(id string, amount any, code any, mod int) map[string]any {
		return map[string]any{"Id": id, "Amount": amount, "Code__c": code, "SystemModstamp": at(mod),
			sfsync.ColDeleted: false, sfsync.ColDeletedAt: nil}
	}
	v1 := table(18, 2, sfsync.TypeString)
	h.ensure(v1)
	b := h.stage(v1, sfsync.Record{"006A", sfsync.Decimal("9999999999999999.99"), "A-1", at(1)})
	h.consolidate(v1, consolidation(v1, b, sfsync.DeleteSoft, false, at(1)))

	// Precision and scale grow: the column widens to hold both, exactly.
	v2 := table(20, 4, sfsync.TypeString)
	h.ensure(v2)
	b = h.stage(v2, sfsync.Record{"006B", sfsync.Decimal("9999999999999999.9999"), "B-1", at(2)})
	h.consolidate(v2, consolidation(v2, b, sfsync.DeleteSoft, false, at(2)))
	h.wantRows("Opportunity",
		row("006A", sfsync.Decimal("9999999999999999.99"), "A-1", 1),
		row("006B", sfsync.Decimal("9999999999999999.9999"), "B-1", 2))

	// Describe now says narrower, and Code__c became a number: nothing
	// narrows, and values are converted into the columns as they are.
	v3 := table(10, 0, sfsync.TypeInt)
	h.ensure(v3)
	b = h.stage(v3, sfsync.Record{"006C", sfsync.Decimal("1234567890"), int64(42), at(3)})
	h.consolidate(v3, consolidation(v3, b, sfsync.DeleteSoft, false, at(3)))
	h.wantRows("Opportunity",
		row("006A", sfsync.Decimal("9999999999999999.99"), "A-1", 1),
		row("006B", sfsync.Decimal("9999999999999999.9999"), "B-1", 2),
		row("006C", sfsync.Decimal("1234567890"), "42", 3))
}

// kindsTable has a field of every stored kind.
func kindsTable() sfsync.Table {
	return sfsync.Table{
		Object: "Kinds__c",
		Fields: []sfsync.Field{
			{Name: "Id", Type: sfsync.TypeID},
			{Name: "Text__c", Type: sfsync.TypeTextArea},
			{Name: "Flag__c", Type: sfsync.TypeBoolean},
			{Name: "Count__c", Type: sfsync.TypeLong},
			{Name: "Money__c", Type: sfsync.TypeCurrency, Precision: 18, Scale: 2},
			{Name: "Wide__c", Type: sfsync.TypeDouble, Precision: 38, Scale: 10},
			{Name: "Ratio__c", Type: sfsync.TypeDouble},
			{Name: "Day__c", Type: sfsync.TypeDate},
			{Name: "Clock__c", Type: sfsync.TypeTime},
			{Name: "Stamp__c", Type: sfsync.TypeDateTime},
		},
	}
}

func hostileStrings(maxBytes int) []string {
	big := strings.Repeat("0123456789abcdé", (1<<20)/16) // 1 MiB, multibyte runes included
	if maxBytes > 0 && maxBytes < len(big) {
		big = big[:maxBytes]
		for !utf8.ValidString(big) {
			big = big[:len(big)-1]
		}
	}
	return []string{
		"",
		"a\x00b",
		"\x00",
		"single ' double \" backtick `",
		"line1\nline2\r\nline3\rline4",
		"a,b,,c,",
		"tab\there",
		`back\slash \N \\`,
		"NULL",
		"   spaces around   ",
		"😀👍🏽🇫🇷 emoji",
		"Ünïcödé 中文 العربية עברית e\u0301 \u200b\ufeff",
		`{"json": [1, 2]}`,
		"<b>html</b> &amp;",
		big,
	}
}

func testRoundTrip(t *testing.T, h *harness) {
	tbl := kindsTable()
	h.ensure(tbl)
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	clock := func(hh, mm, ss, ms int) time.Time {
		return time.Date(1970, 1, 1, hh, mm, ss, ms*int(time.Millisecond), time.UTC)
	}
	records := []sfsync.Record{
		{"k-nulls", nil, nil, nil, nil, nil, nil, nil, nil, nil},
		{"k-max", "max", true, int64(math.MaxInt64), sfsync.Decimal("9999999999999999.99"),
			sfsync.Decimal("9999999999999999999999999999.9999999999"), math.MaxFloat64,
			day(9999, 12, 31), clock(23, 59, 59, 999), time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC)},
		{"k-min", "min", false, int64(math.MinInt64), sfsync.Decimal("-9999999999999999.99"),
			sfsync.Decimal("-9999999999999999999999999999.9999999999"), -math.SmallestNonzeroFloat64,
			day(1, 1, 1), clock(0, 0, 0, 0), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"k-typical", "typical", true, int64(0), sfsync.Decimal("0.01"),
			sfsync.Decimal("0.0000000001"), 3.141592653589793,
			day(2024, 2, 29), clock(13, 30, 0, 123), time.Date(2024, 2, 29, 23, 59, 59, 123e6, time.UTC)},
		{"k-salesforce-range", "range", false, int64(-1), sfsync.Decimal("-0.5"),
			sfsync.Decimal("123456789.123456789"), 6.02214076e23,
			day(1700, 1, 1), clock(12, 0, 0, 1), time.Date(4000, 12, 31, 0, 0, 0, 0, time.UTC)},
	}
	stored := map[string]string{} // Id → text stored, where it differs
	var rejected []sfsync.Record
	for i, s := range hostileStrings(h.limits.MaxTextBytes) {
		r := sfsync.Record{fmt.Sprintf("k-text-%02d", i), s, nil, nil, nil, nil, nil, nil, nil, nil}
		if h.limits.storedText != nil {
			out, ok := h.limits.storedText(s)
			if !ok {
				rejected = append(rejected, r)
				continue
			}
			if out != s {
				stored[r[0].(string)] = out
			}
		}
		records = append(records, r)
	}
	b := h.stage(tbl, records...)
	res := h.consolidate(tbl, consolidation(tbl, b, sfsync.DeleteSoft, true, time.Time{}))
	h.wantResult("round trip", res, sfsync.ConsolidateResult{Staged: int64(len(records)), Upserted: int64(len(records))})
	var want []map[string]any
	for _, r := range records {
		m := recordRow(tbl, r)
		if s, ok := stored[r[0].(string)]; ok {
			m["Text__c"] = s
		}
		m[sfsync.ColDeleted], m[sfsync.ColDeletedAt] = false, nil
		want = append(want, m)
	}
	// Text the warehouse says it rejects fails its batch, naming the
	// value's table, column and Id.
	for _, r := range rejected {
		s, err := h.w.Stage(h.ctx, tbl, h.batch(tbl.Object))
		if err != nil {
			t.Fatalf("Stage: %v", err)
		}
		err = s.Write(h.ctx, []sfsync.Record{r})
		if err == nil {
			err = s.Close(h.ctx)
		}
		s.Abort()
		errorContains(t, fmt.Sprintf("text %q the warehouse rejects", clipText(r[1].(string))), err, tbl.Object, "Text__c", r[0].(string))
	}
	got := h.rows(tbl.Object)
	sortByID(want)
	sortByID(got)
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		// Report by row, and never print a 1 MB value in full.
		if diff := cmp.Diff(want[i], got[i]); diff != "" {
			if len(diff) > 2000 {
				diff = diff[:2000] + "..."
			}
			t.Errorf("row %v (-want +got):\n%s", want[i]["Id"], diff)
		}
	}
}

func clipText(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

func testHostileIdentifiers(t *testing.T, h *harness) {
	n := h.limits.MaxIdentifierLength
	if n == 0 {
		n = 200
	}
	long := strings.Repeat("L", n-3) + "__c"
	objects := []string{"Order", "Group", "Invoice__c"}
	if n > 0 {
		objects = append(objects, strings.Repeat("O", n-3)+"__c")
	}
	for _, object := range objects {
		t.Run(fmt.Sprintf("%.20s", object), func(t *testing.T) {
			tbl := sfsync.Table{
				Object: object,
				Fields: []sfsync.Field{
					{Name: "Id", Type: sfsync.TypeID},
					{Name: "Group", Type: sfsync.TypeString},
					{Name: "select", Type: sfsync.TypeString},
					{Name: "from", Type: sfsync.TypeInt},
					{Name: "MixedCase__c", Type: sfsync.TypeBoolean},
					{Name: `Quote"d'__c`, Type: sfsync.TypeString},
					{Name: "x; DROP TABLE t; --__c", Type: sfsync.TypeString},
					{Name: "Custom_Field__c", Type: sfsync.TypeCurrency, Precision: 10, Scale: 2},
					{Name: long, Type: sfsync.TypeString},
					{Name: "IsDeleted", Type: sfsync.TypeBoolean},
					{Name: "SystemModstamp", Type: sfsync.TypeDateTime},
				},
				CursorField:  "SystemModstamp",
				DeletedField: "IsDeleted",
			}
			h.ensure(tbl)
			r1 := sfsync.Record{"h1", "g", "s", int64(1), true, "q", "x", sfsync.Decimal("1.5"), "long", false, at(1)}
			r2 := sfsync.Record{"h2", "g2", nil, nil, false, nil, nil, nil, nil, false, at(1)}
			b := h.stage(tbl, r1, r2)
			h.consolidate(tbl, consolidation(tbl, b, sfsync.DeleteSoft, false, at(1)))
			r1b := sfsync.Record{"h1", "g updated", "s", int64(2), false, `"q"`, "x", sfsync.Decimal("-1.5"), "longer", false, at(2)}
			r2d := sfsync.Record{"h2", "g2", nil, nil, false, nil, nil, nil, nil, true, at(2)}
			b = h.stage(tbl, r1b, r2d)
			res := h.consolidate(tbl, consolidation(tbl, b, sfsync.DeleteSoft, true, at(2)))
			h.wantResult("second load", res, sfsync.ConsolidateResult{Staged: 2, Upserted: 1, Deleted: 1})
			w1 := recordRow(tbl, r1b)
			w1[sfsync.ColDeleted], w1[sfsync.ColDeletedAt] = false, nil
			w2 := recordRow(tbl, r2d)
			w2[sfsync.ColDeleted], w2[sfsync.ColDeletedAt] = true, at(2)
			h.wantRows(object, w1, w2)
			if st := h.state(object); !st.Cursor.Time.Equal(at(2)) || st.Rows != 1 {
				t.Errorf("state: cursor %v, %d rows; want %v, 1", st.Cursor.Time, st.Rows, at(2))
			}
			if err := h.w.CleanStaging(h.ctx, object, 0); err != nil {
				t.Errorf("CleanStaging: %v", err)
			}
		})
	}
}
