package main

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/salesforce"
	"github.com/sfsync/sfsync/sfemu"
	"github.com/sfsync/sfsync/verify"
	"github.com/sfsync/sfsync/warehouse/postgres/pgtest"
)

// usePostgres points the environment's configuration at a new PostgreSQL
// database and returns the environment variable that carries its
// connection string, for the servers' environment.
func usePostgres(t *testing.T, p *procEnv) (env string, dsn sfsync.Secret) {
	t.Helper()
	dsn = pgtest.Database(t)
	raw, err := os.ReadFile(p.config)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(raw), "warehouse:\n  path: "+p.db+"\n", "warehouse:\n  type: postgres\n  dsn: ${PG_DSN}\n", 1)
	if cfg == string(raw) {
		t.Fatal("the test configuration has no warehouse section to replace")
	}
	if err := os.WriteFile(p.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return "PG_DSN=" + dsn.Reveal(), dsn
}

// pgRun is a run record as the servers wrote it.
type pgRun struct {
	object            string
	started, finished sql.NullTime
	status            string
}

func pgRuns(t *testing.T, db *sql.DB) []pgRun {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT object, started_at, finished_at, status FROM _sfsync.runs WHERE started_at IS NOT NULL ORDER BY object, started_at`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []pgRun
	for rows.Next() {
		var r pgRun
		if err := rows.Scan(&r.object, &r.started, &r.finished, &r.status); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkNoOverlap fails when two runs of one object overlap in time.
func checkNoOverlap(t *testing.T, runs []pgRun) {
	t.Helper()
	for i := 1; i < len(runs); i++ {
		prev, cur := runs[i-1], runs[i]
		if prev.object != cur.object {
			continue
		}
		end := prev.finished.Time
		if !prev.finished.Valid {
			// A run whose server was killed: it ended when its lease did,
			// at the latest; the next run may not start before that.
			continue
		}
		if cur.started.Time.Before(end) {
			t.Errorf("two runs of %s overlap: one %s–%s, the next started %s", cur.object,
				prev.started.Time.Format(time.RFC3339Nano), end.Format(time.RFC3339Nano), cur.started.Time.Format(time.RFC3339Nano))
		}
	}
}

func verifyPostgres(t *testing.T, p *procEnv, db *sql.DB, objects ...string) {
	t.Helper()
	src, err := salesforce.New(salesforce.Options{Credentials: salesforce.Credentials{
		Method: "password", LoginURL: p.srv.URL, ClientID: "sfsync-emulator",
		ClientSecret: sfsync.Secret("emulator-secret"), Username: "admin@emulator.example", Password: sfsync.Secret("emulator-password"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objects {
		obj, err := src.Describe(t.Context(), o)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := verify.Compare(t.Context(), db, o, p.emu.Truth(o), verify.Options{Schema: "salesforce", Fields: obj.ReplicatedFields(nil, nil)})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || rep.Compared == 0 {
			t.Fatalf("the replica of %s differs from the source:\n%s", o, rep)
		}
	}
}

// TestServeTwoServersOnePostgres runs two `sfsync serve` processes on one
// PostgreSQL warehouse. They start together and contend for every object:
// each object runs exactly once, never twice at the same time, and the
// server that did not run it takes the other's status over. Then the
// server running an object is killed with SIGKILL mid-run: the survivor
// waits for the dead server's lease to expire, takes the object over, and
// the replica converges to the source.
func TestServeTwoServersOnePostgres(t *testing.T) {
	p := newProcEnv(t, map[string]int{"Account": 1200, "Contact": 1200, "Lead": 1200, "User": 5},
		"serve:\n  schedule: 1h\n  lease_ttl: 6s\n")
	env, dsn := usePostgres(t, p)
	db, err := sql.Open("pgx", dsn.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	objects := []string{"Account", "Contact", "Lead"}
	// Slow pages make every run last long enough for the servers to meet.
	p.emu.InjectFault(sfemu.Fault{Kind: sfemu.FaultSlow, Route: "querymore", Delay: 250 * time.Millisecond, Times: -1})

	a := startServe(t, p, []string{env}, "--log-level", "debug")
	b := startServe(t, p, []string{env}, "--log-level", "debug")
	a.waitReady()
	b.waitReady()
	waitRuns(t, db, objects, 1)
	time.Sleep(500 * time.Millisecond) // let the loser of each lease look again
	runs := pgRuns(t, db)
	checkNoOverlap(t, runs)
	complete := map[string]int{}
	for _, r := range runs {
		if r.status == string(sfsync.RunComplete) {
			complete[r.object]++
		}
	}
	for _, o := range objects {
		if complete[o] != 1 {
			t.Errorf("%s ran %d times to completion, want once across both servers (runs %+v)", o, complete[o], runs)
		}
	}
	met := func(s *serveProc) bool {
		l := s.log()
		return strings.Contains(l, "another server is running the object") || strings.Contains(l, "another server ran the object")
	}
	if !met(a) && !met(b) {
		t.Fatalf("the servers never contended for an object, so the test proves nothing\nA:\n%s\nB:\n%s", a.log(), b.log())
	}
	verifyPostgres(t, p, db, objects...)

	// Kill the server running Account mid-run; the other takes over once
	// the lease expires.
	if _, err := p.emu.UpdateRandom("Account", 600, nil); err != nil {
		t.Fatal(err)
	}
	p.emu.ClearFaults()
	p.emu.InjectFault(sfemu.Fault{Kind: sfemu.FaultSlow, Route: "querymore", Delay: 2 * time.Second, Times: -1})
	const extracting = "msg=extracting object=Account"
	seen := strings.Count(a.log(), extracting)
	a.trigger(false, "Account")
	if !a.waitLine(extracting, seen+1, 1<<30) {
		t.Fatalf("server A did not start extracting Account\n%s", a.log())
	}
	if signalled, err := a.stop(syscall.SIGKILL); !signalled || err != nil {
		t.Fatalf("SIGKILL: signalled %v, %v", signalled, err)
	}
	killed := time.Now()
	b.trigger(false, "Account")
	deadline := time.Now().Add(2 * time.Minute)
	for {
		var n int
		if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM _sfsync.runs WHERE object = 'Account' AND status = 'complete' AND started_at > $1`, killed).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server B never completed Account after A died\n%s", b.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(b.log(), "waiting for its lease") {
		t.Errorf("server B did not wait for the dead server's lease\n%s", b.log())
	}
	checkNoOverlap(t, pgRuns(t, db))
	verifyPostgres(t, p, db, "Account")
	if signalled, err := b.stop(syscall.SIGTERM); signalled || err != nil {
		t.Fatalf("SIGTERM: signalled %v, %v\n%s", signalled, err, b.log())
	}
}

// waitRuns waits until every object has at least n complete runs and no
// run is in progress.
func waitRuns(t *testing.T, db *sql.DB, objects []string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	for {
		done := 0
		for _, o := range objects {
			var c int
			if err := db.QueryRowContext(ctx, `SELECT count(*) FROM _sfsync.runs WHERE object = $1 AND status = 'complete'`, o).Scan(&c); err != nil {
				t.Fatalf("read runs: %v", err)
			}
			if c >= n {
				done++
			}
		}
		var running int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM _sfsync.runs WHERE finished_at IS NULL`).Scan(&running); err != nil {
			t.Fatalf("read runs: %v", err)
		}
		if done == len(objects) && running == 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("objects did not complete %d runs in time", n)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
