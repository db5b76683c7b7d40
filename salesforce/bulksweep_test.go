package salesforce

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/sfemu"
)

func TestLeftover(t *testing.T) {
	const me, other = "0055g00000AbCdEAAV", "0055g00000AbCdFAAV"
	cutoff := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) string { return cutoff.Add(d).Format("2006-01-02T15:04:05.000+0000") }
	job := func(edit func(*jobInfo)) *jobInfo {
		j := &jobInfo{ID: "750RO0000000001AAA", Operation: "queryAll", Object: "Account", CreatedByID: me, CreatedDate: at(-time.Minute), State: jobComplete}
		if edit != nil {
			edit(j)
		}
		return j
	}
	for _, tc := range []struct {
		name string
		job  *jobInfo
		want sweepAction
	}{
		{"complete", job(nil), sweepDelete},
		{"failed, query", job(func(j *jobInfo) { j.State, j.Operation = jobFailed, "query" }), sweepDelete},
		{"aborted, object in other case", job(func(j *jobInfo) { j.State, j.Object = jobAborted, "ACCOUNT" }), sweepDelete},
		{"15-character user Id", job(func(j *jobInfo) { j.CreatedByID = me[:15] }), sweepDelete},
		{"datetime with Z", job(func(j *jobInfo) { j.CreatedDate = "2024-06-01T11:00:00.000Z" }), sweepDelete},
		{"another user", job(func(j *jobInfo) { j.CreatedByID = other }), sweepKeep},
		{"user Id differing in case", job(func(j *jobInfo) { j.CreatedByID = "0055g00000ABCDEAAV" }), sweepKeep},
		{"another object", job(func(j *jobInfo) { j.Object = "Contact" }), sweepKeep},
		{"an ingest job", job(func(j *jobInfo) { j.Operation = "insert" }), sweepKeep},
		{"created after the cutoff", job(func(j *jobInfo) { j.CreatedDate = at(time.Second) }), sweepKeep},
		{"created at the cutoff", job(func(j *jobInfo) { j.CreatedDate = at(0) }), sweepKeep},
		{"no created date", job(func(j *jobInfo) { j.CreatedDate = "" }), sweepKeep},
		{"bad id", job(func(j *jobInfo) { j.ID = "../limits" }), sweepKeep},
		{"running, young", job(func(j *jobInfo) { j.State = jobInProgress; j.CreatedDate = at(-time.Hour) }), sweepKeep},
		{"running, past the timeout", job(func(j *jobInfo) { j.State = jobInProgress; j.CreatedDate = at(-3 * time.Hour) }), sweepAbort},
		{"queued, past the timeout", job(func(j *jobInfo) { j.State = jobUploadComplete; j.CreatedDate = at(-3 * time.Hour) }), sweepAbort},
		{"unknown state", job(func(j *jobInfo) { j.State = "Open"; j.CreatedDate = at(-3 * time.Hour) }), sweepKeep},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := leftover(tc.job, me, "Account", cutoff, 2*time.Hour); got != tc.want {
				t.Errorf("leftover(%+v) = %d, want %d", tc.job, got, tc.want)
			}
		})
	}
}

