package verify

import (
	"database/sql"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/sfsync/sfsync"
)

func TestCompareFindsEveryKindOfDifference(t *testing.T) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE SCHEMA s`,
		`CREATE TABLE s."Account" ("Id" VARCHAR, "Amount" DECIMAL(18,2), "At" TIMESTAMPTZ, "_sfsync_deleted" BOOLEAN)`,
		`INSERT INTO s."Account" VALUES
			('A', 12.50, '2024-01-02 03:04:05.123+00', false),
			('B', 1, '2024-01-02 00:00:00+00', false),
			('B', 1, '2024-01-02 00:00:00+00', false),
			('C', 3, NULL, true),
			('D', 4, NULL, false),
			('E', 5, NULL, false)`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2024, 1, 2, 3, 4, 5, 123e6, time.UTC)
	truth := map[string]map[string]any{
		"A": {"Id": "A", "Amount": 12.5, "At": at},                                         // equal
		"B": {"Id": "B", "Amount": 1.0, "At": time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)}, // duplicated in the replica
		"C": {"Id": "C", "Amount": 3.0, "At": nil},                                         // live at the source, flagged in the replica
		"D": {"Id": "D", "Amount": 4.5, "At": nil},                                         // value differs
		"F": {"Id": "F", "Amount": 6.0, "At": nil},                                         // missing
	}
	fields := []sfsync.Field{
		{Name: "Id", Type: sfsync.TypeID},
		{Name: "Amount", Type: sfsync.TypeCurrency, Precision: 18, Scale: 2},
		{Name: "At", Type: sfsync.TypeDateTime},
	}
	rep, err := Compare(t.Context(), db, "Account", truth, Options{Schema: "s", Fields: fields})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() {
		t.Fatal("Compare found no difference")
	}
	if rep.DuplicateIDs != 1 || strings.Join(rep.Missing, ",") != "C,F" || strings.Join(rep.Extra, ",") != "E" || rep.FlaggedRows != 1 {
		t.Errorf("report: %+v", rep)
	}
	if len(rep.Mismatches) != 1 || !strings.Contains(rep.Mismatches[0], `D.Amount: source "4.5", replica "4"`) {
		t.Errorf("mismatches: %q", rep.Mismatches)
	}

	delete(truth, "F")
	truth["C"] = nil
	delete(truth, "C")
	truth["D"]["Amount"] = 4.0
	truth["E"] = map[string]any{"Id": "E", "Amount": 5.0}
	if _, err := db.Exec(`DELETE FROM s."Account" WHERE "Id" = 'B'; INSERT INTO s."Account" VALUES ('B', 1, '2024-01-02 00:00:00+00', false)`); err != nil {
		t.Fatal(err)
	}
	rep, err = Compare(t.Context(), db, "Account", truth, Options{Schema: "s", Fields: fields})
	if err != nil || !rep.OK() || rep.Compared != 12 {
		t.Fatalf("equal replica: %v %s (compared %d)", err, rep, rep.Compared)
	}
}
