package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/sfsync/sfsync/warehouse/postgres"
	"github.com/sfsync/sfsync/warehouse/postgres/pgtest"
)

// runCmd runs one of this file's commands with the given flags.
func runCmd(t *testing.T, newCmd func(*globals) *cobra.Command, configPath string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	g := &globals{configPath: configPath, logLevel: "error", stdout: &out, stderr: &errOut}
	cmd := newCmd(g)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SilenceUsage = true
	err := cmd.ExecuteContext(t.Context())
	return out.String(), err
}

// landedTarget is a warehouse of each type, with a configuration file
// pointing at it.
type landedTarget struct {
	name   string
	config string
	open   func(t *testing.T) *sql.DB // another handle on the same database
}

func landedTargets(t *testing.T) []landedTarget {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.duckdb")
	write := func(name, warehouse string) string {
		p := filepath.Join(dir, name+".yaml")
		cfg := fmt.Sprintf(`salesforce:
  login_url: https://login.salesforce.com
  auth: password
  client_id: id
  client_secret: secret
  username: user@example.com
  password: pw
warehouse:
%s
objects:
  - Account
`, warehouse)
		if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return []landedTarget{
		{"duckdb", write("duckdb", "  path: "+path), func(t *testing.T) *sql.DB {
			db, err := sql.Open("duckdb", path)
			if err != nil {
				t.Fatal(err)
			}
			return db
		}},
		{"postgres", "", nil}, // filled in by pgTarget, which may skip
	}
}

func pgTarget(t *testing.T, l landedTarget) landedTarget {
	dsn := pgtest.Database(t)
	t.Setenv("SFSYNC_TEST_CONSOLIDATE_DSN", dsn.Reveal())
	p := filepath.Join(t.TempDir(), "pg.yaml")
	cfg := `salesforce:
  login_url: https://login.salesforce.com
  auth: password
  client_id: id
  client_secret: secret
  username: user@example.com
  password: pw
warehouse:
  type: postgres
  dsn: ${SFSYNC_TEST_CONSOLIDATE_DSN}
objects:
  - Account
`
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	l.config = p
	l.open = func(t *testing.T) *sql.DB {
		db, err := sql.Open("pgx", dsn.Reveal())
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	return l
}

// landDuplicates creates salesforce_incremental.Account and .Contact
// with several versions per Id.
func landDuplicates(t *testing.T, db *sql.DB) {
	t.Helper()
	for _, q := range []string{
		`CREATE SCHEMA salesforce_incremental`,
		`CREATE TABLE salesforce_incremental."Account" ("Id" VARCHAR, "Name" VARCHAR, "SystemModstamp" TIMESTAMPTZ, "IsDeleted" BOOLEAN)`,
		`INSERT INTO salesforce_incremental."Account" VALUES
 ('001A', 'Acme v1', TIMESTAMPTZ '2024-01-01 00:00:00+00', FALSE),
 ('001A', 'Acme v2', TIMESTAMPTZ '2024-01-02 00:00:00+00', FALSE),
 ('001A', 'Acme v2', TIMESTAMPTZ '2024-01-02 00:00:00+00', FALSE),
 ('001B', 'Globex', TIMESTAMPTZ '2024-01-01 00:00:00+00', FALSE),
 ('001B', 'Globex', TIMESTAMPTZ '2024-01-03 00:00:00+00', TRUE),
 ('001C', 'Initech', TIMESTAMPTZ '2024-01-01 00:00:00+00', FALSE)`,
		`CREATE TABLE salesforce_incremental."Contact" ("Id" VARCHAR, "LastName" VARCHAR, "LastModifiedDate" TIMESTAMPTZ)`,
		`INSERT INTO salesforce_incremental."Contact" VALUES
 ('003A', 'Smith', TIMESTAMPTZ '2024-01-01 00:00:00+00'),
 ('003A', 'Smith-Jones', TIMESTAMPTZ '2024-01-05 00:00:00+00')`,
	} {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func finalNames(t *testing.T, db *sql.DB) string {
	t.Helper()
	var parts []string
	for _, q := range []string{
		`SELECT "Id" || '=' || "Name" || CASE WHEN "IsDeleted" THEN ' (deleted)' ELSE '' END FROM salesforce."Account" ORDER BY "Id"`,
		`SELECT "Id" || '=' || "LastName" FROM salesforce."Contact" ORDER BY "Id"`,
	} {
		rows, err := db.QueryContext(t.Context(), q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			parts = append(parts, s)
		}
		rows.Close()
	}
	return strings.Join(parts, ", ")
}

func TestConsolidateCommand(t *testing.T) {
	for _, target := range landedTargets(t) {
		t.Run(target.name, func(t *testing.T) {
			if target.name == "postgres" {
				target = pgTarget(t, target)
			}
			db := target.open(t)
			landDuplicates(t, db)
			if target.name == "duckdb" {
				db.Close() // the warehouse opens the file itself
			}
			args := []string{"--staging-schema", "salesforce_incremental", "--final-schema", "salesforce", "--delete-mode", "hard"}
			out, err := runCmd(t, newConsolidateCmd, target.config, args...)
			if err != nil {
				t.Fatalf("consolidate: %v\n%s", err, out)
			}
			for _, want := range []string{"Account  SystemModstamp, IsDeleted  2", "created", "Contact  LastModifiedDate"} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			out, err = runCmd(t, newConsolidateCmd, target.config, append(args, "--objects", "Account,Contact")...)
			if err != nil {
				t.Fatalf("second consolidate: %v", err)
			}
			if !strings.Contains(out, "Account  SystemModstamp, IsDeleted  0               0        0") {
				t.Errorf("the second run changed something:\n%s", out)
			}
			if target.name == "duckdb" {
				db = target.open(t)
			}
			defer db.Close()
			if got, want := finalNames(t, db), "001A=Acme v2, 001C=Initech, 003A=Smith-Jones"; got != want {
				t.Errorf("final tables: %s, want %s", got, want)
			}
		})
	}
}

func TestConsolidateCommandErrors(t *testing.T) {
	target := landedTargets(t)[0]
	db := target.open(t)
	landDuplicates(t, db)
	db.Close()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--final-schema", "f"}, `"staging-schema" not set`},
		{[]string{"--staging-schema", "salesforce_incremental", "--final-schema", "f", "--delete-mode", "archive"}, `--delete-mode "archive"`},
		{[]string{"--staging-schema", "salesforce_incremental", "--final-schema", "f", "--objects", "Lead"}, "has no table Lead (it has Account, Contact)"},
		{[]string{"--staging-schema", "salesforce_incremental", "--final-schema", "salesforce_incremental"}, "must differ"},
	}
	for _, tt := range tests {
		if _, err := runCmd(t, newConsolidateCmd, target.config, tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: got %v, want %q", tt.args, err, tt.want)
		}
	}
}

// TestSQLConsolidate prints the SQL for each dialect and runs it: the
// PostgreSQL script and the Redshift procedure against PostgreSQL, the
// DuckDB script against DuckDB.
func TestSQLConsolidate(t *testing.T) {
	args := func(dialect string, extra ...string) []string {
		return append([]string{"--dialect", dialect, "--staging-schema", "salesforce_incremental", "--final-schema", "salesforce",
			"--objects", "Account", "--delete-mode", "hard"}, extra...)
	}
	duck, err := sql.Open("duckdb", filepath.Join(t.TempDir(), "w.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer duck.Close()
	pg := pgTarget(t, landedTarget{}).open(t)
	defer pg.Close()
	pg2 := pgTarget(t, landedTarget{}).open(t)
	defer pg2.Close()
	for _, tt := range []struct {
		dialect string
		db      *sql.DB
		extra   []string
	}{
		{"duckdb", duck, nil},
		{"postgres", pg, nil},
		{"redshift", pg2, nil},
	} {
		t.Run(tt.dialect, func(t *testing.T) {
			landDuplicates(t, tt.db)
			if _, err := tt.db.ExecContext(t.Context(), "CREATE SCHEMA salesforce"); err != nil {
				t.Fatal(err)
			}
			out, err := runCmd(t, newSQLCmd, "", append([]string{"consolidate"}, args(tt.dialect, tt.extra...)...)...)
			if err != nil {
				t.Fatal(err)
			}
			stmts := []string{out}
			if tt.dialect == "redshift" {
				if !strings.Contains(out, "CREATE OR REPLACE PROCEDURE") {
					t.Fatalf("no procedure for redshift:\n%s", out)
				}
				create, call, _ := strings.Cut(out, "\n\nCALL ")
				stmts = []string{create, "CALL " + call, "CALL " + call}
			} else {
				stmts = append(stmts, out) // twice: idempotent
			}
			for _, q := range stmts {
				if _, err := tt.db.ExecContext(t.Context(), q); err != nil {
					t.Fatalf("run the printed SQL: %v\n%s", err, q)
				}
			}
			var got []string
			rows, err := tt.db.QueryContext(t.Context(), `SELECT "Id" || '=' || "Name" FROM salesforce."Account" ORDER BY "Id"`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var s string
				if err := rows.Scan(&s); err != nil {
					t.Fatal(err)
				}
				got = append(got, s)
			}
			rows.Close()
			if strings.Join(got, ", ") != "001A=Acme v2, 001C=Initech" {
				t.Errorf("final table: %v", got)
			}
		})
	}
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--dialect", "oracle", "--staging-schema", "a", "--final-schema", "b", "--objects", "X"}, `--dialect "oracle"`},
		{[]string{"--dialect", "duckdb", "--staging-schema", "a", "--final-schema", "b"}, "--objects is required"},
		{[]string{"--dialect", "duckdb", "--staging-schema", "a", "--final-schema", "b", "--objects", "X", "--procedure", "p"}, "DuckDB has no stored procedures"},
		{[]string{"--staging-schema", "a", "--final-schema", "b", "--objects", "X"}, `"dialect" not set`},
	} {
		if _, err := runCmd(t, newSQLConsolidateCmd, "", bad.args...); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v: got %v, want %q", bad.args, err, bad.want)
		}
	}
}

// TestOpenPostgresWarehouse: warehouse.type postgres opens the PostgreSQL
// warehouse from the configuration, its DSN taken from the environment.
func TestOpenPostgresWarehouse(t *testing.T) {
	target := pgTarget(t, landedTarget{})
	cfg, err := loadConfig(&globals{configPath: target.config})
	if err != nil {
		t.Fatal(err)
	}
	wh, err := openWarehouse(t.Context(), cfg, (&globals{stderr: &bytes.Buffer{}}).logger())
	if err != nil {
		t.Fatal(err)
	}
	defer wh.Close()
	if _, ok := wh.(*postgres.Warehouse); !ok {
		t.Fatalf("opened a %T", wh)
	}
	if err := wh.Setup(t.Context()); err != nil {
		t.Fatal(err)
	}
	release, err := wh.Lock(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}
	release()

	t.Setenv("SFSYNC_TEST_CONSOLIDATE_DSN", "postgres://sfsync:hunter2-secret@127.0.0.1:1/nowhere?sslmode=disable&connect_timeout=5")
	cfg, err = loadConfig(&globals{configPath: target.config})
	if err != nil {
		t.Fatal(err)
	}
	_, err = openWarehouse(t.Context(), cfg, (&globals{stderr: &bytes.Buffer{}}).logger())
	if err == nil || !strings.Contains(err.Error(), "cannot reach the server") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("unreachable server: %v", err)
	}
}
