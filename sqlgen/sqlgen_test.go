package sqlgen

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

func dialects() []Dialect { return []Dialect{DuckDB(), PostgreSQL(), Redshift()} }

// hostile is an object whose names are reserved words, mixed case, carry
// quotes, and run up to PostgreSQL's 63-byte limit.
func hostile() sfsync.Table {
	return sfsync.Table{
		Object: "Order",
		Fields: []sfsync.Field{
			{Name: "Id", Type: sfsync.TypeID},
			{Name: "Group", Type: sfsync.TypeString},
			{Name: "select", Type: sfsync.TypeString},
			{Name: "MixedCase__c", Type: sfsync.TypeBoolean},
			{Name: `Say "Hi"__c`, Type: sfsync.TypeTextArea},
			{Name: "x'; DROP TABLE t; --", Type: sfsync.TypeString},
			{Name: "Amount__c", Type: sfsync.TypeCurrency, Precision: 18, Scale: 2},
			{Name: "Ratio__c", Type: sfsync.TypeDouble},
			{Name: "Count__c", Type: sfsync.TypeInt},
			{Name: "Due__c", Type: sfsync.TypeDate},
			{Name: "At__c", Type: sfsync.TypeTime},
			{Name: strings.Repeat("L", 60) + "__c", Type: sfsync.TypeString},
			{Name: "SystemModstamp", Type: sfsync.TypeDateTime},
			{Name: "IsDeleted", Type: sfsync.TypeBoolean},
		},
		CursorField:  "SystemModstamp",
		DeletedField: "IsDeleted",
	}
}

func noCursor() sfsync.Table {
	return sfsync.Table{
		Object: "Setting__mdt",
		Fields: []sfsync.Field{
			{Name: "Id", Type: sfsync.TypeID},
			{Name: "Value__c", Type: sfsync.TypeString},
		},
	}
}

func layout() Layout {
	return Layout{Final: "salesforce", Staging: "salesforce_staging", Control: `_sfsync`}
}

// render builds every golden case of a dialect.
func render(t *testing.T, d Dialect) map[string]string {
	t.Helper()
	l := layout()
	out := map[string]string{}
	var b strings.Builder
	must := func(s string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", d.Name, err)
		}
		b.WriteString(s)
		b.WriteString(";\n\n")
	}

	tbl := hostile()
	must(d.CreateSchema(l.Final))
	fc, err := d.FinalColumns(tbl)
	if err != nil {
		t.Fatal(err)
	}
	must(d.CreateTable(l.Final, tbl.Object, fc))
	sc, err := d.StagingColumns(tbl)
	if err != nil {
		t.Fatal(err)
	}
	must(d.CreateStagingTable(l.Staging, tbl.Object, sc))
	must(d.AddColumn(l.Final, tbl.Object, Column{Name: "New Field__c", Type: d.Types.String}))
	if d.AlterColumnType != "" {
		must(d.AlterColumnTypeSQL(l.Final, tbl.Object, "Amount__c", d.DecimalType(20, 2)))
	}
	out["ddl"] = b.String()

	b.Reset()
	ctl, err := d.ControlTables(l.Control)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ctl {
		must(s, nil)
	}
	added, err := d.AddedControlColumns(l.Control)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range added {
		must(a.SQL, nil)
	}
	for _, s := range []Statement{d.RegisterObject(l), d.StoreCursor(l), d.SelectObject(l), d.ListObjects(l),
		d.InsertBatch(l), d.SelectBatch(l), d.MarkBatch(l), d.UpdateRun(l), d.InsertRun(l),
		d.SelectLastRun(l), d.SelectLastSuccess(l)} {
		must(s.String(), nil)
	}
	clean, err := d.CleanStaging(l, tbl.Object)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range clean {
		must(s.String(), nil)
	}
	live, err := d.CountLive(l, tbl.Object)
	must(live.String(), err)
	dup, err := d.CountDuplicateIDs(l, tbl.Object, "Id")
	must(dup.String(), err)
	out["control"] = b.String()

	if d.Name != "duckdb" {
		// What the PostgreSQL warehouse (and its Redshift flavor) runs
		// besides: the altered values and the run lock's lease.
		b.Reset()
		must(d.AlteredValuesTable(l.Control))
		must(d.InsertAlteredValue(l), nil)
		must(d.SelectAlteredValues(l), nil)
		must(d.CleanAlteredValues(l), nil)
		must(d.RunLockTable(l.Control))
		lease := d.RunLeaseStatements(l)
		for _, q := range []string{lease.Expire, lease.Take, lease.Holder, lease.Renew, lease.Release} {
			must(q, nil)
		}
		replace, err := d.ReplaceColumnSQL(l.Final, tbl.Object, "Amount__c", d.DecimalType(20, 2))
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range replace {
			must(q, nil)
		}
		out["server"] = b.String()
	}

	for _, c := range []struct {
		name string
		spec ConsolidateSpec
	}{
		{"consolidate_soft", ConsolidateSpec{Layout: l, Table: tbl, Mode: sfsync.DeleteSoft}},
		{"consolidate_hard", ConsolidateSpec{Layout: l, Table: tbl, Mode: sfsync.DeleteHard}},
		{"consolidate_soft_full", ConsolidateSpec{Layout: l, Table: tbl, Mode: sfsync.DeleteSoft, FullRefresh: true, Retained: []string{"Old__c"}}},
		{"consolidate_hard_full", ConsolidateSpec{Layout: l, Table: tbl, Mode: sfsync.DeleteHard, FullRefresh: true, Retained: []string{"Old__c"}}},
		{"consolidate_nocursor", ConsolidateSpec{Layout: l, Table: noCursor(), Mode: sfsync.DeleteSoft, FullRefresh: true}},
	} {
		b.Reset()
		steps, err := d.Consolidate(c.spec)
		if err != nil {
			t.Fatalf("%s %s: %v", d.Name, c.name, err)
		}
		for _, s := range steps {
			fmt.Fprintf(&b, "-- step %s (result %d)\n", s.Name, s.Result)
			must(s.Statement.String(), nil)
		}
		out[c.name] = b.String()
	}
	return out
}

