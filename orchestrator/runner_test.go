package orchestrator_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/orchestrator"
	"github.com/sfsync/sfsync/replicate"
	"github.com/sfsync/sfsync/salesforce"
	"github.com/sfsync/sfsync/sfemu"
	"github.com/sfsync/sfsync/verify"
	"github.com/sfsync/sfsync/warehouse/duckdb"
)

// clock is a clock the test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is the emulator over HTTP, a client of it and a DuckDB file.
type env struct {
	emu   *sfemu.Server
	src   *salesforce.Client
	path  string
	clock *clock

	mu   sync.Mutex
	open *duckdb.Warehouse // the session's warehouse while one is open
}

func newEnv(t *testing.T, opts sfemu.Options) *env {
	t.Helper()
	if opts.Seed == 0 {
		opts.Seed = 7
	}
	emu, err := sfemu.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	src, err := salesforce.New(salesforce.Options{
		Credentials: salesforce.Credentials{Method: "password", LoginURL: srv.URL, ClientID: "sfsync-emulator",
			ClientSecret: "emulator-secret", Username: "admin@emulator.example", Password: "emulator-password"},
		PageSize: 200,
		Retry:    salesforce.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &env{emu: emu, src: src, path: filepath.Join(t.TempDir(), "replica.duckdb"),
		clock: &clock{now: time.Now().UTC().Truncate(time.Second)}}
}

// opener opens the DuckDB file as the service does, remembering the
// session's warehouse for the test.
func (e *env) opener(owner string) orchestrator.Opener {
	open := duckdb.Opener(duckdb.Options{Path: e.path, Threads: 2}, owner)
	return func(ctx context.Context) (*orchestrator.Session, error) {
		s, err := open(ctx)
		if err != nil {
			return nil, err
		}
		e.mu.Lock()
		e.open = s.Warehouse.(*duckdb.Warehouse)
		e.mu.Unlock()
		closeFn := s.Close
		s.Close = func() error {
			e.mu.Lock()
			e.open = nil
			e.mu.Unlock()
			return closeFn()
		}
		return s, nil
	}
}

func (e *env) limits(ctx context.Context) (sfsync.APIUsage, error) {
	l, err := e.src.Limits(ctx)
	if err != nil {
		return sfsync.APIUsage{}, err
	}
	d := l["DailyApiRequests"]
	return sfsync.APIUsage{Used: d.Max - d.Remaining, Max: d.Max}, nil
}

// start runs a Runner until the test ends (or stop is called).
func (e *env) start(t *testing.T, objects []orchestrator.Object, tweak func(*orchestrator.Options)) (*orchestrator.Runner, func()) {
	t.Helper()
	opts := orchestrator.Options{
		Source:    e.src,
		Open:      e.opener("test-server"),
		Objects:   objects,
		Replicate: replicate.Options{Lookback: time.Minute, BatchRows: 300, PageSize: 200},
		Retry:     orchestrator.RetryPolicy{MaxAttempts: 3, Initial: 10 * time.Second, Max: time.Minute},
		Limits:    e.limits,
		Owner:     "test-server",
		Poll:      10 * time.Millisecond,
		Now:       e.clock.Now,
	}
	if tweak != nil {
		tweak(&opts)
	}
	r, err := orchestrator.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return r, stop
}

// waitFor polls cond until it holds; a generous deadline only guards
// against hanging.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func view(t *testing.T, r *orchestrator.Runner, object string) orchestrator.ObjectView {
	t.Helper()
	v, ok := r.Object(object)
	if !ok {
		t.Fatalf("no object %s", object)
	}
	return v
}

func runCount(r *orchestrator.Runner, object string) int {
	runs, _ := r.Runs(object, 0)
	return len(runs)
}

// settled reports whether the object finished n runs and is not running.
func settled(r *orchestrator.Runner, object string, n int) func() bool {
	return func() bool {
		v, _ := r.Object(object)
		return !v.Running && runCount(r, object) >= n
	}
}

func specs(names ...string) []orchestrator.Object {
	var out []orchestrator.Object
	for _, n := range names {
		out = append(out, orchestrator.Object{Spec: replicate.ObjectSpec{Name: n}})
	}
	return out
}

// verifyAll compares the replica with the emulator's truth; no run may be
// active (the file must be closed).
func (e *env) verifyAll(t *testing.T, objects ...string) {
	t.Helper()
	ctx := t.Context()
	wh, err := duckdb.Open(ctx, duckdb.Options{Path: e.path})
	if err != nil {
		t.Fatalf("open the replica between runs: %v", err)
	}
	defer wh.Close()
	for _, o := range objects {
		obj, err := e.src.Describe(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := verify.Compare(ctx, wh.DB(), o, e.emu.Truth(o), verify.Options{Schema: "salesforce", Fields: obj.ReplicatedFields(nil, nil)})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() || rep.Compared == 0 {
			t.Fatalf("the replica differs from the source:\n%s", rep)
		}
	}
}

func (e *env) mutate(t *testing.T, seed uint64, objects ...string) {
	t.Helper()
	rnd := rand.New(rand.NewPCG(seed, 1))
	for _, o := range objects {
		if _, err := e.emu.UpdateRandom(o, 50, rnd); err != nil {
			t.Fatal(err)
		}
		for id := range e.emu.Truth(o) {
			if err := e.emu.Delete(o, id); err != nil {
				t.Fatal(err)
			}
			break
		}
	}
}

// TestRunnerSchedules runs two objects on an interval and a cron schedule
// with a clock moved by hand: both run at once on first start, then when
// their schedule says, with the warehouse closed in between; a restart
// picks the persisted next run times up.
func TestRunnerSchedules(t *testing.T) {
	e := newEnv(t, sfemu.Options{Records: map[string]int{"Account": 400, "Contact": 300}})
	hourly, _ := orchestrator.ParseSchedule("1h")
	cron, _ := orchestrator.ParseSchedule("*/30 * * * *")
	objects := []orchestrator.Object{
		{Spec: replicate.ObjectSpec{Name: "Account"}, Schedule: hourly},
		{Spec: replicate.ObjectSpec{Name: "Contact"}, Schedule: cron},
	}
	r, stop := e.start(t, objects, nil)
	waitFor(t, "the first runs", func() bool { return settled(r, "Account", 1)() && settled(r, "Contact", 1)() })
	start := e.clock.Now()
	for _, tc := range []struct {
		object string
		next   time.Time
	}{{"Account", start.Add(time.Hour)}, {"Contact", cron.Next(start)}} {
		v := view(t, r, tc.object)
		if v.State != orchestrator.StateDone || v.Outcome != sfsync.RunComplete {
			t.Fatalf("%s: %s/%s (%s), want done/complete", tc.object, v.State, v.Outcome, v.Error)
		}
		if !v.NextRun.Equal(tc.next) || !v.DueAt.Equal(tc.next) {
			t.Errorf("%s: next run %v (due %v), want %v", tc.object, v.NextRun, v.DueAt, tc.next)
		}
		if want := int64(len(e.emu.Truth(tc.object))); v.Rows != want {
			t.Errorf("%s: %d rows, want %d", tc.object, v.Rows, want)
		}
	}
	waitFor(t, "the warehouse to close", func() bool { return !r.Service().WarehouseOpen })
	e.verifyAll(t, "Account", "Contact") // users can open the file between runs

	// An hour later both are due again.
	e.mutate(t, 1, "Account", "Contact")
	e.clock.Add(time.Hour)
	waitFor(t, "the second runs", func() bool { return settled(r, "Account", 2)() && settled(r, "Contact", 2)() })
	next := view(t, r, "Account").NextRun
	stop()
	e.verifyAll(t, "Account", "Contact")

	// A restart reads the statuses and history back and runs nothing yet.
	r2, _ := e.start(t, objects, nil)
	waitFor(t, "the restart to load", func() bool { return r2.Service().Ready })
	v := view(t, r2, "Account")
	if v.State != orchestrator.StateDone || !v.NextRun.Equal(next) {
		t.Errorf("after restart Account is %s due %v, want done due %v", v.State, v.NextRun, next)
	}
	if n := runCount(r2, "Account"); n != 2 {
		t.Errorf("after restart Account's history has %d runs, want 2", n)
	}
	if v.LastRun == nil || v.LastRun.Status != sfsync.RunComplete || v.Cursor.Time.IsZero() {
		t.Errorf("after restart Account's last run %+v, cursor %v", v.LastRun, v.Cursor)
	}
}

// TestRunnerRetriesAndIsolates: a transient failure retries after the
// backoff; a permanent one fails the object without retrying; neither
// keeps the other objects from completing.
func TestRunnerRetriesAndIsolates(t *testing.T) {
	e := newEnv(t, sfemu.Options{Records: map[string]int{"Account": 100, "Contact": 100, "Lead": 100}})
	objects := specs("Contact", "Lead")
	objects = append(objects, orchestrator.Object{Spec: replicate.ObjectSpec{Name: "Account", Filter: "Bogus__c = 1"}})
	e.emu.InjectFault(sfemu.Fault{Kind: sfemu.FaultUnavailable, Route: "describe", Times: -1})
	r, _ := e.start(t, objects, func(o *orchestrator.Options) { o.Parallelism = 3 })
	waitFor(t, "every object to fail once", func() bool {
		return settled(r, "Account", 1)() && settled(r, "Contact", 1)() && settled(r, "Lead", 1)()
	})
	now := e.clock.Now()
	for _, name := range []string{"Account", "Contact", "Lead"} {
		v := view(t, r, name)
		if v.State != orchestrator.StateRetrying || v.Attempt != 1 || !v.NextAttempt.Equal(now.Add(10*time.Second)) {
			t.Fatalf("%s: %s attempt %d next attempt %v (%s); want retrying, attempt 1, in 10s", name, v.State, v.Attempt, v.NextAttempt, v.Error)
		}
		if !strings.Contains(v.Error, "describe") {
			t.Errorf("%s: error %q does not say what failed", name, v.Error)
		}
	}
	e.emu.ClearFaults()
	e.clock.Add(10 * time.Second)
	waitFor(t, "the retries", func() bool {
		return settled(r, "Account", 2)() && settled(r, "Contact", 2)() && settled(r, "Lead", 2)()
	})
	for _, name := range []string{"Contact", "Lead"} {
		if v := view(t, r, name); v.State != orchestrator.StateDone || v.Attempt != 0 || v.Outcome != sfsync.RunComplete {
			t.Errorf("%s after the retry: %s attempt %d outcome %s (%s)", name, v.State, v.Attempt, v.Outcome, v.Error)
		}
	}
	v := view(t, r, "Account")
	if v.State != orchestrator.StateFailed || v.Attempt != 2 || !strings.Contains(v.Error, "Bogus__c") {
		t.Errorf("Account: %s attempt %d error %q; want failed for good, naming the bad field", v.State, v.Attempt, v.Error)
	}
	if !v.NextRun.Equal(e.clock.Now().Add(orchestrator.DefaultSchedule)) {
		t.Errorf("failed Account runs next at %v, want its schedule's next time", v.NextRun)
	}
	m := r.Metrics()
	counts := map[string]map[sfsync.RunStatus]int64{}
	for _, om := range m.Objects {
		counts[om.Object] = om.Runs
	}
	want := map[string]map[sfsync.RunStatus]int64{
		"Contact": {sfsync.RunComplete: 1, sfsync.RunPartial: 0, sfsync.RunFailed: 1},
		"Lead":    {sfsync.RunComplete: 1, sfsync.RunPartial: 0, sfsync.RunFailed: 1},
		"Account": {sfsync.RunComplete: 0, sfsync.RunPartial: 0, sfsync.RunFailed: 2},
	}
	if diff := cmp.Diff(want, counts); diff != "" {
		t.Errorf("runs by outcome (-want +got):\n%s", diff)
	}
	if err := r.Trigger("Nope", false); !errors.Is(err, orchestrator.ErrUnknownObject) {
		t.Errorf("Trigger(Nope) = %v, want ErrUnknownObject", err)
	}
}

// TestRunnerBudget: over the budget nothing starts and objects are
// partial with the reason; a run that crosses it mid-way stops partial;
// once usage drops, work resumes and converges.
func TestRunnerBudget(t *testing.T) {
	e := newEnv(t, sfemu.Options{Records: map[string]int{"Account": 3000, "Contact": 200}, DailyAPILimit: 1000})
	e.emu.SetAPIUsage(900)
	r, _ := e.start(t, specs("Account", "Contact"), nil)
	waitFor(t, "the budget to hold both back", func() bool { return runCount(r, "Account") == 1 && runCount(r, "Contact") == 1 })
	for _, name := range []string{"Account", "Contact"} {
		v := view(t, r, name)
		if v.State != orchestrator.StatePending || v.Outcome != sfsync.RunPartial || !strings.HasPrefix(v.Reason, "API budget: org usage 90") || !strings.HasSuffix(v.Reason, "/1000 above 80%") {
			t.Fatalf("%s held back: %s/%s %q", name, v.State, v.Outcome, v.Reason)
		}
		if v.Rows != 0 || v.LastRun == nil || v.LastRun.Status != sfsync.RunPartial || !strings.Contains(v.LastRun.Reason, "not started: API budget") {
			t.Fatalf("%s: rows %d, last run %+v", name, v.Rows, v.LastRun)
		}
	}
	// Held back again a minute later, the objects get no new run records.
	e.clock.Add(time.Minute)
	waitFor(t, "the budget to be checked again", func() bool {
		return view(t, r, "Account").NextRun.Equal(e.clock.Now().Add(time.Minute))
	})
	if n := runCount(r, "Account"); n != 1 {
		t.Errorf("Account has %d runs while held back, want 1", n)
	}

	// Usage drops just under the budget: Account's 15 pages push it over
	// mid-run.
	e.emu.SetAPIUsage(785)
	e.clock.Add(time.Minute)
	waitFor(t, "the runs", func() bool { return settled(r, "Account", 2)() && settled(r, "Contact", 2)() })
	acct := view(t, r, "Account")
	if acct.Outcome == sfsync.RunComplete || !strings.HasPrefix(acct.Reason, "API budget: org usage 8") {
		t.Fatalf("Account crossing the budget: %s %q, want partial with the budget's reason", acct.Outcome, acct.Reason)
	}
	if ex := acct.LastRun.RowsExtracted; ex == 0 || ex >= 3000 {
		t.Errorf("Account extracted %d of 3000 records; want it stopped mid-run", ex)
	}
	if acct.LastRun.Status != sfsync.RunPartial || acct.LastRun.Reason != acct.Reason {
		t.Errorf("Account's run record: %s %q", acct.LastRun.Status, acct.LastRun.Reason)
	}
	if !acct.NextRun.Equal(e.clock.Now().Add(time.Minute)) {
		t.Errorf("Account stopped by the budget runs next at %v, want in a minute", acct.NextRun)
	}

	// The rolling day moves on: work resumes and converges.
	e.emu.SetAPIUsage(0)
	e.clock.Add(time.Minute)
	waitFor(t, "Account to complete", func() bool {
		v := view(t, r, "Account")
		return !v.Running && v.Outcome == sfsync.RunComplete
	})
	e.clock.Add(time.Hour)
	waitFor(t, "Contact to run again", func() bool {
		v := view(t, r, "Contact")
		return !v.Running && v.Outcome == sfsync.RunComplete
	})
	waitFor(t, "the warehouse to close", func() bool { return !r.Service().WarehouseOpen })
	e.verifyAll(t, "Account", "Contact")
}

// TestRunnerShutdownAndResume stops the runner mid-run: the object is
// recorded interrupted and pending, its lease is released, and the next
// start resumes it at once and converges.
func TestRunnerShutdownAndResume(t *testing.T) {
	e := newEnv(t, sfemu.Options{Records: map[string]int{"Account": 2000}})
	e.emu.InjectFault(sfemu.Fault{Kind: sfemu.FaultSlow, Route: "querymore", Delay: 100 * time.Millisecond, Times: -1})
	_, stop := e.start(t, specs("Account"), nil)
	waitFor(t, "a consolidated batch", func() bool {
		e.mu.Lock()
		wh := e.open
		e.mu.Unlock()
		if wh == nil {
			return false
		}
		c, err := wh.Cursor(t.Context(), "Account")
		return err == nil && !c.Time.IsZero()
	})
	stop()
	e.emu.ClearFaults()

	wh, err := duckdb.Open(t.Context(), duckdb.Options{Path: e.path})
	if err != nil {
		t.Fatal(err)
	}
	statuses, err := wh.Service().LoadStatuses(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	leases, err := wh.Service().Leases(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	st, err := wh.State(t.Context(), "Account")
	if err != nil {
		t.Fatal(err)
	}
	wh.Close()
	if len(statuses) != 1 || statuses[0].State != orchestrator.StatePending || !strings.HasPrefix(statuses[0].Error, "interrupted while") {
		t.Fatalf("after shutdown: %+v; want Account pending, interrupted", statuses)
	}
	if len(leases) != 0 {
		t.Errorf("leases left after shutdown: %+v", leases)
	}
	if st.Cursor.Time.IsZero() {
		t.Errorf("nothing was committed before the shutdown (rows %d); the test stopped too early", st.Rows)
	}

	r2, _ := e.start(t, specs("Account"), nil)
	waitFor(t, "the resumed run", func() bool {
		v := view(t, r2, "Account")
		return !v.Running && v.Outcome == sfsync.RunComplete
	})
	last := view(t, r2, "Account").LastRun
	if last.CursorBefore.IsZero() {
		t.Errorf("the resumed run started from scratch, not from the committed cursor")
	}
	waitFor(t, "the warehouse to close", func() bool { return !r2.Service().WarehouseOpen })
	e.verifyAll(t, "Account")
}

// TestRunnerLeaseLost: when another server takes an object's lease over,
// the run stops and the object runs again once the lease is free.
func TestRunnerLeaseLost(t *testing.T) {
	e := newEnv(t, sfemu.Options{Records: map[string]int{"Account": 1500}})
	// Slow pages keep the run going for seconds after the lease is lost
	// (seven more pages of 200), long enough for a heartbeat on a machine
	// loaded by the race detector and other tests.
	e.emu.InjectFault(sfemu.Fault{Kind: sfemu.FaultSlow, Route: "querymore", Delay: time.Second, Times: -1})
	r, _ := e.start(t, specs("Account"), func(o *orchestrator.Options) {
		o.LeaseTTL = 150 * time.Millisecond
		o.Now = time.Now // leases expire on the warehouse's real clock
	})
	waitFor(t, "extraction", func() bool { return view(t, r, "Account").Extracted > 0 })
	e.mu.Lock()
	wh := e.open
	e.mu.Unlock()
	if wh == nil {
		t.Fatal("no open session during the run")
	}
	// Another server takes the lease (as it could after a missed renewal).
	if _, err := wh.Service().BreakLeases(t.Context(), "other-server"); err != nil {
		t.Fatal(err)
	}
	if ok, err := wh.Service().AcquireLease(t.Context(), "Account", "other-server", 200*time.Millisecond); err != nil || !ok {
		t.Fatalf("the other server could not take the lease: %v", err)
	}
	// The run stops within a heartbeat; the other server's lease is short,
	// so a new run may start before a poll sees the object idle: read the
	// interrupted run from the history instead.
	waitFor(t, "the run to stop", func() bool { return runCount(r, "Account") > 0 })
	runs, err := r.Runs("Account", 0)
	if err != nil {
		t.Fatal(err)
	}
	first := runs[len(runs)-1]
	if first.Status == sfsync.RunComplete || !strings.Contains(first.Reason+first.Error, "lease was lost") {
		t.Fatalf("after losing its lease Account's run is %s %q %q, want interrupted for the lost lease", first.Status, first.Reason, first.Error)
	}
	e.emu.ClearFaults()
	waitFor(t, "Account to run again once the lease expired", func() bool {
		v := view(t, r, "Account")
		return !v.Running && v.Outcome == sfsync.RunComplete
	})
}

func TestNewRejects(t *testing.T) {
	e := newEnv(t, sfemu.Options{})
	for _, tc := range []struct {
		name string
		opts orchestrator.Options
		want string
	}{
		{"no source", orchestrator.Options{Open: e.opener("x"), Objects: specs("Account")}, "Source"},
		{"no objects", orchestrator.Options{Source: e.src, Open: e.opener("x")}, "no objects"},
		{"twice", orchestrator.Options{Source: e.src, Open: e.opener("x"), Objects: specs("Account", "account")}, "listed twice"},
		{"budget", orchestrator.Options{Source: e.src, Open: e.opener("x"), Objects: specs("Account"), BudgetShare: 1.5}, "share 1.5"},
	} {
		if _, err := orchestrator.New(tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
	}
}
