package duckdb

import (
	"errors"
	"log/slog"
	"math"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/sqlgen"
)

func testTable() sfsync.Table {
	return sfsync.Table{
		Object: "Account",
		Fields: []sfsync.Field{
			{Name: "Id", Type: sfsync.TypeID},
			{Name: "Name", Type: sfsync.TypeString},
			{Name: "AnnualRevenue", Type: sfsync.TypeCurrency, Precision: 18, Scale: 2},
			{Name: "IsDeleted", Type: sfsync.TypeBoolean},
			{Name: "SystemModstamp", Type: sfsync.TypeDateTime},
		},
		CursorField:  "SystemModstamp",
		DeletedField: "IsDeleted",
	}
}

// readyTemp opens a warehouse in a temporary file, closed when the test
// ends, with testTable's tables created.
func readyTemp(t *testing.T) (*Warehouse, sfsync.Table) {
	t.Helper()
	w := openTemp(t)
	t.Cleanup(func() { w.Close() })
	tbl := testTable()
	ready(t, w, tbl)
	return w, tbl
}

func ready(t *testing.T, w *Warehouse, tbl sfsync.Table) {
	t.Helper()
	if err := w.Setup(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := w.EnsureTable(t.Context(), tbl); err != nil {
		t.Fatal(err)
	}
}

func finalRows(t *testing.T, w *Warehouse, object string) []map[string]any {
	t.Helper()
	rows, err := w.Rows(t.Context(), object)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestFaultAtEveryStep fails the consolidation at each of its steps, and
// at commit, and checks that nothing changed each time.
func TestFaultAtEveryStep(t *testing.T) {
	ctx := t.Context()
	w, tbl := readyTemp(t)
	at := func(n int) time.Time { return time.Date(2024, 1, 1, 0, n, 0, 0, time.UTC) }
	seed := sfsync.Batch{ID: "seed", Object: "Account", ExtractedAt: at(0)}
	stageRecords(t, w, tbl, seed, sfsync.Record{"a", "A", sfsync.Decimal("1"), false, at(1)}, sfsync.Record{"b", "B", nil, false, at(1)})
	if _, err := w.Consolidate(ctx, tbl, sfsync.Consolidation{Batch: seed, Mode: sfsync.DeleteSoft, Cursor: sfsync.Cursor{Field: "SystemModstamp", Time: at(1)}}); err != nil {
		t.Fatal(err)
	}
	before := finalRows(t, w, "Account")

	b := sfsync.Batch{ID: "b", Object: "Account", ExtractedAt: at(5)}
	stageRecords(t, w, tbl, b, sfsync.Record{"a", "A2", sfsync.Decimal("2"), false, at(5)}, sfsync.Record{"c", "C", nil, false, at(5)})
	c := sfsync.Consolidation{Batch: b, Mode: sfsync.DeleteHard, FullRefresh: true, Cursor: sfsync.Cursor{Field: "SystemModstamp", Time: at(5)}}
	plan, err := w.dialect.Consolidate(sqlgen.ConsolidateSpec{Layout: w.layout, Table: tbl, Mode: c.Mode, FullRefresh: true})
	if err != nil {
		t.Fatal(err)
	}
	steps := []string{"commit"}
	for _, s := range plan {
		steps = append(steps, s.Name)
	}
	boom := errors.New("injected fault")
	for _, step := range steps {
		w.failAt = func(s string) error {
			if s == step {
				return boom
			}
			return nil
		}
		_, err := w.Consolidate(ctx, tbl, c)
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "consolidate Account batch b: "+step) {
			t.Errorf("fault at %s: got %v", step, err)
		}
		w.failAt = nil
		if diff := cmp.Diff(before, finalRows(t, w, "Account")); diff != "" {
			t.Fatalf("fault at %s changed the final table (-before +after):\n%s", step, diff)
		}
		st, err := w.State(ctx, "Account")
		if err != nil {
			t.Fatal(err)
		}
		if !st.Cursor.Time.Equal(at(1)) {
			t.Fatalf("fault at %s moved the cursor to %v", step, st.Cursor.Time)
		}
	}
	res, err := w.Consolidate(ctx, tbl, c)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sfsync.ConsolidateResult{Staged: 2, Upserted: 2, Deleted: 1}, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
}

func TestOpenOptions(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		opts Options
		want string // error text; "" for success
	}{
		{"no path", Options{}, "no path"},
		{"question mark", Options{Path: filepath.Join(dir, "a?b.duckdb")}, "may not contain '?'"},
		{"negative threads", Options{Path: ":memory:", Threads: -1}, "threads -1"},
		{"bad memory limit", Options{Path: ":memory:", MemoryLimit: "lots'; DROP"}, `memory limit "lots'; DROP"`},
		{"same schemas", Options{Path: ":memory:", FinalSchema: "x", StagingSchema: "x"}, "must differ"},
		{"bad schema", Options{Path: ":memory:", ControlSchema: "a\x00b"}, "control schema"},
		{"settings", Options{Path: filepath.Join(dir, "new", "dir", "w.duckdb"), Threads: 1, MemoryLimit: "512MiB"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := Open(t.Context(), tt.opts)
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("got %v, want an error containing %q", err, tt.want)
				}
				if w != nil {
					w.Close()
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			var threads int
			var mem string
			if err := w.DB().QueryRowContext(t.Context(), "SELECT current_setting('threads'), current_setting('memory_limit')").Scan(&threads, &mem); err != nil {
				t.Fatal(err)
			}
			if threads != 1 || !strings.Contains(mem, "MiB") {
				t.Errorf("threads %d, memory limit %s; want 1 and 512 MiB", threads, mem)
			}
		})
	}
}

