package sqlgen

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// serviceDialects are the engines `sfsync serve` keeps its state in.
func serviceDialects() []Dialect { return []Dialect{DuckDB(), PostgreSQL()} }

// describe renders a statement as golden files show it, naming the service
// Args too.
func describe(s Statement) string {
	if len(s.Args) == 0 {
		return s.SQL
	}
	names := make([]string, len(s.Args))
	for i, a := range s.Args {
		names[i] = fmt.Sprintf("$%d=%s", i+1, ServiceArgName(a))
	}
	return s.SQL + "\n-- args: " + strings.Join(names, ", ")
}

func renderService(t *testing.T, d Dialect) string {
	t.Helper()
	l := layout()
	var b strings.Builder
	ddl, err := d.ServiceTables(l.Control)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ddl {
		b.WriteString(s + ";\n\n")
	}
	stmts := []Statement{d.AcquireLease(l), d.RenewLease(l), d.ReleaseLease(l), d.BreakLeases(l), d.SelectLeases(l),
		d.SaveSchedule(l), d.SelectSchedules(l), d.SelectRuns(l, true, 50), d.SelectRuns(l, false, 200)}
	stmts = append(stmts, d.PruneRuns(l)...)
	if d.Name == PostgreSQL().Name {
		stmts = append(stmts, d.HoldLease(l))
	}
	for _, s := range stmts {
		b.WriteString(describe(s) + ";\n\n")
	}
	return b.String()
}

func TestServiceGolden(t *testing.T) {
	for _, d := range serviceDialects() {
		t.Run(d.Name, func(t *testing.T) {
			got := renderService(t, d)
			path := filepath.Join("testdata", d.Name, "service.sql")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./sqlgen -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s differs from the golden file (-want +got):\n%s", path, diff)
			}
		})
	}
}

// TestServiceStatementsBindEveryParameter: every parameter a statement's
// text uses is bound, and every bound one is used.
func TestServiceStatementsBindEveryParameter(t *testing.T) {
	for _, d := range serviceDialects() {
		l := layout()
		for _, s := range append([]Statement{d.AcquireLease(l), d.RenewLease(l), d.ReleaseLease(l), d.BreakLeases(l),
			d.SaveSchedule(l), d.SelectRuns(l, true, 1), d.HoldLease(l)}, d.PruneRuns(l)...) {
			for i, a := range s.Args {
				if !strings.Contains(s.SQL, d.Param(i+1)) {
					t.Errorf("%s: $%d (%s) is bound but unused in %s", d.Name, i+1, ServiceArgName(a), s.SQL)
				}
			}
			if strings.Contains(s.SQL, d.Param(len(s.Args)+1)) {
				t.Errorf("%s: unbound parameter in %s", d.Name, s.SQL)
			}
		}
		if got, want := len(d.SaveSchedule(l).Args), len(ScheduleColumns()); got != want {
			t.Errorf("%s: SaveSchedule binds %d values for %d columns", d.Name, got, want)
		}
	}
}

func TestServiceArgName(t *testing.T) {
	for a, want := range map[Arg]string{ArgOwner: "owner", ArgError: "error", ArgObject: "object", ArgNow: "now", Arg(999): "arg(999)"} {
		if got := ServiceArgName(a); got != want {
			t.Errorf("ServiceArgName(%d) = %q, want %q", int(a), got, want)
		}
	}
}
