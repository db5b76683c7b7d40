package postgres

import (
	"context"
	"math/rand/v2"
	"net/http/httptest"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/replicate"
	"github.com/sfsync/sfsync/salesforce"
	"github.com/sfsync/sfsync/sfemu"
	"github.com/sfsync/sfsync/verify"
)

// e2e is the engine end to end: the emulator over HTTP, the Salesforce
// client, and a PostgreSQL warehouse.
type e2e struct {
	emu *sfemu.Server
	src *salesforce.Client
	wh  *Warehouse
}

func newE2E(t *testing.T, opts sfemu.Options) *e2e {
	t.Helper()
	emu, err := sfemu.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	src, err := salesforce.New(salesforce.Options{
		Credentials: salesforce.Credentials{
			Method:       salesforce.AuthMethod("password"),
			LoginURL:     srv.URL,
			ClientID:     "sfsync-emulator",
			ClientSecret: sfsync.Secret("emulator-secret"),
			Username:     "admin@emulator.example",
			Password:     sfsync.Secret("emulator-password"),
		},
		PageSize: 200,
		Retry:    salesforce.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Login(t.Context()); err != nil {
		t.Fatal(err)
	}
	wh := openTemp(t, Options{})
	t.Cleanup(func() { wh.Close() })
	if err := wh.Setup(t.Context()); err != nil {
		t.Fatal(err)
	}
	return &e2e{emu: emu, src: src, wh: wh}
}

func (e *e2e) run(t *testing.T, want sfsync.RunStatus, full bool, specs ...replicate.ObjectSpec) []sfsync.Run {
	t.Helper()
	r, err := replicate.New(replicate.Options{Source: e.src, Warehouse: e.wh, Lookback: time.Minute, BatchRows: 250, PageSize: 200})
	if err != nil {
		t.Fatal(err)
	}
	runs := r.Run(t.Context(), specs, full)
	for _, run := range runs {
		if want != "" && run.Status != want {
			t.Fatalf("run of %s: status %s (reason %q, error %q), want %s", run.Object, run.Status, run.Reason, run.Error, want)
		}
	}
	return runs
}

// mustEqual fails unless the replica of each object equals the emulator's
// truth, read through database/sql as users would.
func (e *e2e) mustEqual(t *testing.T, hard bool, objects ...string) {
	t.Helper()
	ctx := context.WithoutCancel(t.Context())
	for _, o := range objects {
		obj, err := e.src.Describe(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		// database/sql reads a PostgreSQL TIME as text, which
		// verify.Canonical does not parse: time-of-day fields are
		// compared through Rows instead (timesEqual).
		var fields []sfsync.Field
		for _, f := range obj.ReplicatedFields(nil, nil) {
			if f.Kind() != sfsync.KindTime {
				fields = append(fields, f)
			} else {
				e.timesEqual(t, o, f.Name, hard)
			}
		}
		rep, err := verify.Compare(ctx, e.wh.DB(), o, e.emu.Truth(o), verify.Options{Schema: "salesforce", Fields: fields, HardDeletes: hard})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.OK() {
			t.Fatalf("replica differs from the source:\n%s", rep)
		}
		if rep.TruthRows > 0 && rep.Compared == 0 {
			t.Fatalf("%s: nothing was compared", o)
		}
	}
}

// timesEqual compares a time-of-day field of the live rows with the
// truth.
func (e *e2e) timesEqual(t *testing.T, object, field string, hard bool) {
	t.Helper()
	rows, err := e.wh.Rows(t.Context(), object)
	if err != nil {
		t.Fatal(err)
	}
	truth := e.emu.Truth(object)
	f := sfsync.Field{Name: field, Type: sfsync.TypeTime}
	compared := 0
	for _, r := range rows {
		if r[sfsync.ColDeleted] == true && !hard {
			continue
		}
		src, ok := truth[r["Id"].(string)]
		if !ok {
			continue
		}
		want, err := verify.Canonical(f, src[field])
		if err != nil {
			t.Fatal(err)
		}
		got, err := verify.Canonical(f, r[field])
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("%s %v.%s: source %s, replica %s", object, r["Id"], field, want, got)
		}
		compared++
	}
	if len(truth) > 0 && compared == 0 {
		t.Fatalf("%s.%s: nothing compared", object, field)
	}
}

func sortedIDs(m map[string]map[string]any) []string {
	out := make([]string, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func TestReplicateEndToEnd(t *testing.T) {
	for _, mode := range []sfsync.DeleteMode{sfsync.DeleteSoft, sfsync.DeleteHard} {
		t.Run(string(mode), func(t *testing.T) {
			e := newE2E(t, sfemu.Options{Seed: 11, Records: map[string]int{"Account": 600, "Contact": 400, "User": 5}})
			specs := []replicate.ObjectSpec{{Name: "Account", DeleteMode: mode}, {Name: "Contact", DeleteMode: mode}}
			hard := mode == sfsync.DeleteHard
			e.run(t, sfsync.RunComplete, false, specs...)
			e.mustEqual(t, hard, "Account", "Contact")

			rnd := rand.New(rand.NewPCG(11, 12))
			acc := sortedIDs(e.emu.Truth("Account"))
			for round := range 2 {
				if _, err := e.emu.UpdateRandom("Account", 120, rnd); err != nil {
					t.Fatal(err)
				}
				if _, err := e.emu.UpdateRandom("Contact", 80, rnd); err != nil {
					t.Fatal(err)
				}
				for _, id := range acc[round*10 : round*10+10] {
					if err := e.emu.Delete("Account", id); err != nil {
						t.Fatal(err)
					}
				}
				e.run(t, sfsync.RunComplete, false, specs...)
				e.mustEqual(t, hard, "Account", "Contact")
			}
			if err := e.emu.Merge("Account", acc[30], acc[31], acc[32]); err != nil {
				t.Fatal(err)
			}
			if err := e.emu.Undelete("Account", acc[0]); err != nil {
				t.Fatal(err)
			}
			if err := e.emu.AddField("Account", sfemu.FieldDef{Name: "Territory_Code__c", Type: "string", Length: 80, Nillable: true}); err != nil {
				t.Fatal(err)
			}
			if err := e.emu.Update("Account", acc[40], map[string]any{"Territory_Code__c": "EMEA"}); err != nil {
				t.Fatal(err)
			}
			e.run(t, sfsync.RunComplete, false, specs...)
			e.mustEqual(t, hard, "Account", "Contact")

			// Purged records are only caught by a full refresh.
			for _, id := range acc[50:53] {
				if err := e.emu.Purge("Account", id); err != nil {
					t.Fatal(err)
				}
			}
			e.run(t, sfsync.RunComplete, true, specs[0])
			e.mustEqual(t, hard, "Account")
			for _, o := range []string{"Account", "Contact"} {
				if n, err := e.wh.DuplicateIDs(t.Context(), o); err != nil || n != 0 {
					t.Errorf("%s: %d duplicate Ids, %v", o, n, err)
				}
			}
		})
	}
}

// TestReplicateServerGoneMidRun terminates the warehouse's sessions while
// the engine consolidates its second batch: the run stops short, and the
// next run converges.
func TestReplicateServerGoneMidRun(t *testing.T) {
	e := newE2E(t, sfemu.Options{Seed: 12, Records: map[string]int{"Account": 1000, "User": 5}})
	var calls atomic.Int64
	var killed atomic.Bool
	e.wh.failAt = func(step string) error {
		if step == "upsert" && calls.Add(1) == 2 {
			killed.Store(terminate(t, e.wh) > 0)
		}
		return nil
	}
	runs := e.run(t, "", false, replicate.ObjectSpec{Name: "Account"})
	e.wh.failAt = nil
	if !killed.Load() {
		t.Fatal("no session was terminated")
	}
	if runs[0].Status == sfsync.RunComplete || !strings.Contains(runs[0].Reason+runs[0].Error, "was lost") {
		t.Fatalf("run with the server gone: %+v, want it stopped with a lost connection", runs[0])
	}
	e.run(t, sfsync.RunComplete, false, replicate.ObjectSpec{Name: "Account"})
	e.mustEqual(t, false, "Account")
}

// TestReplicateNULText: a NUL character in a source value does not stop
// the run; the value is stored without it and recorded.
func TestReplicateNULText(t *testing.T) {
	e := newE2E(t, sfemu.Options{Seed: 13, Records: map[string]int{"Account": 20, "User": 5}})
	id, err := e.emu.Create("Account", map[string]any{"Name": "nul", "Description": "before\x00after"})
	if err != nil {
		t.Fatal(err)
	}
	runs := e.run(t, sfsync.RunComplete, false, replicate.ObjectSpec{Name: "Account"})
	var got string
	if err := e.wh.DB().QueryRowContext(t.Context(), `SELECT "Description" FROM salesforce."Account" WHERE "Id" = $1`, id).Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != "beforeafter" {
		t.Errorf("stored %q, want beforeafter", got)
	}
	var n int
	if err := e.wh.DB().QueryRowContext(t.Context(), `SELECT COUNT(*) FROM _sfsync.altered_values WHERE record_id = $1 AND column_name = 'Description'`, id).Scan(&n); err != nil || n != 1 {
		t.Errorf("altered_values rows for the record: %d, %v; want 1 (run %s)", n, err, runs[0].ID)
	}
}
