package sfemu

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// resultPagesList is a resultPages answer.
type resultPagesList struct {
	ResultPages []struct {
		ResultURL string `json:"resultUrl"`
	} `json:"resultPages"`
	NextRecordURL *string `json:"nextRecordUrl"`
	Done          bool    `json:"done"`
}

// TestBulkResultPages follows the lists of parallel results URLs to the end
// and checks that their pages, fetched in any order, hold the same rows as
// the locator chain.
func TestBulkResultPages(t *testing.T) {
	for _, tc := range []struct {
		records, maxRecords int
		lists               int
	}{{0, 10, 1}, {30, 10, 1}, {50, 10, 1}, {51, 10, 2}, {250, 10, 5}, {250, 0, 1}} {
		o := newOrg(t, Options{Seed: 3, Records: map[string]int{"Account": tc.records}, BulkPageSize: 60})
		j := o.createJob(jobBody("queryAll", "SELECT Id, Name, SystemModstamp FROM Account"))
		o.finishJob(j.ID)
		want, _ := o.allResults(j.ID, max(tc.maxRecords, 60))

		path := jobsPath + "/" + j.ID + "/resultPages"
		if tc.maxRecords > 0 {
			path += "?maxRecords=" + strconv.Itoa(tc.maxRecords)
		}
		var urls []string
		lists := 0
		for {
			var l resultPagesList
			decode(t, o.get(path), http.StatusOK, &l)
			lists++
			if len(l.ResultPages) == 0 || len(l.ResultPages) > 5 {
				t.Fatalf("%d records: list %d has %d URLs, want 1 to 5", tc.records, lists, len(l.ResultPages))
			}
			for _, p := range l.ResultPages {
				urls = append(urls, p.ResultURL)
			}
			if l.Done != (l.NextRecordURL == nil) {
				t.Fatalf("%d records: list %d: done %v with next %v", tc.records, lists, l.Done, l.NextRecordURL)
			}
			if l.Done {
				break
			}
			path = *l.NextRecordURL
			if lists > 100 {
				t.Fatal("the lists never end")
			}
		}
		if lists != tc.lists {
			t.Errorf("%d records, maxRecords %d: %d lists, want %d", tc.records, tc.maxRecords, lists, tc.lists)
		}
		// Fetch the pages last to first, as parallel downloads may finish.
		var got [][]string
		for i := len(urls) - 1; i >= 0; i-- {
			u := urls[i]
			if !strings.HasPrefix(u, jobsPath+"/"+j.ID+"/results") {
				t.Fatalf("results URL %q", u)
			}
			resp := o.get(u)
			var body bytes.Buffer
			_, _ = body.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: %d %s", u, resp.StatusCode, body.String())
			}
			recs, err := csv.NewReader(&body).ReadAll()
			if err != nil || len(recs) == 0 {
				t.Fatalf("GET %s: %d rows, %v", u, len(recs), err)
			}
			if n := resp.Header.Get("Sforce-NumberOfRecords"); n != strconv.Itoa(len(recs)-1) {
				t.Errorf("GET %s: Sforce-NumberOfRecords %s for %d rows", u, n, len(recs)-1)
			}
			got = append(recs[1:], got...)
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%d records: parallel pages differ from the locator chain (-chain +pages):\n%s", tc.records, diff)
		}
	}
}

func TestBulkResultPagesErrors(t *testing.T) {
	o := newOrg(t, Options{Seed: 1, Records: map[string]int{"Account": 30}, APIVersions: []string{"57.0", "61.0", "62.0"}})
	j := o.createJob(jobBody("query", "SELECT Id FROM Account"))
	wantError(t, o.get(jobsPath+"/"+j.ID+"/resultPages"), http.StatusBadRequest, "JOB_NOT_COMPLETE")
	o.finishJob(j.ID)
	resp := o.get("/services/data/v61.0/jobs/query/" + j.ID + "/resultPages")
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("resultPages with another API version: status %d, want 409", resp.StatusCode)
	}
	resp.Body.Close()
	// The resource exists from API 58.0 on.
	old := o.createJobAt("57.0", jobBody("query", "SELECT Id FROM Account"))
	wantError(t, o.get("/services/data/v57.0/jobs/query/"+old+"/resultPages"), http.StatusNotFound, "NOT_FOUND")
	wantError(t, o.get(jobsPath+"/750000000000000AAA/resultPages"), http.StatusNotFound, "NOT_FOUND")
	for _, q := range []string{"?locator=bm9wZQ", "?locator=MzA", "?maxRecords=0"} {
		resp := o.get(jobsPath + "/" + j.ID + "/resultPages" + q)
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("resultPages%s: status %d, want 400", q, resp.StatusCode)
		}
		resp.Body.Close()
	}
}

// createJobAt creates a job with another API version and returns its id.
func (o *org) createJobAt(version, body string) string {
	o.t.Helper()
	var j jobJSON
	decode(o.t, o.send(http.MethodPost, "/services/data/v"+version+"/jobs/query", body), http.StatusOK, &j)
	return j.ID
}
