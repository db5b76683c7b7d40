package salesforce

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/sfemu"
)

// Tests of Bulk extraction against the emulator over real HTTP.

// emuOrg is an emulator behind an HTTP server and a client logged in to it.
type emuOrg struct {
	emu *sfemu.Server
	url string
}

func newEmuOrg(t *testing.T, opts sfemu.Options) *emuOrg {
	t.Helper()
	emu, err := sfemu.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return &emuOrg{emu: emu, url: srv.URL}
}

// client returns a client of the emulator with tiny delays; edit adjusts
// its options.
func (e *emuOrg) client(t *testing.T, threshold int64, edit func(*Options)) *Client {
	t.Helper()
	opts := Options{
		Credentials: Credentials{
			Method: AuthPassword, LoginURL: e.url,
			ClientID: "sfsync-emulator", ClientSecret: "emulator-secret",
			Username: "admin@emulator.example", Password: "emulator-password",
		},
		Retry:         RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 4 * time.Millisecond},
		BulkThreshold: threshold,
		Bulk:          BulkOptions{PollInterval: time.Millisecond, MaxPollInterval: 2 * time.Millisecond},
	}
	if edit != nil {
		edit(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// window is the incremental window an engine would extract: every
// replicated field, deleted records included, from the given start.
func emuWindow(t *testing.T, c *Client, object string, from time.Time) sfsync.Window {
	t.Helper()
	obj, err := c.Describe(t.Context(), object)
	if err != nil {
		t.Fatal(err)
	}
	return sfsync.Window{Object: obj, Fields: obj.ReplicatedFields(nil, nil), CursorField: obj.CursorField(), From: from, IncludeDeleted: true}
}

// extracted is what one Extract delivered.
type extracted struct {
	pages []*sfsync.Page
	byID  map[string]sfsync.Record
	n     int
}

func extractAll(ctx context.Context, c *Client, w sfsync.Window) (*extracted, error) {
	out := &extracted{byID: map[string]sfsync.Record{}}
	idIdx := slices.IndexFunc(w.Fields, func(f sfsync.Field) bool { return f.Name == "Id" })
	err := c.Extract(ctx, w, func(_ context.Context, p *sfsync.Page) error {
		out.pages = append(out.pages, p)
		for _, r := range p.Records {
			out.byID[r[idIdx].(string)] = r
			out.n++
		}
		return nil
	})
	return out, err
}

// checkCheckpoints verifies the checkpoint contract: when a page carries a
// checkpoint, every record of the result whose cursor is before it has
// been delivered by then.
func checkCheckpoints(t *testing.T, w sfsync.Window, got *extracted) {
	t.Helper()
	ci := slices.IndexFunc(w.Fields, func(f sfsync.Field) bool { return f.Name == w.CursorField })
	seen := 0
	var last time.Time
	for i, p := range got.pages {
		seen += len(p.Records)
		if p.Checkpoint.IsZero() {
			continue
		}
		if p.Checkpoint.Before(last) {
			t.Errorf("page %d: checkpoint %v goes back from %v", i, p.Checkpoint, last)
		}
		last = p.Checkpoint
		before := 0
		for _, r := range got.byID {
			if r[ci].(time.Time).Before(p.Checkpoint) {
				before++
			}
		}
		if before > seen {
			t.Errorf("page %d: checkpoint %v but %d records before it and only %d delivered", i, p.Checkpoint, before, seen)
		}
	}
}

func hostileAccounts(t *testing.T, emu *sfemu.Server) {
	t.Helper()
	if err := emu.AddField("Account", sfemu.FieldDef{Name: "Notes__c", Type: "textarea", Length: 131072, Nillable: true}); err != nil {
		t.Fatal(err)
	}
	for i, v := range []string{
		"NUL \x00 inside", `quotes " and "" and '' and \" \\`, "new\nlines\r\nand\ttabs\r", "commas, semicolons; pipes | carets ^ backquotes `",
		"emoji 🚀🎉 Ünïcödé 中文 עברית \u2028", "  spaces  ", "null", "NA", `"`, ",", "\n", "\"\"", "\r\n",
	} {
		if _, err := emu.Create("Account", map[string]any{"Name": fmt.Sprintf("hostile %d %s", i, v), "Description": v, "Notes__c": v}); err != nil {
			t.Fatal(err)
		}
	}
	huge := strings.Repeat("🚀", 131072-3) + "\"\n,"
	if _, err := emu.Create("Account", map[string]any{"Name": "huge", "Notes__c": huge, "AnnualRevenue": 139000000, "NumberOfEmployees": 0}); err != nil {
		t.Fatal(err)
	}
}

func TestExtractBulkMatchesREST(t *testing.T) {
	e := newEmuOrg(t, sfemu.Options{Seed: 11, Records: map[string]int{"Account": 1500, "Opportunity": 400, "User": 5}, BulkPageSize: 90})
	hostileAccounts(t, e.emu)
	// Two deleted records: queryAll and Bulk queryAll both return them.
	for range 2 {
		acc := e.emu.Truth("Account")
		var victim string
		for k := range acc {
			if victim == "" || k < victim {
				victim = k
			}
		}
		if err := e.emu.Delete("Account", victim); err != nil {
			t.Fatal(err)
		}
	}
	rest := e.client(t, 0, nil)
	bulk := e.client(t, -1, func(o *Options) {
		o.Bulk.JobRecords = 400
		o.Bulk.Concurrency = 2
		o.Bulk.ResultRecords = 170
		o.Bulk.PageRecords = 100
	})
	for _, object := range []string{"Account", "Opportunity"} {
		t.Run(object, func(t *testing.T) {
			for _, from := range []time.Time{{}, time.Now().Add(-30 * 24 * time.Hour)} {
				w := emuWindow(t, rest, object, from)
				want, err := extractAll(t.Context(), rest, w)
				if err != nil {
					t.Fatal(err)
				}
				jobsBefore := bulk.BulkJobs()
				got, err := extractAll(t.Context(), bulk, w)
				if err != nil {
					t.Fatal(err)
				}
				if len(want.byID) < 100 {
					t.Fatalf("only %d records in the window", len(want.byID))
				}
				if diff := cmp.Diff(want.byID, got.byID); diff != "" {
					t.Fatalf("Bulk and REST differ (-rest +bulk):\n%s", diff)
				}
				if got.n != len(got.byID) {
					t.Errorf("Bulk delivered %d records for %d Ids", got.n, len(got.byID))
				}
				if jobs := bulk.BulkJobs() - jobsBefore; got.n > 400 && jobs < 2 || jobs < 1 {
					t.Errorf("%d records extracted with %d jobs; want the window split", got.n, jobs)
				}
				for i, p := range got.pages {
					if len(p.Records) > 100 {
						t.Errorf("page %d has %d records, want at most 100", i, len(p.Records))
					}
				}
				checkCheckpoints(t, w, got)
				if left := e.emu.BulkJobs(); len(left) != 0 {
					t.Errorf("jobs left behind: %+v", left)
				}
			}
		})
	}
}

func TestExtractChoosesPathByThreshold(t *testing.T) {
	e := newEmuOrg(t, sfemu.Options{Seed: 12, Records: map[string]int{"Account": 150, "User": 5}})
	for _, tc := range []struct {
		threshold int64
		bulk      bool
	}{{0, false}, {150, false}, {149, true}, {1000, false}, {-1, true}} {
		t.Run(fmt.Sprint(tc.threshold), func(t *testing.T) {
			c := e.client(t, tc.threshold, nil)
			got, err := extractAll(t.Context(), c, emuWindow(t, c, "Account", time.Time{}))
			if err != nil {
				t.Fatal(err)
			}
			if len(got.byID) != 150 {
				t.Errorf("extracted %d records, want 150", len(got.byID))
			}
			if (c.BulkJobs() > 0) != tc.bulk {
				t.Errorf("threshold %d: %d bulk jobs, want bulk %v", tc.threshold, c.BulkJobs(), tc.bulk)
			}
		})
	}
}

func TestExtractBulkFallsBackToREST(t *testing.T) {
	e := newEmuOrg(t, sfemu.Options{Seed: 13, Records: map[string]int{"Account": 120, "AccountHistory": 80, "User": 5},
		BulkUnsupported: []string{"AccountHistory"},
		Custom:          []sfemu.ObjectDef{{Name: "Account", Extends: true, Fields: []sfemu.FieldDef{{Name: "Logo__c", Type: "base64", Nillable: true}}}}})
	rest := e.client(t, 0, nil)

	t.Run("base64 field", func(t *testing.T) {
		c := e.client(t, -1, nil)
		w := emuWindow(t, c, "Account", time.Time{})
		if !slices.ContainsFunc(w.Fields, func(f sfsync.Field) bool { return f.Type == sfsync.TypeBase64 }) {
			t.Fatal("the window has no base64 field")
		}
		got, err := extractAll(t.Context(), c, w)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.byID) != 120 || c.BulkJobs() != 0 {
			t.Errorf("%d records with %d bulk jobs, want 120 through REST", len(got.byID), c.BulkJobs())
		}
	})
	t.Run("unsupported object", func(t *testing.T) {
		c := e.client(t, -1, nil)
		w := emuWindow(t, c, "AccountHistory", time.Time{})
		want, err := extractAll(t.Context(), rest, w)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			before := e.emu.RequestCount()
			got, err := extractAll(t.Context(), c, w)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want.byID, got.byID); diff != "" {
				t.Fatalf("fallback differs from REST (-rest +got):\n%s", diff)
			}
			t.Logf("extract took %d requests", e.emu.RequestCount()-before)
		}
		if c.BulkJobs() != 0 {
			t.Errorf("%d jobs created for an object Bulk refuses", c.BulkJobs())
		}
	})
	t.Run("job fails as not supported", func(t *testing.T) {
		c := e.client(t, -1, nil)
		w := emuWindow(t, c, "Account", time.Time{})
		w.Fields = slices.DeleteFunc(slices.Clone(w.Fields), func(f sfsync.Field) bool { return f.Type == sfsync.TypeBase64 })
		e.emu.InjectFault(sfemu.Fault{Kind: sfemu.FaultJobFail, Route: "bulkcreate", Message: "INVALIDENTITY: Entity 'Account' is not supported by the Bulk API."})
		got, err := extractAll(t.Context(), c, w)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.byID) != 120 || c.BulkJobs() != 1 {
			t.Errorf("%d records, %d jobs; want 120 records after one refused job", len(got.byID), c.BulkJobs())
		}
		if left := e.emu.BulkJobs(); len(left) != 0 {
			t.Errorf("jobs left behind: %+v", left)
		}
		// The refusal is remembered: no second job.
		if _, err := extractAll(t.Context(), c, w); err != nil || c.BulkJobs() != 1 {
			t.Errorf("second extract: err %v, %d jobs", err, c.BulkJobs())
		}
	})
}

