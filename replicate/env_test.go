package replicate_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/replicate"
	"github.com/sfsync/sfsync/salesforce"
	"github.com/sfsync/sfsync/sfemu"
	"github.com/sfsync/sfsync/verify"
	"github.com/sfsync/sfsync/warehouse/duckdb"
)

// env is one end-to-end setup: the emulator over real HTTP, the client,
// and a DuckDB file.
type env struct {
	emu  *sfemu.Server
	srv  *httptest.Server
	src  *salesforce.Client
	wh   *duckdb.Warehouse
	path string
}

func newEnv(t testing.TB, opts sfemu.Options) *env {
	t.Helper()
	emu, err := sfemu.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	e := &env{emu: emu, srv: srv, path: filepath.Join(t.TempDir(), "replica.duckdb")}
	e.src = newClient(t, srv.URL, 0)
	wh, err := duckdb.Open(t.Context(), duckdb.Options{Path: e.path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	if err := wh.Setup(t.Context()); err != nil {
		t.Fatal(err)
	}
	e.wh = wh
	return e
}

func newClient(t testing.TB, url string, pageSize int) *salesforce.Client {
	t.Helper()
	c, err := salesforce.New(salesforce.Options{
		Credentials: salesforce.Credentials{
			Method:       salesforce.AuthMethod("password"),
			LoginURL:     url,
			ClientID:     "sfsync-emulator",
			ClientSecret: sfsync.Secret("emulator-secret"),
			Username:     "admin@emulator.example",
			Password:     sfsync.Secret("emulator-password"),
		},
		PageSize: pageSize,
		Retry:    salesforce.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(t.Context()); err != nil {
		t.Fatal(err)
	}
	return c
}

// replicator returns a Replicator over e with the given options filled in.
func (e *env) replicator(t testing.TB, o replicate.Options) *replicate.Replicator {
	t.Helper()
	if o.Source == nil {
		o.Source = e.src
	}
	o.Warehouse = e.wh
	r, err := replicate.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// runAll runs the objects and fails the test unless every run has the
// wanted status.
func (e *env) runAll(t testing.TB, r *replicate.Replicator, want sfsync.RunStatus, full bool, specs ...replicate.ObjectSpec) []sfsync.Run {
	t.Helper()
	runs := r.Run(t.Context(), specs, full)
	for _, run := range runs {
		if run.Status != want {
			t.Fatalf("run of %s: status %s (reason %q, error %q), want %s", run.Object, run.Status, run.Reason, run.Error, want)
		}
	}
	return runs
}

// compare verifies the replica of object against the emulator's truth.
func (e *env) compare(t testing.TB, object string, opts verify.Options) *verify.Report {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	obj, err := e.src.Describe(ctx, object)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Schema == "" {
		opts.Schema = "salesforce"
	}
	if opts.Fields == nil {
		opts.Fields = obj.ReplicatedFields(nil, nil)
	}
	rep, err := verify.Compare(ctx, e.wh.DB(), object, e.emu.Truth(object), opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// mustEqual fails the test unless the replica equals the truth.
func (e *env) mustEqual(t testing.TB, objects ...string) {
	t.Helper()
	for _, o := range objects {
		if rep := e.compare(t, o, verify.Options{}); !rep.OK() {
			t.Fatalf("replica differs from the source:\n%s", rep)
		} else if rep.TruthRows > 0 && rep.Compared == 0 {
			t.Fatalf("%s: nothing was compared", o)
		}
	}
}

func spec(name string) replicate.ObjectSpec {
	return replicate.ObjectSpec{Name: name, DeleteMode: sfsync.DeleteSoft}
}