func TestGolden(t *testing.T) {
	for _, d := range dialects() {
		t.Run(d.Name, func(t *testing.T) {
			for name, got := range render(t, d) {
				path := filepath.Join("testdata", d.Name, name+".sql")
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./sqlgen -update to create it)", err)
				}
				if diff := cmp.Diff(string(want), got); diff != "" {
					t.Errorf("%s differs from the golden file (-want +got):\n%s", path, diff)
				}
			}
		})
	}
}

func TestConsolidatePlanShape(t *testing.T) {
	for _, d := range dialects() {
		for _, mode := range []sfsync.DeleteMode{sfsync.DeleteSoft, sfsync.DeleteHard} {
			for _, full := range []bool{false, true} {
				steps, err := d.Consolidate(ConsolidateSpec{Layout: layout(), Table: hostile(), Mode: mode, FullRefresh: full})
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				counts := 0
				for _, s := range steps {
					names = append(names, s.Name)
					if s.Result == ResultCounts {
						counts++
					}
					// Every parameter the text uses is bound, and no more.
					for i := range s.Args {
						if !strings.Contains(s.SQL, d.Param(i+1)) {
							t.Errorf("%s %s/%v step %s: $%d (%s) is bound but unused", d.Name, mode, full, s.Name, i+1, s.Args[i])
						}
					}
					if strings.Contains(s.SQL, d.Param(len(s.Args)+1)) {
						t.Errorf("%s %s/%v step %s uses an unbound parameter", d.Name, mode, full, s.Name)
					}
				}
				if counts != 1 {
					t.Errorf("%s: %d counts steps, want 1", d.Name, counts)
				}
				if names[len(names)-1] != "drop-work" || names[0] != "work" {
					t.Errorf("%s: steps %v: want work first and the work table dropped last", d.Name, names)
				}
				hasHard := strings.Contains(strings.Join(names, " "), "hard-delete")
				if hasHard != (mode == sfsync.DeleteHard && d.Upsert != UpsertDeleteInsert) {
					t.Errorf("%s %s: steps %v", d.Name, mode, names)
				}
				hasFull := strings.Contains(strings.Join(names, " "), "full-refresh")
				if hasFull != full {
					t.Errorf("%s full=%v: steps %v", d.Name, full, names)
				}
			}
		}
	}
}

