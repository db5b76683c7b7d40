package landed

import (
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/google/go-cmp/cmp"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/sqlgen"
	"github.com/sfsync/sfsync/warehouse/postgres/pgtest"
)

// engine is a database to consolidate in.
type engine struct {
	name    string
	dialect sqlgen.Dialect
	open    func(t *testing.T) *sql.DB
}

func engines() []engine {
	return []engine{
		{"postgres", sqlgen.PostgreSQL(), func(t *testing.T) *sql.DB {
			db, err := sql.Open("pgx", pgtest.Database(t).Reveal())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}},
		{"duckdb", sqlgen.DuckDB(), func(t *testing.T) *sql.DB {
			db, err := sql.Open("duckdb", filepath.Join(t.TempDir(), "landed.duckdb"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}},
	}
}

const (
	stagingSchema = "salesforce_incremental"
	finalSchema   = "salesforce"
)

// version is one landed row of an Account.
type version struct {
	id      string
	name    string
	amount  string // decimal text with two places; "" for NULL
	mod     int    // SystemModstamp, minutes after base; -1 for NULL
	deleted bool
	region  string // Region__c, once it exists; "" for NULL
}

var base = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

func (v version) stamp() any {
	if v.mod < 0 {
		return nil
	}
	return base.Add(time.Duration(v.mod) * time.Minute)
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// lake is the landed data of a test, and what consolidating it yields.
type lake struct {
	t        *testing.T
	db       *sql.DB
	versions []version
	region   bool // the staging table has Region__c
}

func newLake(t *testing.T, db *sql.DB) *lake {
	t.Helper()
	l := &lake{t: t, db: db}
	l.exec(`CREATE SCHEMA ` + stagingSchema)
	l.exec(`CREATE TABLE ` + stagingSchema + `."Account" ("Id" VARCHAR(18), "Name" VARCHAR, "select" VARCHAR, "Amount" DECIMAL(18,2), "SystemModstamp" TIMESTAMPTZ, "IsDeleted" BOOLEAN)`)
	return l
}

func (l *lake) exec(q string, args ...any) {
	l.t.Helper()
	if _, err := l.db.ExecContext(l.t.Context(), q, args...); err != nil {
		l.t.Fatalf("%s: %v", q, err)
	}
}

// land inserts versions, as an insert-only landing does.
func (l *lake) land(vs ...version) {
	l.t.Helper()
	cols := `"Id", "Name", "select", "Amount", "SystemModstamp", "IsDeleted"`
	per := 6
	if l.region {
		cols += `, "Region__c"`
		per = 7
	}
	for len(vs) > 0 {
		chunk := vs[:min(100, len(vs))]
		vs = vs[len(chunk):]
		var rows []string
		var args []any
		for _, v := range chunk {
			var ph []string
			for range per {
				args = append(args, nil)
				ph = append(ph, fmt.Sprintf("$%d", len(args)))
			}
			n := len(args) - per
			args[n], args[n+1], args[n+2], args[n+3], args[n+4], args[n+5] = v.id, v.name, "s-"+v.name, nullable(v.amount), v.stamp(), v.deleted
			if l.region {
				args[n+6] = nullable(v.region)
			}
			rows = append(rows, "("+strings.Join(ph, ", ")+")")
			l.versions = append(l.versions, v)
		}
		l.exec(fmt.Sprintf(`INSERT INTO %s."Account" (%s) VALUES %s`, stagingSchema, cols, strings.Join(rows, ", ")), args...)
	}
}

// addRegion adds Region__c to the staging table, as a landing does when a
// field is added.
func (l *lake) addRegion() {
	l.t.Helper()
	l.exec(`ALTER TABLE ` + stagingSchema + `."Account" ADD COLUMN "Region__c" VARCHAR`)
	l.region = true
}

// row is a final row, as compared.
type row struct {
	ID, Name, Select, Amount, Region string
	Mod                              int
	Deleted                          bool
}

// want is the final table consolidation must yield: per Id the version
// with the latest SystemModstamp (NULL last); in hard mode no Id whose
// latest version is deleted.
func (l *lake) want(mode sfsync.DeleteMode) []row {
	latest := map[string]version{}
	for _, v := range l.versions {
		cur, ok := latest[v.id]
		if !ok || v.mod > cur.mod {
			latest[v.id] = v
		}
	}
	var out []row
	for _, v := range latest {
		if mode == sfsync.DeleteHard && v.deleted {
			continue
		}
		out = append(out, row{ID: v.id, Name: v.name, Select: "s-" + v.name, Amount: v.amount, Region: v.region, Mod: v.mod, Deleted: v.deleted})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// final reads the final table.
func (l *lake) final() []row {
	l.t.Helper()
	region := "NULL"
	if l.region {
		region = `"Region__c"`
	}
	q := fmt.Sprintf(`SELECT "Id", "Name", "select", CAST("Amount" AS VARCHAR), %s, "SystemModstamp", "IsDeleted" FROM %s."Account" ORDER BY "Id"`, region, finalSchema)
	rows, err := l.db.QueryContext(l.t.Context(), q)
	if err != nil {
		l.t.Fatalf("read the final table: %v", err)
	}
	defer rows.Close()
	var out []row
	for rows.Next() {
		var r row
		var name, sel, amount, reg sql.NullString
		var mod sql.NullTime
		if err := rows.Scan(&r.ID, &name, &sel, &amount, &reg, &mod, &r.Deleted); err != nil {
			l.t.Fatal(err)
		}
		r.Name, r.Select, r.Amount, r.Region = name.String, sel.String, amount.String, reg.String
		r.Mod = -1
		if mod.Valid {
			r.Mod = int(mod.Time.Sub(base) / time.Minute)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		l.t.Fatal(err)
	}
	return out
}

func (l *lake) check(what string, mode sfsync.DeleteMode) {
	l.t.Helper()
	if diff := cmp.Diff(l.want(mode), l.final()); diff != "" {
		l.t.Fatalf("%s: final table (-want +got):\n%s", what, diff)
	}
}

// churn lands a history full of duplicates: each of n Ids gets several
// versions, some landed twice, some deleted and undeleted, some without a
// SystemModstamp, in shuffled order.
func churn(rnd *rand.Rand, n, from int) []version {
	var vs []version
	for i := range n {
		id := fmt.Sprintf("001%06d", i)
		mod := from + rnd.IntN(50)
		for k := range 1 + rnd.IntN(5) {
			v := version{id: id, name: fmt.Sprintf("acct %d v%d", i, k), amount: fmt.Sprintf("%d.%02d", rnd.IntN(1e6), rnd.IntN(100)), mod: mod}
			if rnd.IntN(6) == 0 {
				v.deleted = true
			}
			if rnd.IntN(10) == 0 {
				v.amount = ""
			}
			vs = append(vs, v)
			if rnd.IntN(3) == 0 {
				vs = append(vs, v) // landed twice
			}
			mod += 1 + rnd.IntN(30)
		}
		if rnd.IntN(20) == 0 {
			vs = append(vs, version{id: id, name: "no stamp", mod: -1})
		}
	}
	rnd.Shuffle(len(vs), func(i, j int) { vs[i], vs[j] = vs[j], vs[i] })
	return vs
}

func TestConsolidate(t *testing.T) {
	for _, e := range engines() {
		for _, mode := range []sfsync.DeleteMode{sfsync.DeleteSoft, sfsync.DeleteHard} {
			t.Run(e.name+"/"+string(mode), func(t *testing.T) {
				db := e.open(t)
				l := newLake(t, db)
				rnd := rand.New(rand.NewPCG(1, uint64(len(mode))))
				l.land(churn(rnd, 300, 0)...)
				// The final schema does not exist yet: Consolidate creates it.
				opts := Options{Dialect: e.dialect, StagingSchema: stagingSchema, FinalSchema: finalSchema, Objects: []string{"account"}, Mode: mode}
				res := consolidate(t, db, opts)
				if !res.Created || res.ID != "Id" || res.Cursor != "SystemModstamp" || res.Deleted != "IsDeleted" || res.Versions != int64(len(l.want(mode))) {
					t.Errorf("first run: %+v", res)
				}
				l.check("first run", mode)

				again := consolidate(t, db, opts)
				if again.Created || again.Versions != 0 || again.Written != 0 || again.Removed != 0 {
					t.Errorf("second run changed something: %+v", again)
				}
				l.check("second run", mode)

				// Newer versions of some Ids, older ones of others (landed
				// late), undeletes and new Ids.
				var more []version
				for i := 0; i < 300; i += 7 {
					id := fmt.Sprintf("001%06d", i)
					more = append(more, version{id: id, name: "late and old", mod: 0}, version{id: id, name: "updated", amount: "1.50", mod: 1000 + i})
				}
				more = append(more, churn(rnd, 350, 2000)[:200]...)
				l.land(more...)
				res = consolidate(t, db, opts)
				if res.Versions == 0 {
					t.Errorf("third run: %+v", res)
				}
				l.check("after more landings", mode)

				// The landing adds a field: the final table gains it.
				l.addRegion()
				l.land(version{id: "001000001", name: "with region", mod: 5000, region: "EMEA"}, version{id: "001999999", name: "new", mod: 5000, region: "APAC"})
				res = consolidate(t, db, opts)
				if diff := cmp.Diff([]string{"Region__c"}, res.AddedColumns); diff != "" {
					t.Errorf("added columns (-want +got):\n%s", diff)
				}
				l.check("after a column was added", mode)
			})
		}
	}
}

func consolidate(t *testing.T, db *sql.DB, opts Options) Result {
	t.Helper()
	res, err := Consolidate(t.Context(), db, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 {
		t.Fatalf("%d results, want 1", len(res))
	}
	return res[0]
}

func TestConsolidateErrors(t *testing.T) {
	e := engines()[1]
	db := e.open(t)
	l := newLake(t, db)
	l.exec(`CREATE TABLE ` + stagingSchema + `."NoStamp" ("Id" VARCHAR, "Name" VARCHAR)`)
	l.exec(`CREATE TABLE ` + stagingSchema + `."NoId" ("Key" VARCHAR, "SystemModstamp" TIMESTAMPTZ)`)
	l.exec("CREATE SCHEMA " + finalSchema)
	opts := Options{Dialect: e.dialect, StagingSchema: stagingSchema, FinalSchema: finalSchema}
	tests := []struct {
		objects []string
		want    string
	}{
		{[]string{"Contact", "Lead"}, "has no table Contact, Lead (it has Account, NoId, NoStamp)"},
		{[]string{"NoStamp"}, "NoStamp into salesforce: the table has no cursor column (one of SystemModstamp"},
		{[]string{"NoId"}, "the table has no Id column"},
	}
	for _, tt := range tests {
		o := opts
		o.Objects = tt.objects
		if _, err := Consolidate(t.Context(), db, o); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: got %v, want an error containing %q", tt.objects, err, tt.want)
		}
	}
	o := opts
	o.StagingSchema = "nothing_here"
	if _, err := Consolidate(t.Context(), db, o); err == nil || !strings.Contains(err.Error(), "schema nothing_here holds no tables") {
		t.Errorf("empty schema: %v", err)
	}
}

// TestScript runs the printed SQL (columns by position) against each
// engine, twice, and the Redshift stored procedure against PostgreSQL.
func TestScript(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			db := e.open(t)
			l := newLake(t, db)
			rnd := rand.New(rand.NewPCG(2, 2))
			l.land(churn(rnd, 200, 0)...)
			l.exec("CREATE SCHEMA " + finalSchema)
			spec := Spec{Dialect: e.dialect, StagingSchema: stagingSchema, FinalSchema: finalSchema, Table: "Account",
				ID: "Id", Cursor: "SystemModstamp", Deleted: "IsDeleted", Mode: sfsync.DeleteHard}
			script, err := Script([]Spec{spec})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 2 {
				l.exec(script)
				l.check(fmt.Sprintf("script run %d", i+1), sfsync.DeleteHard)
			}
			l.land(churn(rnd, 250, 3000)...)
			l.exec(script)
			l.check("script after more landings", sfsync.DeleteHard)
		})
	}
	t.Run("redshift procedure on postgres", func(t *testing.T) {
		db := engines()[0].open(t)
		l := newLake(t, db)
		rnd := rand.New(rand.NewPCG(3, 3))
		l.land(churn(rnd, 200, 0)...)
		l.exec("CREATE SCHEMA " + finalSchema)
		spec := Spec{Dialect: sqlgen.Redshift(), StagingSchema: stagingSchema, FinalSchema: finalSchema, Table: "Account",
			ID: "Id", Cursor: "SystemModstamp", Deleted: "IsDeleted"}
		proc, err := Procedure("sfsync_consolidate_landed", []Spec{spec})
		if err != nil {
			t.Fatal(err)
		}
		create, call, ok := strings.Cut(proc, "\n\nCALL ")
		if !ok {
			t.Fatalf("no CALL in:\n%s", proc)
		}
		l.exec(create)
		for i := range 2 {
			// A procedure that commits must be called outside a
			// transaction block: alone.
			l.exec("CALL " + call)
			l.check(fmt.Sprintf("procedure run %d", i+1), sfsync.DeleteSoft)
		}
	})
}

func TestLookback(t *testing.T) {
	for _, e := range engines() {
		t.Run(e.name, func(t *testing.T) {
			db := e.open(t)
			l := newLake(t, db)
			l.exec("CREATE SCHEMA " + finalSchema)
			l.land(version{id: "a", name: "a1", mod: 100}, version{id: "b", name: "b1", mod: 200})
			opts := Options{Dialect: e.dialect, StagingSchema: stagingSchema, FinalSchema: finalSchema, Lookback: 30 * time.Minute}
			consolidate(t, db, opts)
			l.check("first", sfsync.DeleteSoft)
			// a's newer version lands with a cursor far before the
			// final table's latest: outside the lookback, it is missed;
			// without a lookback it is not.
			l.land(version{id: "a", name: "a2", mod: 150}, version{id: "c", name: "c1", mod: 190})
			res := consolidate(t, db, opts)
			if res.Versions != 1 {
				t.Errorf("with a lookback: %d versions, want 1 (c only)", res.Versions)
			}
			opts.Lookback = 0
			consolidate(t, db, opts)
			l.check("without a lookback", sfsync.DeleteSoft)
		})
	}
}

func TestSpecRejects(t *testing.T) {
	ok := Spec{Dialect: sqlgen.PostgreSQL(), StagingSchema: "a", FinalSchema: "b", Table: "T", ID: "Id", Cursor: "SystemModstamp"}
	tests := []struct {
		name string
		mut  func(*Spec)
		want string
	}{
		{"same schemas", func(s *Spec) { s.FinalSchema = "a" }, "must differ"},
		{"no cursor", func(s *Spec) { s.Cursor = "" }, "cursor column: empty identifier"},
		{"bad mode", func(s *Spec) { s.Mode = "archive" }, `delete mode "archive"`},
		{"missing id column", func(s *Spec) { s.Columns = []string{"SystemModstamp"} }, "column Id is not among the columns"},
		{"dialect", func(s *Spec) { s.Dialect.Name = "oracle" }, `dialect "oracle"`},
		{"long name", func(s *Spec) { s.Table = strings.Repeat("t", 64) }, "keeps at most 63"},
	}
	for _, tt := range tests {
		s := ok
		tt.mut(&s)
		if _, _, err := s.Statements(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.want)
		}
	}
	if _, err := Procedure("p", []Spec{{Dialect: sqlgen.DuckDB(), StagingSchema: "a", FinalSchema: "b", Table: "T", ID: "Id", Cursor: "C"}}); err == nil {
		t.Error("a DuckDB procedure was rendered")
	}
	if _, err := Script(nil); err == nil {
		t.Error("an empty script was rendered")
	}
}