func TestExtractBulkFaults(t *testing.T) {
	e := newEmuOrg(t, sfemu.Options{Seed: 14, Records: map[string]int{"Account": 900, "User": 5}, BulkPageSize: 100})
	hostileAccounts(t, e.emu)
	rest := e.client(t, 0, nil)
	want, err := extractAll(t.Context(), rest, emuWindow(t, rest, "Account", time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		faults []sfemu.Fault
		errIs  error  // nil: the extract succeeds
		errHas string // text the error must contain
		// timeout is the job timeout: short where every job is stuck,
		// generous where a job must complete within it on a loaded
		// machine (default 30s).
		timeout time.Duration
	}{
		{name: "no fault"},
		{name: "job fails once", faults: []sfemu.Fault{{Kind: sfemu.FaultJobFail, Route: "bulkcreate"}}},
		{name: "job stuck once", faults: []sfemu.Fault{{Kind: sfemu.FaultJobStuck, Route: "bulkcreate"}}, timeout: 2 * time.Second},
		{name: "slow result pages", faults: []sfemu.Fault{{Kind: sfemu.FaultSlow, Route: "bulkresults", Delay: 5 * time.Millisecond, Times: -1}}},
		{name: "reset mid-download", faults: []sfemu.Fault{{Kind: sfemu.FaultReset, Route: "bulkresults", After: 1}, {Kind: sfemu.FaultReset, Route: "bulkresults", After: 4}}},
		{name: "create unavailable", faults: []sfemu.Fault{{Kind: sfemu.FaultUnavailable, Route: "bulkcreate", Times: 2}}},
		{name: "poll errors", faults: []sfemu.Fault{{Kind: sfemu.FaultHTML500, Route: "bulkjob", Times: 2}, {Kind: sfemu.FaultSession, Route: "bulkjob", After: 3}}},
		{name: "job always fails", faults: []sfemu.Fault{{Kind: sfemu.FaultJobFail, Times: -1, Message: "InternalServerError: retry later"}}, errHas: "InternalServerError: retry later"},
		{name: "job always stuck", faults: []sfemu.Fault{{Kind: sfemu.FaultJobStuck, Times: -1}}, errIs: sfsync.ErrQueryTimeout, timeout: 100 * time.Millisecond},
		{name: "API limit", faults: []sfemu.Fault{{Kind: sfemu.FaultLimit, Route: "bulkresults", After: 2}}, errIs: sfsync.ErrAPILimit},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.emu.ClearFaults()
			for _, f := range tc.faults {
				e.emu.InjectFault(f)
			}
			c := e.client(t, -1, func(o *Options) {
				o.Bulk.JobRecords = 300
				o.Bulk.JobTimeout = 30 * time.Second
				if tc.timeout > 0 {
					o.Bulk.JobTimeout = tc.timeout
				}
				o.Bulk.PageRecords = 64
			})
			got, err := extractAll(t.Context(), c, emuWindow(t, c, "Account", time.Time{}))
			e.emu.ClearFaults()
			if left := e.emu.BulkJobs(); len(left) != 0 {
				t.Errorf("jobs left behind: %+v", left)
			}
			if tc.errIs != nil || tc.errHas != "" {
				if err == nil || (tc.errIs != nil && !errors.Is(err, tc.errIs)) || !strings.Contains(fmt.Sprint(err), tc.errHas) {
					t.Fatalf("error %v, want %v %q", err, tc.errIs, tc.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want.byID, got.byID); diff != "" {
				t.Fatalf("Bulk and REST differ (-rest +bulk):\n%s", diff)
			}
			if got.n != len(got.byID) {
				t.Errorf("%d records delivered for %d Ids", got.n, len(got.byID))
			}
		})
	}
}

func TestExtractBulkCleansUpOnCancel(t *testing.T) {
	e := newEmuOrg(t, sfemu.Options{Seed: 15, Records: map[string]int{"Account": 1000, "User": 5}, BulkPageSize: 100})
	c := e.client(t, -1, func(o *Options) {
		o.Bulk.JobRecords = 200
		o.Bulk.Concurrency = 3
		o.Bulk.PageRecords = 50
	})
	w := emuWindow(t, c, "Account", time.Time{})

	t.Run("callback error", func(t *testing.T) {
		stop := errors.New("warehouse full")
		pages := 0
		err := c.Extract(t.Context(), w, func(context.Context, *sfsync.Page) error {
			pages++
			if pages == 3 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) {
			t.Fatalf("error %v, want the callback's", err)
		}
		if left := e.emu.BulkJobs(); len(left) != 0 {
			t.Errorf("jobs left behind: %+v", left)
		}
	})
	t.Run("cancelled mid-download", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		err := c.Extract(ctx, w, func(context.Context, *sfsync.Page) error {
			cancel()
			return nil
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want cancellation", err)
		}
		if left := e.emu.BulkJobs(); len(left) != 0 {
			t.Errorf("jobs left behind: %+v", left)
		}
	})
	t.Run("cancelled while jobs run", func(t *testing.T) {
		e.emu.InjectFault(sfemu.Fault{Kind: sfemu.FaultJobStuck, Times: -1})
		defer e.emu.ClearFaults()
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			for len(e.emu.BulkJobs()) < 3 {
				time.Sleep(time.Millisecond)
			}
			cancel()
		}()
		err := c.Extract(ctx, w, func(context.Context, *sfsync.Page) error { return nil })
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want cancellation", err)
		}
		if left := e.emu.BulkJobs(); len(left) != 0 {
			t.Errorf("jobs left behind: %+v", left)
		}
	})
}

