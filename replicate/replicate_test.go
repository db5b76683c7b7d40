package replicate_test

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/replicate"
	"github.com/sfsync/sfsync/sfemu"
	"github.com/sfsync/sfsync/verify"
)

func ids(m map[string]map[string]any) []string {
	out := make([]string, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func TestInitialLoadAndRepeatedUpdates(t *testing.T) {
	e := newEnv(t, sfemu.Options{Seed: 1, Records: map[string]int{"Account": 700, "Contact": 900, "Opportunity": 300, "Lead": 200, "User": 20}})
	r := e.replicator(t, replicate.Options{Lookback: 5 * time.Minute, BatchRows: 250, PageSize: 200})
	objects := []string{"Account", "Contact", "Opportunity", "Lead", "User"}
	var specs []replicate.ObjectSpec
	for _, o := range objects {
		specs = append(specs, spec(o))
	}
	runs := e.runAll(t, r, sfsync.RunComplete, false, specs...)
	for _, run := range runs {
		if run.RowsExtracted == 0 || run.CursorAfter.IsZero() {
			t.Errorf("%s: extracted %d rows, cursor %v", run.Object, run.RowsExtracted, run.CursorAfter)
		}
	}
	e.mustEqual(t, objects...)

	rnd := rand.New(rand.NewPCG(1, 2))
	for round := range 3 {
		if _, err := e.emu.UpdateRandom("Account", 50, rnd); err != nil {
			t.Fatal(err)
		}
		if _, err := e.emu.UpdateRandom("Contact", 80, rnd); err != nil {
			t.Fatal(err)
		}
		// The same record updated several times between runs.
		hot := ids(e.emu.Truth("Account"))[round]
		for i := range 4 {
			if err := e.emu.Update("Account", hot, map[string]any{"Name": fmt.Sprintf("hot %d.%d", round, i)}); err != nil {
				t.Fatal(err)
			}
		}
		e.runAll(t, r, sfsync.RunComplete, false, specs...)
		e.mustEqual(t, objects...)
	}

	// An incremental run reads only the window since the cursor (with no
	// lookback here: the lookback re-reads the last minutes on purpose).
	// SOQL datetime literals are whole seconds, so a window re-reads the
	// rest of its cursor's second; wait for the next second first so the
	// count below is exact.
	r0 := e.replicator(t, replicate.Options{Lookback: 0, BatchRows: 250, PageSize: 200})
	time.Sleep(1100 * time.Millisecond)
	e.runAll(t, r0, sfsync.RunComplete, false, spec("Account"))
	before := e.emu.RequestCount()
	if _, err := e.emu.UpdateRandom("Account", 5, rnd); err != nil {
		t.Fatal(err)
	}
	runs = e.runAll(t, r0, sfsync.RunComplete, false, spec("Account"))
	if runs[0].RowsExtracted < 5 || runs[0].RowsExtracted > 10 {
		t.Errorf("incremental run extracted %d rows for 5 changes", runs[0].RowsExtracted)
	}
	if calls := e.emu.RequestCount() - before; calls > 10 {
		t.Errorf("incremental run made %d API calls", calls)
	}
	e.mustEqual(t, "Account")
}

func TestDeletesUndeleteMerge(t *testing.T) {
	for _, mode := range []sfsync.DeleteMode{sfsync.DeleteSoft, sfsync.DeleteHard} {
		t.Run(string(mode), func(t *testing.T) {
			e := newEnv(t, sfemu.Options{Seed: 2, Records: map[string]int{"Account": 300, "User": 5}})
			r := e.replicator(t, replicate.Options{Lookback: time.Minute})
			s := replicate.ObjectSpec{Name: "Account", DeleteMode: mode}
			e.runAll(t, r, sfsync.RunComplete, false, s)
			acc := ids(e.emu.Truth("Account"))
			for _, id := range acc[:10] {
				if err := e.emu.Delete("Account", id); err != nil {
					t.Fatal(err)
				}
			}
			if err := e.emu.Merge("Account", acc[20], acc[21], acc[22]); err != nil {
				t.Fatal(err)
			}
			e.runAll(t, r, sfsync.RunComplete, false, s)
			e.mustEqual(t, "Account")
			if err := e.emu.Undelete("Account", acc[0]); err != nil {
				t.Fatal(err)
			}
			if err := e.emu.Update("Account", acc[1], map[string]any{"Name": "deleted then updated?"}); err == nil {
				t.Log("emulator allows updating a deleted record")
			}
			e.runAll(t, r, sfsync.RunComplete, false, s)
			e.mustEqual(t, "Account")

			var flagged, total int64
			row := e.wh.DB().QueryRowContext(t.Context(), `SELECT count(*) FILTER (WHERE "_sfsync_deleted"), count(*) FROM salesforce."Account"`)
			if err := row.Scan(&flagged, &total); err != nil {
				t.Fatal(err)
			}
			// 10 deleted, 1 undeleted, 2 merged away.
			wantFlagged := int64(11)
			if mode == sfsync.DeleteHard {
				wantFlagged = 0
			}
			if flagged != wantFlagged {
				t.Errorf("flagged deleted rows = %d, want %d", flagged, wantFlagged)
			}
			if mode == sfsync.DeleteSoft {
				var master string
				if err := e.wh.DB().QueryRowContext(t.Context(), `SELECT "MasterRecordId" FROM salesforce."Account" WHERE "Id" = ?`, acc[21]).Scan(&master); err != nil {
					t.Fatal(err)
				}
				if master != acc[20] {
					t.Errorf("merged-away row MasterRecordId = %q, want %q", master, acc[20])
				}
			}
		})
	}
}

func TestHardDeleteCaughtByFullRefresh(t *testing.T) {
	e := newEnv(t, sfemu.Options{Seed: 3, Records: map[string]int{"Contact": 200, "Account": 50, "User": 5}})
	r := e.replicator(t, replicate.Options{Lookback: time.Minute})
	e.runAll(t, r, sfsync.RunComplete, false, spec("Contact"))
	victims := ids(e.emu.Truth("Contact"))[:5]
	for _, id := range victims {
		if err := e.emu.Purge("Contact", id); err != nil {
			t.Fatal(err)
		}
	}
	e.runAll(t, r, sfsync.RunComplete, false, spec("Contact"))
	rep := e.compare(t, "Contact", verify.Options{})
	if len(rep.Extra) != len(victims) {
		t.Fatalf("incremental run should not see purged records: extra = %v", rep.Extra)
	}
	e.runAll(t, r, sfsync.RunComplete, true, spec("Contact"))
	e.mustEqual(t, "Contact")
}

func TestLateCommits(t *testing.T) {
	for _, tc := range []struct {
		lookback time.Duration
		caught   bool
	}{{5 * time.Minute, true}, {0, false}} {
		t.Run(fmt.Sprintf("lookback=%v", tc.lookback), func(t *testing.T) {
			e := newEnv(t, sfemu.Options{Seed: 4, Records: map[string]int{"Account": 200, "User": 5}})
			r := e.replicator(t, replicate.Options{Lookback: tc.lookback})
			e.runAll(t, r, sfsync.RunComplete, false, spec("Account"))
			acc := ids(e.emu.Truth("Account"))
			for i, id := range acc[:3] {
				if err := e.emu.LateCommit("Account", id, map[string]any{"Name": fmt.Sprintf("late %d", i)}, 2*time.Minute); err != nil {
					t.Fatal(err)
				}
			}
			lateID, err := e.emu.LateCreate("Account", map[string]any{"Name": "late create"}, 90*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			e.runAll(t, r, sfsync.RunComplete, false, spec("Account"))
			rep := e.compare(t, "Account", verify.Options{})
			if tc.caught {
				if !rep.OK() {
					t.Fatalf("late commits within the lookback were missed:\n%s", rep)
				}
				return
			}
			// Without a lookback the late commits are missed: this is what
			// the test above would catch if the lookback did nothing.
			if rep.OK() || len(rep.Mismatches) < 3 || len(rep.Missing) != 1 || rep.Missing[0] != lateID {
				t.Fatalf("with lookback 0, want the 3 late updates and the late create missed; got:\n%s", rep)
			}
		})
	}
}

func TestThousandsInOneSecondAcrossPagesAndRuns(t *testing.T) {
	e := newEnv(t, sfemu.Options{Seed: 5, Records: map[string]int{"Account": 10_500, "User": 5}})
	e.src = newClient(t, e.srv.URL, 200)
	// Small batches put checkpoints inside the run of equal timestamps.
	r := e.replicator(t, replicate.Options{Lookback: 0, BatchRows: 900})
	e.runAll(t, r, sfsync.RunComplete, false, spec("Account"))
	touched, err := e.emu.TouchSameSecond("Account", 10_000)
	if err != nil {
		t.Fatal(err)
	}
	if len(touched) != 10_000 {
		t.Fatalf("touched %d records", len(touched))
	}
	// The run stops partway through the second (API allowance used up),
	// then a later run continues from its cursor: no record of the
	// shared second may be skipped.
	e.emu.InjectFault(sfemu.Fault{Kind: "limit", Route: "querymore", After: 20})
	runs := r.Run(t.Context(), []replicate.ObjectSpec{spec("Account")}, false)
	if runs[0].Status != sfsync.RunPartial || !strings.Contains(runs[0].Reason, "API limit reached") {
		t.Fatalf("run with the allowance used up: %+v", runs[0])
	}
	e.emu.ClearFaults()
	e.runAll(t, r, sfsync.RunComplete, false, spec("Account"))
	e.mustEqual(t, "Account")
}

func TestHostileValuesRoundTrip(t *testing.T) {
	e := newEnv(t, sfemu.Options{Seed: 6, Records: map[string]int{"Account": 10, "User": 5}})
	// Salesforce caps a long text area at 131,072 characters. Two such
	// fields filled with 4-byte characters make a 1 MiB record.
	for _, name := range []string{"Notes__c", "More_Notes__c"} {
		if err := e.emu.AddField("Account", sfemu.FieldDef{Name: name, Type: "textarea", Length: 131072, Nillable: true}); err != nil {
			t.Fatal(err)
		}
	}
	r := e.replicator(t, replicate.Options{Lookback: time.Minute})
	values := []string{
		"NUL \x00 inside",
		`quotes " and '' and \" and \\`,
		"new\nlines\r\nand\ttabs",
		"commas, semicolons; pipes |",
		"emoji 🚀🎉 and unicode Ünïcödé 中文 עברית",
		"  leading and trailing spaces  ",
		"null",
		"NA",
	}
	var created []string
	for _, v := range values {
		id, err := e.emu.Create("Account", map[string]any{"Name": "hostile", "Description": v})
		if err != nil {
			t.Fatal(err)
		}
		created = append(created, id)
	}
	huge := strings.Repeat("🚀", 131072-3) + "\"\n,"
	hugeID, err := e.emu.Create("Account", map[string]any{"Name": "huge", "Notes__c": huge, "More_Notes__c": huge})
	if err != nil {
		t.Fatal(err)
	}
	e.runAll(t, r, sfsync.RunComplete, false, spec("Account"))
	e.mustEqual(t, "Account")
	var got1, got2 string
	if err := e.wh.DB().QueryRowContext(t.Context(), `SELECT "Notes__c", "More_Notes__c" FROM salesforce."Account" WHERE "Id" = ?`, hugeID).Scan(&got1, &got2); err != nil {
		t.Fatal(err)
	}
	if got1 != huge || got2 != huge || len(got1)+len(got2) < 1_000_000 {
		t.Errorf("1 MiB record: got %d+%d bytes, want 2x%d", len(got1), len(got2), len(huge))
	}
	for i, id := range created {
		var got string
		if err := e.wh.DB().QueryRowContext(t.Context(), `SELECT "Description" FROM salesforce."Account" WHERE "Id" = ?`, id).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != values[i] {
			t.Errorf("value %d: got %d bytes %q..., want %d bytes", i, len(got), got[:min(len(got), 20)], len(values[i]))
		}
	}
}

func TestCustomFieldAddedBetweenRuns(t *testing.T) {
	e := newEnv(t, sfemu.Options{Seed: 7, Records: map[string]int{"Account": 100, "User": 5}})
	r := e.replicator(t, replicate.Options{Lookback: time.Minute})
	e.runAll(t, r, sfsync.RunComplete, false, spec("Account"))
	if err := e.emu.AddField("Account", sfemu.FieldDef{Name: "Territory_Code__c", Label: "Territory Code", Type: "string", Length: 80, Nillable: true}); err != nil {
		t.Fatal(err)
	}
	acc := ids(e.emu.Truth("Account"))
	for _, id := range acc[:5] {
		if err := e.emu.Update("Account", id, map[string]any{"Territory_Code__c": "EMEA"}); err != nil {
			t.Fatal(err)
		}
	}
	e.runAll(t, r, sfsync.RunComplete, false, spec("Account"))
	e.mustEqual(t, "Account")
	var n int
	if err := e.wh.DB().QueryRowContext(t.Context(), `SELECT count(*) FROM salesforce."Account" WHERE "Territory_Code__c" = 'EMEA'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 5 {
		t.Errorf("rows with the new field set = %d, want 5", n)
	}
}

func TestFaultsMidRun(t *testing.T) {
	e := newEnv(t, sfemu.Options{Seed: 8, Records: map[string]int{"Account": 2000, "User": 5}})
	e.src = newClient(t, e.srv.URL, 200)
	r := e.replicator(t, replicate.Options{Lookback: time.Minute, BatchRows: 500})

	// Transient faults are retried: the run completes.
	e.emu.InjectFault(sfemu.Fault{Kind: "unavailable", Route: "querymore", After: 2, Times: 2})
	e.emu.InjectFault(sfemu.Fault{Kind: "reset", Route: "querymore", After: 5})
	e.emu.InjectFault(sfemu.Fault{Kind: "html500", Route: "querymore", After: 7})
	e.emu.InjectFault(sfemu.Fault{Kind: "session", Route: "querymore", After: 4})
	e.runAll(t, r, sfsync.RunComplete, false, spec("Account"))
	e.mustEqual(t, "Account")
	e.emu.ClearFaults()

	// An expired locator restarts from the last committed point.
	rnd := rand.New(rand.NewPCG(8, 8))
	if _, err := e.emu.UpdateRandom("Account", 1500, rnd); err != nil {
		t.Fatal(err)
	}
	e.emu.InjectFault(sfemu.Fault{Kind: "locator", Route: "querymore", After: 3})
	e.runAll(t, r, sfsync.RunComplete, false, spec("Account"))
	e.mustEqual(t, "Account")
	e.emu.ClearFaults()

	// A query timeout splits the window.
	if _, err := e.emu.UpdateRandom("Account", 300, rnd); err != nil {
		t.Fatal(err)
	}
	e.emu.InjectFault(sfemu.Fault{Kind: "timeout", Route: "query"})
	e.runAll(t, r, sfsync.RunComplete, false, spec("Account"))
	e.mustEqual(t, "Account")
	e.emu.ClearFaults()

	// Faults that outlast the retries end the run partial; the next heals.
	if _, err := e.emu.UpdateRandom("Account", 1200, rnd); err != nil {
		t.Fatal(err)
	}
	e.emu.InjectFault(sfemu.Fault{Kind: "unavailable", Route: "querymore", After: 4, Times: -1})
	runs := r.Run(t.Context(), []replicate.ObjectSpec{spec("Account")}, false)
	if runs[0].Status != sfsync.RunPartial || runs[0].RowsUpserted == 0 {
		t.Fatalf("run under a persistent fault: %+v", runs[0])
	}
	e.emu.ClearFaults()
	e.runAll(t, r, sfsync.RunComplete, false, spec("Account"))
	e.mustEqual(t, "Account")

	// A permanent error fails the object and names it.
	runs = r.Run(t.Context(), []replicate.ObjectSpec{{Name: "NoSuchObject__c"}}, false)
	if runs[0].Status != sfsync.RunFailed || !strings.Contains(runs[0].Error, "NoSuchObject__c") {
		t.Fatalf("run of an unknown object: %+v", runs[0])
	}
}

func TestObjectWithoutSystemModstamp(t *testing.T) {
	e := newEnv(t, sfemu.Options{Seed: 9, Records: map[string]int{"Account": 50, "AccountHistory": 120, "User": 5}})
	r := e.replicator(t, replicate.Options{Lookback: time.Minute})
	runs := e.runAll(t, r, sfsync.RunComplete, false, spec("AccountHistory"))
	if runs[0].CursorAfter.IsZero() {
		t.Errorf("AccountHistory has CreatedDate: the cursor should advance")
	}
	e.mustEqual(t, "AccountHistory")
}

func TestObjectWithoutTimestampIsFullyRefreshed(t *testing.T) {
	e := newEnv(t, sfemu.Options{Seed: 10, Records: map[string]int{"RecentlyViewed": 150, "User": 5}})
	r := e.replicator(t, replicate.Options{Lookback: time.Minute})
	for round := range 2 {
		runs := e.runAll(t, r, sfsync.RunComplete, false, spec("RecentlyViewed"))
		if !runs[0].Full || runs[0].RowsExtracted != int64(150+round) {
			t.Fatalf("round %d: %+v", round, runs[0])
		}
		e.mustEqual(t, "RecentlyViewed")
		if _, err := e.emu.Create("RecentlyViewed", map[string]any{"Name": "new", "Type": "Account"}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCustomObject(t *testing.T) {
	def := sfemu.ObjectDef{Name: "Invoice__c", Label: "Invoice", Fields: []sfemu.FieldDef{
		{Name: "Amount__c", Type: "currency", Precision: 16, Scale: 2, Nillable: true},
		{Name: "Rate__c", Type: "percent", Precision: 5, Scale: 3, Nillable: true},
		{Name: "Due__c", Type: "date", Nillable: true},
		{Name: "Sent_At__c", Type: "datetime", Nillable: true},
		{Name: "Slot__c", Type: "time", Nillable: true},
		{Name: "Paid__c", Type: "boolean"},
		{Name: "Lines__c", Type: "int", Digits: 9, Nillable: true},
		{Name: "Memo__c", Type: "textarea", Length: 4000, Nillable: true},
		{Name: "Account__c", Type: "reference", ReferenceTo: []string{"Account"}, Nillable: true},
	}}
	e := newEnv(t, sfemu.Options{Seed: 11, Custom: []sfemu.ObjectDef{def}, Records: map[string]int{"Invoice__c": 400, "Account": 20, "User": 5}})
	r := e.replicator(t, replicate.Options{Lookback: time.Minute})
	e.runAll(t, r, sfsync.RunComplete, false, spec("Invoice__c"))
	e.mustEqual(t, "Invoice__c")
	if _, err := e.emu.UpdateRandom("Invoice__c", 100, nil); err != nil {
		t.Fatal(err)
	}
	e.runAll(t, r, sfsync.RunComplete, false, spec("Invoice__c"))
	e.mustEqual(t, "Invoice__c")
	var typ string
	if err := e.wh.DB().QueryRowContext(t.Context(), `SELECT data_type FROM information_schema.columns WHERE table_name = 'Invoice__c' AND column_name = 'Amount__c'`).Scan(&typ); err != nil {
		t.Fatal(err)
	}
	if typ != "DECIMAL(16,2)" {
		t.Errorf("Amount__c is %s, want DECIMAL(16,2)", typ)
	}
}
