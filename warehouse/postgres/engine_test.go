package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/sqlgen"
	"github.com/sfsync/sfsync/warehouse/postgres/pgtest"
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

func at(n int) time.Time { return time.Date(2024, 1, 1, 0, n, 0, 0, time.UTC) }

func ready(t *testing.T, w *Warehouse, tbl sfsync.Table) {
	t.Helper()
	if err := w.Setup(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := w.EnsureTable(t.Context(), tbl); err != nil {
		t.Fatal(err)
	}
}

func stageRecords(t *testing.T, w *Warehouse, tbl sfsync.Table, b sfsync.Batch, recs ...sfsync.Record) {
	t.Helper()
	s, err := w.Stage(t.Context(), tbl, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(t.Context(), recs); err != nil {
		s.Abort()
		t.Fatal(err)
	}
	if err := s.Close(t.Context()); err != nil {
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

func cursorOf(t *testing.T, w *Warehouse, object string) time.Time {
	t.Helper()
	st, err := w.State(t.Context(), object)
	if err != nil {
		t.Fatal(err)
	}
	return st.Cursor.Time
}

// seeded returns a warehouse whose Account holds a and b at minute 1, and
// a closed batch b2 (a updated, c new) with its consolidation: a full
// refresh in hard mode, so that every kind of step runs.
func seeded(t *testing.T, opts Options) (*Warehouse, sfsync.Consolidation) {
	t.Helper()
	w := openTemp(t, opts)
	t.Cleanup(func() { w.Close() })
	tbl := testTable()
	ready(t, w, tbl)
	seed := sfsync.Batch{ID: "seed", Object: "Account", ExtractedAt: at(0)}
	stageRecords(t, w, tbl, seed, sfsync.Record{"a", "A", sfsync.Decimal("1"), false, at(1)}, sfsync.Record{"b", "B", nil, false, at(1)})
	if _, err := w.Consolidate(t.Context(), tbl, sfsync.Consolidation{Batch: seed, Mode: sfsync.DeleteSoft, Cursor: sfsync.Cursor{Field: "SystemModstamp", Time: at(1)}}); err != nil {
		t.Fatal(err)
	}
	b := sfsync.Batch{ID: "b", Object: "Account", ExtractedAt: at(5)}
	stageRecords(t, w, tbl, b, sfsync.Record{"a", "A2", sfsync.Decimal("2"), false, at(5)}, sfsync.Record{"c", "C", nil, false, at(5)})
	return w, sfsync.Consolidation{Batch: b, Mode: sfsync.DeleteHard, FullRefresh: true, Cursor: sfsync.Cursor{Field: "SystemModstamp", Time: at(5)}}
}

var wantAfterB = sfsync.ConsolidateResult{Staged: 2, Upserted: 2, Deleted: 1}

// TestFaultAtEveryStep fails the consolidation at each of its steps, and
// at commit, and checks that nothing changed each time.
func TestFaultAtEveryStep(t *testing.T) {
	w, c := seeded(t, Options{})
	tbl := testTable()
	before := finalRows(t, w, "Account")
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
		_, err := w.Consolidate(t.Context(), tbl, c)
		if !errors.Is(err, boom) || !strings.Contains(err.Error(), "consolidate Account batch b: "+step) {
			t.Errorf("fault at %s: got %v", step, err)
		}
		w.failAt = nil
		if diff := cmp.Diff(before, finalRows(t, w, "Account")); diff != "" {
			t.Fatalf("fault at %s changed the final table (-before +after):\n%s", step, diff)
		}
		if got := cursorOf(t, w, "Account"); !got.Equal(at(1)) {
			t.Fatalf("fault at %s moved the cursor to %v", step, got)
		}
	}
	res, err := w.Consolidate(t.Context(), tbl, c)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantAfterB, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
}

// terminate ends every session of the warehouse's database but the
// caller's, as a server shutdown or an administrator would.
func terminate(t *testing.T, w *Warehouse) int {
	t.Helper()
	admin := pgtest.Admin(t)
	var n int
	err := admin.QueryRow(context.Background(), `SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE datname = $1 AND pid <> pg_backend_pid()`, w.cfg.ConnConfig.Database).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestServerGoneMidConsolidation terminates the warehouse's sessions in
// the middle of a consolidation, at every step: the transaction rolls
// back, the error says the connection was lost and nothing was applied,
// and a retry converges.
func TestServerGoneMidConsolidation(t *testing.T) {
	w, c := seeded(t, Options{})
	tbl := testTable()
	before := finalRows(t, w, "Account")
	plan, err := w.dialect.Consolidate(sqlgen.ConsolidateSpec{Layout: w.layout, Table: tbl, Mode: c.Mode, FullRefresh: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range plan {
		step := s.Name
		killed := 0
		w.failAt = func(s string) error {
			if s == step {
				killed = terminate(t, w)
			}
			return nil
		}
		_, err := w.Consolidate(t.Context(), tbl, c)
		w.failAt = nil
		if killed == 0 {
			t.Fatalf("at %s: no session to terminate", step)
		}
		if err == nil {
			t.Fatalf("at %s: the consolidation succeeded though its session was terminated", step)
		}
		for _, want := range []string{"consolidate Account batch b", "connection to", "was lost", "rolled back", "nothing of it was applied"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("at %s: error %q does not say %q", step, err, want)
			}
		}
		if diff := cmp.Diff(before, finalRows(t, w, "Account")); diff != "" {
			t.Fatalf("at %s: the final table changed (-before +after):\n%s", step, diff)
		}
		if got := cursorOf(t, w, "Account"); !got.Equal(at(1)) {
			t.Fatalf("at %s: the cursor moved to %v", step, got)
		}
	}
	res, err := w.Consolidate(t.Context(), tbl, c)
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if diff := cmp.Diff(wantAfterB, res); diff != "" {
		t.Errorf("retry result (-want +got):\n%s", diff)
	}
	if got := cursorOf(t, w, "Account"); !got.Equal(at(5)) {
		t.Errorf("cursor after the retry: %v, want %v", got, at(5))
	}
}

// TestServerGoneMidStaging terminates the sessions while a batch is being
// staged: the batch is gone, and staging it again works.
func TestServerGoneMidStaging(t *testing.T) {
	w := openTemp(t, Options{})
	defer w.Close()
	tbl := testTable()
	ready(t, w, tbl)
	b := sfsync.Batch{ID: "b1", Object: "Account", ExtractedAt: at(0)}
	s, err := w.Stage(t.Context(), tbl, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(t.Context(), []sfsync.Record{{"a", "A", nil, false, at(1)}}); err != nil {
		t.Fatal(err)
	}
	terminate(t, w)
	err = s.Write(t.Context(), []sfsync.Record{{"b", "B", nil, false, at(1)}})
	if err == nil {
		err = s.Close(t.Context())
	}
	if err == nil || !strings.Contains(err.Error(), "was lost") {
		t.Fatalf("staging on a terminated session: got %v, want a lost connection", err)
	}
	s.Abort()
	staged, err := w.StagedRows(t.Context(), "Account")
	if err != nil {
		t.Fatal(err)
	}
	if len(staged) != 0 {
		t.Errorf("rows of the interrupted batch remain: %v", staged)
	}
	stageRecords(t, w, tbl, b, sfsync.Record{"a", "A", nil, false, at(1)})
	if res, err := w.Consolidate(t.Context(), tbl, sfsync.Consolidation{Batch: b, Mode: sfsync.DeleteSoft}); err != nil || res.Upserted != 1 {
		t.Errorf("after restaging: %+v, %v", res, err)
	}
}

// TestStagingEmptiedByCrash: a server crash empties unlogged staging
// tables. Consolidating the batch then fails and changes nothing.
func TestStagingEmptiedByCrash(t *testing.T) {
	w, c := seeded(t, Options{})
	if _, err := w.pool.Exec(t.Context(), `TRUNCATE "salesforce_staging"."Account"`); err != nil {
		t.Fatal(err)
	}
	_, err := w.Consolidate(t.Context(), testTable(), c)
	if err == nil || !strings.Contains(err.Error(), "holds none of the batch's 2 rows") {
		t.Fatalf("got %v, want an error about the missing rows", err)
	}
	if got := cursorOf(t, w, "Account"); !got.Equal(at(1)) {
		t.Errorf("the cursor moved to %v", got)
	}
}

func TestOpenErrors(t *testing.T) {
	dsn := pgtest.Database(t)
	missing := pgtest.WithDatabase(pgtest.ServerDSN(), "sfsync_no_such_database")
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{"no dsn", Options{}, []string{"no connection string", "warehouse.dsn"}},
		{"unparsable", Options{DSN: "postgres://u:hunter2-secret@host:notaport/db"}, []string{"does not parse"}},
		{"missing database", Options{DSN: sfsync.Secret(missing)}, []string{`database "sfsync_no_such_database" does not exist`, "CREATE DATABASE"}},
		{"refused", Options{DSN: "postgres://u:hunter2-secret@127.0.0.1:1/db?sslmode=disable&connect_timeout=5"}, []string{"cannot reach the server", "127.0.0.1:1"}},
		{"same schemas", Options{DSN: dsn, FinalSchema: "x", StagingSchema: "x"}, []string{"must differ"}},
		{"long schema", Options{DSN: dsn, ControlSchema: strings.Repeat("s", 64)}, []string{"control schema", "keeps at most 63"}},
		{"text policy", Options{DSN: dsn, Text: "ignore"}, []string{`text policy "ignore"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := Open(t.Context(), tt.opts)
			if err == nil {
				w.Close()
				t.Fatal("opened")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "hunter2-secret") {
				t.Errorf("error %q reveals the password", err)
			}
		})
	}
}

// TestSchemaPermissions: a user who may not create schemas is told which
// grant is missing; once an administrator creates the schemas and grants
// USAGE and CREATE on them, as docs/postgres.md says, setup works.
func TestSchemaPermissions(t *testing.T) {
	dsn := pgtest.Database(t)
	admin, err := Open(t.Context(), Options{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	role := fmt.Sprintf("sfsync_limited_%d", time.Now().UnixNano()%1e9)
	db := admin.cfg.ConnConfig.Database
	exec := func(q string) {
		t.Helper()
		if _, err := admin.pool.Exec(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec("CREATE ROLE " + role + " LOGIN")
	t.Cleanup(func() {
		ctx := context.Background()
		c := pgtest.Admin(t)
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
		if _, err := c.Exec(ctx, "DROP ROLE IF EXISTS "+role); err != nil {
			t.Errorf("drop role: %v", err)
		}
	})
	limited := Options{DSN: sfsync.Secret(withUser(t, dsn.Reveal(), role))}
	w, err := Open(t.Context(), limited)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	err = w.Setup(t.Context())
	for _, want := range []string{"create schema salesforce", role, "lacks a privilege", "GRANT CREATE ON DATABASE", "docs/postgres.md"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("setup without privileges: got %v, want it to say %q", err, want)
		}
	}
	for _, s := range []string{"salesforce", "salesforce_staging", "_sfsync"} {
		exec(fmt.Sprintf("CREATE SCHEMA %s", s))
		exec(fmt.Sprintf("GRANT USAGE, CREATE ON SCHEMA %s TO %s", s, role))
	}
	if err := w.Setup(t.Context()); err != nil {
		t.Fatalf("setup after the grants: %v", err)
	}
	tbl := testTable()
	if err := w.EnsureTable(t.Context(), tbl); err != nil {
		t.Fatal(err)
	}
	b := sfsync.Batch{ID: "b", Object: "Account"}
	stageRecords(t, w, tbl, b, sfsync.Record{"a", "A", nil, false, at(1)})
	if _, err := w.Consolidate(t.Context(), tbl, sfsync.Consolidation{Batch: b, Mode: sfsync.DeleteSoft}); err != nil {
		t.Fatal(err)
	}
	release, err := w.Lock(t.Context(), false)
	if err != nil {
		t.Fatalf("lock as the limited user: %v", err)
	}
	release()
}

func withUser(t *testing.T, dsn, user string) string {
	t.Helper()
	if !strings.HasPrefix(dsn, "postgres://") {
		return dsn + " user=" + user
	}
	i := strings.Index(dsn, "://") + 3
	j := strings.IndexByte(dsn[i:], '@')
	if j < 0 {
		return dsn[:i] + user + "@" + dsn[i:]
	}
	return dsn[:i] + user + dsn[i+j:]
}

// TestLockAcrossWarehouses: two warehouses on one database exclude each
// other; the busy error names the holder; a holder whose session ends
// frees the lock; another control schema has a lock of its own.
func TestLockAcrossWarehouses(t *testing.T) {
	dsn := pgtest.Database(t)
	open := func(control string) *Warehouse {
		w, err := Open(t.Context(), Options{DSN: dsn, ControlSchema: control})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		return w
	}
	a, b, other := open(""), open(""), open("_sfsync_other")
	release, err := a.Lock(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Lock(t.Context(), false)
	if !errors.Is(err, sfsync.ErrBusy) {
		t.Fatalf("second warehouse: got %v, want ErrBusy", err)
	}
	for _, want := range []string{"server process", "application sfsync", "--wait"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("busy error %q does not say %q", err, want)
		}
	}
	r, err := other.Lock(t.Context(), false)
	if err != nil {
		t.Errorf("another control schema: %v", err)
	} else {
		r()
	}

	// A waiting Lock gets it once the holder's session ends.
	got := make(chan error, 1)
	go func() {
		r, err := b.Lock(t.Context(), true)
		if err == nil {
			r()
		}
		got <- err
	}()
	var n int
	if err := pgtest.Admin(t).QueryRow(t.Context(), `SELECT COUNT(pg_terminate_backend(l.pid)) FROM pg_locks l
JOIN pg_database d ON d.oid = l.database
WHERE l.locktype = 'advisory' AND l.granted AND d.datname = $1`, a.cfg.ConnConfig.Database).Scan(&n); err != nil || n != 1 {
		t.Fatalf("terminate the holder's session: %d terminated, %v", n, err)
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("waiting Lock after the holder's session ended: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the waiting Lock never got the lock")
	}
	release() // its session is gone; releasing is still safe
}

// TestTextCleaned: NUL characters are removed, and each altered value is
// logged and recorded with its batch.
func TestTextCleaned(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, nil))
	w := openTemp(t, Options{Logger: log})
	defer w.Close()
	tbl := testTable()
	ready(t, w, tbl)
	b := sfsync.Batch{ID: "b", Object: "Account"}
	stageRecords(t, w, tbl, b, sfsync.Record{"001NUL", "a\x00b\x00", nil, false, at(1)}, sfsync.Record{"001OK", "fine", nil, false, at(1)})
	if _, err := w.Consolidate(t.Context(), tbl, sfsync.Consolidation{Batch: b, Mode: sfsync.DeleteSoft}); err != nil {
		t.Fatal(err)
	}
	rows := finalRows(t, w, "Account")
	if rows[0]["Name"] != "ab" || rows[1]["Name"] != "fine" {
		t.Errorf("names %q, %q; want ab, fine", rows[0]["Name"], rows[1]["Name"])
	}
	got, err := w.AlteredValues(t.Context(), "b")
	if err != nil {
		t.Fatal(err)
	}
	want := []AlteredValue{{ID: "001NUL", Column: "Name", Change: "stripped of 2 NUL character(s)"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("altered values (-want +got):\n%s", diff)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, part := range []string{`msg="text value altered to store it"`, "table=Account", "column=Name", "id=001NUL", "batch=b"} {
		if !strings.Contains(logs.String(), part) {
			t.Errorf("log lacks %q:\n%s", part, logs.String())
		}
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestStageRejects(t *testing.T) {
	w := openTemp(t, Options{})
	defer w.Close()
	tbl := testTable()
	ready(t, w, tbl)
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
}

func TestPrimaryKeyAndUnloggedStaging(t *testing.T) {
	w := openTemp(t, Options{})
	defer w.Close()
	ready(t, w, testTable())
	var pk string
	err := w.pool.QueryRow(t.Context(), `SELECT a.attname FROM pg_index i
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
WHERE i.indrelid = '"salesforce"."Account"'::regclass AND i.indisprimary`).Scan(&pk)
	if err != nil || pk != "Id" {
		t.Errorf("primary key of the final table: %q, %v; want Id", pk, err)
	}
	var persistence string
	if err := w.pool.QueryRow(t.Context(), `SELECT relpersistence FROM pg_class WHERE oid = '"salesforce_staging"."Account"'::regclass`).Scan(&persistence); err != nil || persistence != "u" {
		t.Errorf("staging table persistence %q, %v; want u (unlogged)", persistence, err)
	}
}

// TestTextRejected: under TextReject a NUL character fails the batch,
// naming the table, column and Id.
func TestTextRejected(t *testing.T) {
	w := openTemp(t, Options{Text: TextReject})
	defer w.Close()
	tbl := testTable()
	ready(t, w, tbl)
	if _, ok := w.StoredText("a\x00b"); ok {
		t.Error("StoredText accepts a NUL character under TextReject")
	}
	if got, ok := w.StoredText("plain"); !ok || got != "plain" {
		t.Errorf("StoredText(plain) = %q, %v", got, ok)
	}
	s, err := w.Stage(t.Context(), tbl, sfsync.Batch{ID: "b", Object: "Account"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Abort()
	err = s.Write(t.Context(), []sfsync.Record{{"001NUL", "a\x00b", nil, false, at(1)}})
	for _, want := range []string{"table Account", "column Name", "Id 001NUL", "NUL", `"reject"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want an error mentioning %q", err, want)
		}
	}
}

func TestCustomSchemas(t *testing.T) {
	w := openTemp(t, Options{FinalSchema: "Sales Force", StagingSchema: "stage", ControlSchema: `ctl"x`})
	defer w.Close()
	tbl := testTable()
	ready(t, w, tbl)
	for i, id := range []string{"b1", "b2"} {
		b := sfsync.Batch{ID: id, Object: "Account", ExtractedAt: at(i)}
		stageRecords(t, w, tbl, b, sfsync.Record{"a", "A" + id, nil, false, at(i + 1)})
		if _, err := w.Consolidate(t.Context(), tbl, sfsync.Consolidation{Batch: b, Mode: sfsync.DeleteSoft}); err != nil {
			t.Fatal(err)
		}
		if err := w.CleanStaging(t.Context(), "Account", 0); err != nil {
			t.Fatal(err)
		}
	}
	var name string
	if err := w.pool.QueryRow(t.Context(), `SELECT "Name" FROM "Sales Force"."Account"`).Scan(&name); err != nil || name != "Ab2" {
		t.Errorf("final table in the custom schema: %q, %v", name, err)
	}
	var n int
	if err := w.pool.QueryRow(t.Context(), `SELECT COUNT(*) FROM "ctl""x".batches WHERE consolidated_at IS NOT NULL`).Scan(&n); err != nil || n != 2 {
		t.Errorf("batch records in the custom control schema: %d, %v", n, err)
	}
	release, err := w.Lock(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}
	release()
}