func TestCustomSchemas(t *testing.T) {
	w, err := Open(t.Context(), Options{Path: ":memory:", FinalSchema: "Sales Force", StagingSchema: "stage", ControlSchema: `ctl"x`})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	tbl := testTable()
	ready(t, w, tbl)
	b := sfsync.Batch{ID: "b1", Object: "Account", ExtractedAt: time.Now()}
	stageRecords(t, w, tbl, b, sfsync.Record{"a", "A", nil, false, time.Now()})
	if _, err := w.Consolidate(t.Context(), tbl, sfsync.Consolidation{Batch: b, Mode: sfsync.DeleteSoft}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := w.DB().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM "Sales Force"."Account"`).Scan(&n); err != nil || n != 1 {
		t.Errorf("final table in the custom schema: %d rows, %v", n, err)
	}
	if err := w.DB().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM "ctl""x".batches WHERE consolidated_at IS NOT NULL`).Scan(&n); err != nil || n != 1 {
		t.Errorf("batch record in the custom control schema: %d rows, %v", n, err)
	}
	if w.Layout().Final != "Sales Force" {
		t.Errorf("Layout: %+v", w.Layout())
	}
}

func TestStageRejects(t *testing.T) {
	w, tbl := readyTemp(t)
	s, err := w.Stage(t.Context(), tbl, sfsync.Batch{ID: "b", Object: "Account"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Abort()
	err = s.Write(t.Context(), []sfsync.Record{{"001bad", "caf\xe9", nil, false, nil}})
	for _, want := range []string{"Account", "Name", "001bad", "UTF-8"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("invalid UTF-8: got %v, want an error mentioning %q", err, want)
		}
	}
	if _, err := w.Stage(t.Context(), tbl, sfsync.Batch{ID: "c", Object: "Contact"}); err == nil || !strings.Contains(err.Error(), "belongs to object Contact") {
		t.Errorf("batch of another object: %v", err)
	}
	if _, err := w.Stage(t.Context(), tbl, sfsync.Batch{Object: "Account"}); err == nil || !strings.Contains(err.Error(), "no id") {
		t.Errorf("batch without id: %v", err)
	}
}

func TestConverters(t *testing.T) {
	day := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	stamp := time.Date(2024, 2, 29, 13, 30, 5, 123e6, time.UTC)
	clock := time.Date(1970, 1, 1, 13, 30, 5, 123e6, time.UTC)
	f := func(typ sfsync.FieldType) sfsync.Field {
		return sfsync.Field{Name: "F", Type: typ, Precision: 18, Scale: 2}
	}
	tests := []struct {
		field  sfsync.Field
		column string
		in     any
		want   any
		err    string
	}{
		{f(sfsync.TypeString), "VARCHAR", "a\x00b", "a\x00b", ""},
		{f(sfsync.TypeString), "VARCHAR", nil, nil, ""},
		{f(sfsync.TypeInt), "VARCHAR", int64(42), "42", ""},
		{f(sfsync.TypeCurrency), "VARCHAR", sfsync.Decimal("-1.5"), "-1.5", ""},
		{f(sfsync.TypeDouble), "VARCHAR", 0.1, "0.1", ""},
		{f(sfsync.TypeBoolean), "VARCHAR", true, "true", ""},
		{f(sfsync.TypeDate), "VARCHAR", day, "2024-02-29", ""},
		{f(sfsync.TypeTime), "VARCHAR", clock, "13:30:05.123Z", ""},
		{f(sfsync.TypeDateTime), "VARCHAR", stamp, "2024-02-29T13:30:05.123Z", ""},
		{f(sfsync.TypeBoolean), "BOOLEAN", false, false, ""},
		{f(sfsync.TypeString), "BOOLEAN", "true", true, ""},
		{f(sfsync.TypeString), "BOOLEAN", "maybe", nil, `"maybe" is not a boolean`},
		{f(sfsync.TypeInt), "BIGINT", int64(math.MinInt64), int64(math.MinInt64), ""},
		{f(sfsync.TypeCurrency), "BIGINT", sfsync.Decimal("12"), int64(12), ""},
		{f(sfsync.TypeCurrency), "BIGINT", sfsync.Decimal("12.5"), nil, "not a 64-bit integer"},
		{f(sfsync.TypeDouble), "BIGINT", 3.0, int64(3), ""},
		{f(sfsync.TypeDouble), "BIGINT", 3.5, nil, "not a 64-bit integer"},
		{f(sfsync.TypeString), "BIGINT", "77", int64(77), ""},
		{f(sfsync.TypeCurrency), "DECIMAL(18,2)", sfsync.Decimal("-1234.5"), sfsync.Decimal("-1234.5"), ""},
		{f(sfsync.TypeCurrency), "DECIMAL(18,2)", sfsync.Decimal("0"), sfsync.Decimal("0"), ""},
		{f(sfsync.TypeCurrency), "DECIMAL(18,2)", sfsync.Decimal("1.005"), nil, "more than 2 fractional digits"},
		{f(sfsync.TypeCurrency), "DECIMAL(4,2)", sfsync.Decimal("100"), nil, "does not fit DECIMAL(4,2)"},
		{f(sfsync.TypeInt), "DECIMAL(18,2)", int64(7), sfsync.Decimal("7"), ""},
		{f(sfsync.TypeDouble), "DECIMAL(18,2)", 0.1, sfsync.Decimal("0.1"), ""},
		{f(sfsync.TypeDouble), "DECIMAL(18,2)", math.NaN(), nil, "not a decimal"},
		{f(sfsync.TypeString), "DECIMAL(18,2)", "1e3", sfsync.Decimal("1000"), ""},
		{f(sfsync.TypeDouble), "DOUBLE", 1.5, 1.5, ""},
		{f(sfsync.TypeCurrency), "DOUBLE", sfsync.Decimal("2.25"), 2.25, ""},
		{f(sfsync.TypeInt), "DOUBLE", int64(2), 2.0, ""},
		{f(sfsync.TypeDateTime), "DATE", stamp, day, ""},
		{f(sfsync.TypeString), "DATE", "2024-02-29", day, ""},
		{f(sfsync.TypeDateTime), "TIME", stamp, clock, ""},
		{f(sfsync.TypeString), "TIME", "13:30:05.123Z", clock, ""},
		{f(sfsync.TypeDate), "TIMESTAMP WITH TIME ZONE", day, day, ""},
		{f(sfsync.TypeString), "TIMESTAMP WITH TIME ZONE", "2024-02-29T13:30:05.123+0000", stamp, ""},
		{f(sfsync.TypeString), "TIMESTAMP WITH TIME ZONE", "soon", nil, "not a datetime"},
		{f(sfsync.TypeBoolean), "DATE", true, nil, "cannot store a bool value in a date column"},
	}
	for _, tt := range tests {
		conv, err := newConverter(tt.field, parseColType(tt.column))
		if err != nil {
			t.Fatalf("%s into %s: %v", tt.field.Type, tt.column, err)
		}
		got, err := conv(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s %v into %s: got %v, %v; want error %q", tt.field.Type, tt.in, tt.column, got, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %v into %s: %v", tt.field.Type, tt.in, tt.column, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b *big.Int) bool { return a.Cmp(b) == 0 })); diff != "" {
			t.Errorf("%s %v into %s (-want +got):\n%s", tt.field.Type, tt.in, tt.column, diff)
		}
	}
	if _, err := newConverter(f(sfsync.TypeString), parseColType("BLOB")); err == nil {
		t.Error("a BLOB column was accepted")
	}
}

