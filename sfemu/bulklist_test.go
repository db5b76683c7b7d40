package sfemu

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// jobList is one page of GET jobs/query.
type jobList struct {
	Done           bool      `json:"done"`
	Records        []jobJSON `json:"records"`
	NextRecordsURL *string   `json:"nextRecordsUrl"`
}

// listAll follows nextRecordsUrl from the first page and returns every
// job in order, with the number of pages.
func (o *org) listAll() ([]jobJSON, int) {
	o.t.Helper()
	var all []jobJSON
	path := jobsPath
	for pages := 1; ; pages++ {
		var l jobList
		decode(o.t, o.get(path), http.StatusOK, &l)
		all = append(all, l.Records...)
		if l.Done {
			if l.NextRecordsURL != nil {
				o.t.Errorf("page %d is done but has nextRecordsUrl %q", pages, *l.NextRecordsURL)
			}
			return all, pages
		}
		if l.NextRecordsURL == nil || !strings.HasPrefix(*l.NextRecordsURL, jobsPath+"?") {
			o.t.Fatalf("page %d is not done and has nextRecordsUrl %v", pages, l.NextRecordsURL)
		}
		if pages > 100 {
			o.t.Fatal("the job list does not end")
		}
		path = *l.NextRecordsURL
	}
}

func TestBulkJobListPagesAndOwners(t *testing.T) {
	o := newOrg(t, Options{Seed: 1, Records: map[string]int{"Account": 5, "Contact": 5}, BulkListPageSize: 3})
	other := makeID("005", 3)
	var want []string
	for i := range 7 {
		if i%3 == 2 {
			j, err := o.emu.AddBulkJob(BulkJobSpec{CreatedBy: other, Operation: "queryAll", Query: "SELECT Id FROM Contact"})
			if err != nil {
				t.Fatal(err)
			}
			if j.State != jobUploadComplete || j.CreatedBy != other || j.APIVersion != "62.0" || j.Object != "Contact" {
				t.Errorf("AddBulkJob = %+v", j)
			}
			want = append(want, j.ID)
			continue
		}
		want = append(want, o.createJob(jobBody("query", "SELECT Id FROM Account")).ID)
	}
	got, pages := o.listAll()
	var ids []string
	for _, j := range got {
		ids = append(ids, j.ID)
		wantBy := o.emu.userID
		if j.Object == "Contact" {
			wantBy = other
		}
		if j.CreatedByID != wantBy || j.CreatedDate == "" || j.State != jobUploadComplete {
			t.Errorf("listed job %+v, want createdById %s", j, wantBy)
		}
	}
	if diff := cmp.Diff(want, ids); diff != "" || pages != 3 {
		t.Errorf("listed %d pages (want 3), jobs (-want +got):\n%s", pages, diff)
	}

	// A job deleted between pages shifts nothing: the next page starts
	// after the last job listed.
	var first jobList
	decode(t, o.get(jobsPath), http.StatusOK, &first)
	o.finishJob(want[1])
	decode(t, o.send(http.MethodDelete, jobsPath+"/"+want[1], ""), http.StatusNoContent, nil)
	var second jobList
	decode(t, o.get(*first.NextRecordsURL), http.StatusOK, &second)
	if len(second.Records) == 0 || second.Records[0].ID != want[3] {
		t.Errorf("page after a deletion starts with %+v, want %s", second.Records, want[3])
	}

	wantError(t, o.get(jobsPath+"?queryLocator="+url.QueryEscape("no such")), http.StatusBadRequest, "INVALID_QUERY_LOCATOR")
	if _, err := o.emu.AddBulkJob(BulkJobSpec{Query: "SELECT COUNT() FROM Account"}); err == nil {
		t.Error("AddBulkJob accepted an aggregate query")
	}
	if _, err := o.emu.AddBulkJob(BulkJobSpec{Operation: "delete", Query: "SELECT Id FROM Account"}); err == nil {
		t.Error("AddBulkJob accepted operation delete")
	}
}
