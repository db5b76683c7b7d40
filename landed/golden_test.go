package landed

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/sqlgen"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// TestGolden pins the SQL printed for each dialect: a script for
// PostgreSQL and DuckDB, a stored procedure for Redshift.
func TestGolden(t *testing.T) {
	specs := func(d sqlgen.Dialect) []Spec {
		return []Spec{
			{Dialect: d, StagingSchema: "salesforce_incremental", FinalSchema: "salesforce", Table: "Account",
				ID: "Id", Cursor: "SystemModstamp", Deleted: "IsDeleted", Mode: sfsync.DeleteHard},
			{Dialect: d, StagingSchema: "salesforce_incremental", FinalSchema: "salesforce", Table: "Order",
				ID: "Id", Cursor: "LastModifiedDate", TieBreak: []string{"_landed_at"}, Lookback: time.Hour},
		}
	}
	cases := map[string]func() (string, error){
		"postgres_script.sql":    func() (string, error) { return Script(specs(sqlgen.PostgreSQL())) },
		"duckdb_script.sql":      func() (string, error) { return Script(specs(sqlgen.DuckDB())) },
		"redshift_procedure.sql": func() (string, error) { return Procedure("sfsync_consolidate_landed", specs(sqlgen.Redshift())) },
		"postgres_procedure.sql": func() (string, error) { return Procedure("sfsync_consolidate_landed", specs(sqlgen.PostgreSQL())) },
		"duckdb_with_columns.sql": func() (string, error) {
			s := specs(sqlgen.DuckDB())[:1]
			s[0].Columns = []string{"Id", "Name", "SystemModstamp", "IsDeleted"}
			return Script(s)
		},
	}
	for name, render := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := render()
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", name)
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./landed -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s differs from the golden file (-want +got):\n%s", path, diff)
			}
		})
	}
}