func TestParseColType(t *testing.T) {
	tests := map[string]colType{
		"VARCHAR":                  {SQL: "VARCHAR", Kind: sfsync.KindString},
		"DECIMAL(18,2)":            {SQL: "DECIMAL(18,2)", Kind: sfsync.KindDecimal, Precision: 18, Scale: 2},
		"TIMESTAMP WITH TIME ZONE": {SQL: "TIMESTAMP WITH TIME ZONE", Kind: sfsync.KindDateTime},
		"INTEGER":                  {SQL: "INTEGER", Kind: sfsync.KindInt},
		"DECIMAL(x,2)":             {SQL: "DECIMAL(x,2)", Kind: sfsync.KindCompound},
		"STRUCT(a INT)":            {SQL: "STRUCT(a INT)", Kind: sfsync.KindCompound},
	}
	for in, want := range tests {
		if diff := cmp.Diff(want, parseColType(in)); diff != "" {
			t.Errorf("parseColType(%q) (-want +got):\n%s", in, diff)
		}
	}
}

// TestEnsureTableChangesOnlyWhatChanged checks that an unchanged table
// is left alone (no warnings, no type changes), and that a real change is
// reported.
func TestEnsureTableChangesOnlyWhatChanged(t *testing.T) {
	var logs strings.Builder
	w, err := Open(t.Context(), Options{Path: ":memory:", Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	tbl := testTable()
	ready(t, w, tbl)
	logs.Reset()
	if err := w.EnsureTable(t.Context(), tbl); err != nil {
		t.Fatal(err)
	}
	if logs.Len() != 0 {
		t.Errorf("EnsureTable of an unchanged table logged:\n%s", logs.String())
	}
	tbl.Fields[1].Type = sfsync.TypeInt                  // Name: string → int, kept as VARCHAR
	tbl.Fields[2].Precision, tbl.Fields[2].Scale = 20, 2 // widened
	tbl.Fields = append(tbl.Fields, sfsync.Field{Name: "Extra__c", Type: sfsync.TypeDate})
	if err := w.EnsureTable(t.Context(), tbl); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`level=WARN msg="field type changed; the column keeps its type and staged values are converted to it" table=Account column=Name`,
		`msg="changed column type" schema=salesforce table=Account column=AnnualRevenue from=DECIMAL(18,2) to=DECIMAL(20,2)`,
		`msg="changed column type" schema=salesforce_staging table=Account column=AnnualRevenue from=DECIMAL(18,2) to=DECIMAL(20,2)`,
		`msg="added column" schema=salesforce table=Account column=Extra__c type=DATE`,
		`msg="added column" schema=salesforce_staging table=Account column=Extra__c type=DATE`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %q:\n%s", want, logs.String())
		}
	}
	if n := strings.Count(logs.String(), "\n"); n != 5 {
		t.Errorf("%d log lines, want 5:\n%s", n, logs.String())
	}
}