// BenchmarkExtractBulk extracts 200,000 Accounts (every replicated field)
// from the in-process emulator through Bulk in 10,000-record pages, CSV
// decoding included, with result pages fetched one after the other
// (streams=1) or several at once through resultPages; the emulator's own
// rendering shares the CPU.
func BenchmarkExtractBulk(b *testing.B) {
	const n = 200_000
	emu, err := sfemu.New(sfemu.Options{Seed: 1, Records: map[string]int{"Account": n, "User": 20}, BulkJobPolls: 1})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	b.Cleanup(srv.Close)
	for _, streams := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("streams=%d", streams), func(b *testing.B) {
			c, err := New(Options{
				Credentials: Credentials{Method: AuthPassword, LoginURL: srv.URL, ClientID: "sfsync-emulator", ClientSecret: "emulator-secret",
					Username: "admin@emulator.example", Password: "emulator-password"},
				BulkThreshold: -1,
				Bulk:          BulkOptions{PollInterval: time.Millisecond, ResultRecords: 10_000, ResultStreams: streams},
			})
			if err != nil {
				b.Fatal(err)
			}
			obj, err := c.Describe(b.Context(), "Account")
			if err != nil {
				b.Fatal(err)
			}
			w := sfsync.Window{Object: obj, Fields: obj.ReplicatedFields(nil, nil), CursorField: obj.CursorField(), IncludeDeleted: true}
			b.ReportAllocs()
			rows := 0
			for b.Loop() {
				err := c.Extract(b.Context(), w, func(_ context.Context, p *sfsync.Page) error {
					rows += len(p.Records)
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(len(w.Fields)), "fields")
		})
	}
}