// TestExtractBulkSweepsJobsLeftBehind: jobs a killed client left behind
// (its cleanup never ran) are gone after the next Bulk extraction of their
// object, finished ones at once, queued or running ones once they are
// older than the job timeout; another user's jobs and another object's
// jobs stay. The job list is read across several pages.
func TestExtractBulkSweepsJobsLeftBehind(t *testing.T) {
	clock := &movingClock{}
	e := newEmuOrg(t, sfemu.Options{Seed: 31, Records: map[string]int{"Account": 600, "Contact": 20, "User": 5}, Clock: clock, BulkListPageSize: 2})
	ctx := t.Context()

	// The killed client: jobs created and never cleaned up.
	killed := e.client(t, -1, nil)
	create := func(object string) string {
		t.Helper()
		j, err := killed.createJob(ctx, object, "SELECT Id FROM "+object, true)
		if err != nil {
			t.Fatal(err)
		}
		return j.ID
	}
	poll := func(id string, times int) {
		t.Helper()
		for range times {
			if _, err := killed.jobState(ctx, "", id); err != nil {
				t.Fatal(err)
			}
		}
	}
	complete := create("Account")
	poll(complete, 2)
	queued := create("Account")
	e.emu.InjectFault(sfemu.Fault{Kind: sfemu.FaultJobStuck, Route: "bulkcreate"})
	running := create("Account")
	poll(running, 3)
	contact := create("Contact")
	poll(contact, 2)
	me := killed.userID()
	var other string
	for id := range e.emu.Truth("User") {
		if !sameID(id, me) {
			other = id
			break
		}
	}
	if me == "" || other == "" {
		t.Fatalf("user Ids: integration user %q, another %q", me, other)
	}
	var theirs []string
	for _, polls := range []int{2, 0} {
		j, err := e.emu.AddBulkJob(sfemu.BulkJobSpec{CreatedBy: other, Operation: "queryAll", Query: "SELECT Id, Name FROM Account"})
		if err != nil {
			t.Fatal(err)
		}
		poll(j.ID, polls)
		theirs = append(theirs, j.ID)
	}
	states := func() map[string]string {
		out := map[string]string{}
		for _, j := range e.emu.BulkJobs() {
			out[j.ID] = j.State
		}
		return out
	}
	want := map[string]string{
		complete: "JobComplete", queued: "UploadComplete", running: "InProgress", contact: "JobComplete",
		theirs[0]: "JobComplete", theirs[1]: "UploadComplete",
	}
	if diff := cmp.Diff(want, states()); diff != "" {
		t.Fatalf("jobs before the sweep (-want +got):\n%s", diff)
	}

	// The server's clock, as the client knows it, has whole seconds: a
	// sweep spares jobs of the last second.
	clock.offset.Add(int64(2 * time.Second))
	c := e.client(t, -1, nil)
	extract := func() {
		t.Helper()
		w := emuWindow(t, c, "Account", time.Time{})
		got, err := extractAll(ctx, c, w)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(e.emu.TruthAll("Account")); got.n != n || len(got.byID) != n {
			t.Fatalf("extracted %d records (%d Ids), want %d", got.n, len(got.byID), n)
		}
	}
	// The finished job goes; the queued and running ones are younger
	// than the job timeout (2h), so they might still be someone's.
	extract()
	delete(want, complete)
	if diff := cmp.Diff(want, states()); diff != "" {
		t.Fatalf("jobs after the first extraction (-want +got):\n%s", diff)
	}
	// Three hours on they are stuck: aborted and deleted.
	clock.offset.Add(int64(3 * time.Hour))
	extract()
	delete(want, queued)
	delete(want, running)
	if diff := cmp.Diff(want, states()); diff != "" {
		t.Fatalf("jobs after the second extraction (-want +got):\n%s", diff)
	}
}

// TestSweepSparesJobsUnderWay: a sweep by one extraction leaves alone the
// jobs of another extraction of the same object by the same client, even
// a complete one whose results are still being read.
func TestSweepSparesJobsUnderWay(t *testing.T) {
	clock := &movingClock{}
	e := newEmuOrg(t, sfemu.Options{Seed: 32, Records: map[string]int{"Account": 600, "User": 5}, BulkPageSize: 100, Clock: clock})
	c := e.client(t, -1, func(o *Options) {
		o.Bulk.ResultRecords = 100
		o.Bulk.PageRecords = 100
	})
	w := emuWindow(t, c, "Account", time.Time{})
	paused, resume := make(chan struct{}), make(chan struct{})
	first := make(chan *extracted, 1)
	errs := make(chan error, 1)
	go func() {
		out := &extracted{byID: map[string]sfsync.Record{}}
		pages := 0
		err := c.Extract(t.Context(), w, func(_ context.Context, p *sfsync.Page) error {
			if pages++; pages == 1 {
				close(paused)
				<-resume
			}
			for _, r := range p.Records {
				out.byID[r[0].(string)] = r
				out.n++
			}
			return nil
		})
		first <- out
		errs <- err
	}()
	<-paused
	held := e.emu.BulkJobs()
	if len(held) != 1 || held[0].State != "JobComplete" {
		t.Fatalf("jobs while the first extraction reads results: %+v", held)
	}
	// Past the second the job was created in, so that the cutoff alone
	// does not spare it; an engine counts before it extracts, which also
	// brings the client the server's clock.
	clock.offset.Add(int64(2 * time.Second))
	if _, err := c.Count(t.Context(), w); err != nil {
		t.Fatal(err)
	}
	second, err := extractAll(t.Context(), c, w)
	close(resume)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errs; err != nil {
		t.Fatalf("the first extraction: %v", err)
	}
	got := <-first
	n := len(e.emu.TruthAll("Account"))
	if got.n != n || second.n != n {
		t.Errorf("extracted %d and %d records, want %d each", got.n, second.n, n)
	}
	if left := e.emu.BulkJobs(); len(left) != 0 {
		t.Errorf("jobs left behind: %+v", left)
	}
	if !slices.Equal(sortedKeys(got.byID), sortedKeys(second.byID)) {
		t.Error("the two extractions delivered different Ids")
	}
}

func sortedKeys(m map[string]sfsync.Record) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