func TestIdentifierLimits(t *testing.T) {
	tests := []struct {
		d       Dialect
		okLen   int
		failLen int // 0: no limit
	}{
		{DuckDB(), 1000, 0},
		{PostgreSQL(), 63, 64},
		{Redshift(), 127, 128},
	}
	for _, tt := range tests {
		t.Run(tt.d.Name, func(t *testing.T) {
			tbl := noCursor()
			tbl.Fields = append(tbl.Fields, sfsync.Field{Name: strings.Repeat("a", tt.okLen), Type: sfsync.TypeString})
			if _, err := tt.d.FinalColumns(tbl); err != nil {
				t.Errorf("a %d-byte name: %v", tt.okLen, err)
			}
			if tt.failLen == 0 {
				return
			}
			long := strings.Repeat("é", tt.failLen/2) + strings.Repeat("a", tt.failLen%2)
			tbl.Fields[2].Name = long
			_, err := tt.d.FinalColumns(tbl)
			if err == nil || !strings.Contains(err.Error(), "keeps at most") {
				t.Errorf("a %d-byte name: got %v, want an error about the limit", len(long), err)
			}
			if _, err := tt.d.CreateTable("s", long, []Column{{Name: "x", Type: "INT"}}); err == nil {
				t.Error("a table name over the limit was accepted")
			}
		})
	}
}

func TestCheckTable(t *testing.T) {
	base := func(mut func(*sfsync.Table)) sfsync.Table {
		tbl := hostile()
		mut(&tbl)
		return tbl
	}
	tests := []struct {
		name string
		tbl  sfsync.Table
		want string // substring of the error; "" for none
	}{
		{"ok", base(func(*sfsync.Table) {}), ""},
		{"no object", base(func(t *sfsync.Table) { t.Object = "" }), "object name: empty identifier"},
		{"no id", base(func(t *sfsync.Table) { t.Fields = t.Fields[1:] }), "no Id field"},
		{"lower-case id", base(func(t *sfsync.Table) { t.Fields[0].Name = "ID" }), ""},
		{"duplicate", base(func(t *sfsync.Table) { t.Fields[2].Name = "GROUP" }), "field GROUP appears twice"},
		{"reserved", base(func(t *sfsync.Table) { t.Fields[1].Name = "_sfsync_deleted" }), "reserved"},
		{"nul", base(func(t *sfsync.Table) { t.Fields[1].Name = "a\x00b" }), "NUL"},
		{"bad utf8", base(func(t *sfsync.Table) { t.Fields[1].Name = "a\xffb" }), "UTF-8"},
		{"cursor missing", base(func(t *sfsync.Table) { t.CursorField = "LastModifiedDate" }), "cursor field LastModifiedDate"},
		{"deleted missing", base(func(t *sfsync.Table) { t.DeletedField = "Gone" }), "deleted field Gone"},
		{"deleted not bool", base(func(t *sfsync.Table) { t.DeletedField = "Group" }), "not boolean"},
		{"compound", base(func(t *sfsync.Table) {
			t.Fields = append(t.Fields, sfsync.Field{Name: "BillingAddress", Type: sfsync.TypeAddress})
		}), "compound values are not stored"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := DuckDB().CheckTable(tt.tbl)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestColumnTypes(t *testing.T) {
	fields := []sfsync.Field{
		{Name: "S", Type: sfsync.TypePicklist},
		{Name: "B", Type: sfsync.TypeBoolean},
		{Name: "I", Type: sfsync.TypeLong},
		{Name: "D", Type: sfsync.TypeCurrency, Precision: 16, Scale: 2},
		{Name: "F", Type: sfsync.TypeDouble},
		{Name: "Da", Type: sfsync.TypeDate},
		{Name: "T", Type: sfsync.TypeTime},
		{Name: "Dt", Type: sfsync.TypeDateTime},
	}
	want := map[string][]string{
		"duckdb":   {"VARCHAR", "BOOLEAN", "BIGINT", "DECIMAL(16,2)", "DOUBLE", "DATE", "TIME", "TIMESTAMPTZ"},
		"postgres": {"TEXT", "BOOLEAN", "BIGINT", "NUMERIC(16,2)", "DOUBLE PRECISION", "DATE", "TIME", "TIMESTAMPTZ"},
		"redshift": {"VARCHAR(65535)", "BOOLEAN", "BIGINT", "DECIMAL(16,2)", "DOUBLE PRECISION", "DATE", "TIME", "TIMESTAMPTZ"},
	}
	for _, d := range dialects() {
		var got []string
		for _, f := range fields {
			typ, err := d.ColumnType(f)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, typ)
		}
		if diff := cmp.Diff(want[d.Name], got); diff != "" {
			t.Errorf("%s column types (-want +got):\n%s", d.Name, diff)
		}
	}
}

func TestBind(t *testing.T) {
	s := DuckDB().StoreCursor(layout())
	want := []Arg{ArgCursorField, ArgCursorTime, ArgNow, ArgObject}
	if diff := cmp.Diff(want, s.Args); diff != "" {
		t.Fatalf("args (-want +got):\n%s", diff)
	}
	if strings.Count(s.SQL, "$2") != 2 {
		t.Errorf("cursor time should be bound once and used twice: %s", s.SQL)
	}
	vals := map[Arg]any{ArgCursorField: "SystemModstamp", ArgCursorTime: nil, ArgNow: "now", ArgObject: "Account"}
	got, err := s.Bind(vals)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{"SystemModstamp", nil, "now", "Account"}, got); diff != "" {
		t.Errorf("bound values (-want +got):\n%s", diff)
	}
	delete(vals, ArgObject)
	if _, err := s.Bind(vals); err == nil || !strings.Contains(err.Error(), "parameter 4 (object)") {
		t.Errorf("missing value: got %v", err)
	}
}

func TestConsolidateRejects(t *testing.T) {
	d := DuckDB()
	if _, err := d.Consolidate(ConsolidateSpec{Layout: layout(), Table: hostile(), Mode: "archive"}); err == nil {
		t.Error("unknown delete mode accepted")
	}
	if _, err := d.Consolidate(ConsolidateSpec{Layout: layout(), Table: hostile(), Mode: sfsync.DeleteSoft, Retained: []string{"group"}}); err == nil {
		t.Error("a retained column that is also a field was accepted")
	}
	if _, err := d.Consolidate(ConsolidateSpec{Layout: Layout{Final: "f", Staging: "s"}, Table: hostile(), Mode: sfsync.DeleteSoft}); err == nil || !strings.Contains(err.Error(), "control schema") {
		t.Errorf("empty control schema: got %v", err)
	}
	if _, err := Redshift().AlterColumnTypeSQL("s", "t", "c", "DECIMAL(20,2)"); err == nil {
		t.Error("redshift type change rendered")
	}
}

// FuzzQuote checks that any name renders as one quoted identifier that
// reads back as the name: nothing can escape the quotes.
func FuzzQuote(f *testing.F) {
	for _, s := range []string{"Account", `a"b`, `"`, `""`, "x'; DROP TABLE t; --", "Order", "é😀"} {
		f.Add(s)
	}
	d := DuckDB()
	f.Fuzz(func(t *testing.T, name string) {
		q := d.Quote(name)
		if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
			t.Fatalf("Quote(%q) = %q: not enclosed in double quotes", name, q)
		}
		inner := q[1 : len(q)-1]
		// Inside, quotes only come in pairs.
		for i := 0; i < len(inner); i++ {
			if inner[i] == '"' {
				if i+1 >= len(inner) || inner[i+1] != '"' {
					t.Fatalf("Quote(%q) = %q: lone quote at %d ends the identifier early", name, q, i+1)
				}
				i++
			}
		}
		if back := strings.ReplaceAll(inner, `""`, `"`); back != name {
			t.Fatalf("Quote(%q) reads back as %q", name, back)
		}
	})
}
