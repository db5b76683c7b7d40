package sfemu

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const jobsPath = "/services/data/v62.0/jobs/query"

// send sends an authenticated request with a JSON body (empty for none).
func (o *org) send(method, path, body string, header ...string) *http.Response {
	o.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(o.t.Context(), method, o.url+path, rd)
	if err != nil {
		o.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+o.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		o.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// jobJSON is a job info answer, numbers kept as sent.
type jobJSON struct {
	ID                     string       `json:"id"`
	Operation              string       `json:"operation"`
	Object                 string       `json:"object"`
	CreatedByID            string       `json:"createdById"`
	CreatedDate            string       `json:"createdDate"`
	State                  string       `json:"state"`
	ContentType            string       `json:"contentType"`
	APIVersion             json.Number  `json:"apiVersion"`
	LineEnding             string       `json:"lineEnding"`
	ColumnDelimiter        string       `json:"columnDelimiter"`
	NumberRecordsProcessed *json.Number `json:"numberRecordsProcessed"`
	ErrorMessage           string       `json:"errorMessage"`
}

func (o *org) createJob(body string) jobJSON {
	o.t.Helper()
	var j jobJSON
	decode(o.t, o.send(http.MethodPost, jobsPath, body), http.StatusOK, &j)
	return j
}

func (o *org) jobInfo(id string) jobJSON {
	o.t.Helper()
	var j jobJSON
	decode(o.t, o.get(jobsPath+"/"+id), http.StatusOK, &j)
	return j
}

// finishJob polls a job until it leaves UploadComplete and InProgress.
func (o *org) finishJob(id string) jobJSON {
	o.t.Helper()
	for range 20 {
		j := o.jobInfo(id)
		if j.State != jobUploadComplete && j.State != jobInProgress {
			return j
		}
	}
	o.t.Fatalf("job %s never finished", id)
	return jobJSON{}
}

func jobBody(op, soql string, extra ...string) string {
	m := map[string]string{"operation": op, "query": soql, "contentType": "CSV"}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i]] = extra[i+1]
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// resultPage is one results answer.
type resultPage struct {
	locator, count string
	body           []byte
}

func (o *org) results(id, query string, header ...string) resultPage {
	o.t.Helper()
	resp := o.get(jobsPath+"/"+id+"/results"+query, header...)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		o.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		o.t.Fatalf("results: status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		o.t.Errorf("results Content-Type %q", ct)
	}
	return resultPage{locator: resp.Header.Get("Sforce-Locator"), count: resp.Header.Get("Sforce-NumberOfRecords"), body: body}
}

// allResults follows locators to the end and returns the data rows (the
// header checked on every page) and the number of pages.
func (o *org) allResults(id string, maxRecords int) ([][]string, int) {
	o.t.Helper()
	var rows [][]string
	var header []string
	locator := ""
	pages := 0
	for {
		q := "?maxRecords=" + strconv.Itoa(maxRecords)
		if locator != "" {
			q += "&locator=" + locator
		}
		p := o.results(id, q)
		pages++
		recs, err := csv.NewReader(bytes.NewReader(p.body)).ReadAll()
		if err != nil {
			o.t.Fatalf("page %d: %v", pages, err)
		}
		if len(recs) == 0 {
			o.t.Fatalf("page %d has no header", pages)
		}
		if header == nil {
			header = recs[0]
		} else if !slices.Equal(header, recs[0]) {
			o.t.Fatalf("page %d header %v, want %v", pages, recs[0], header)
		}
		if p.count != strconv.Itoa(len(recs)-1) {
			o.t.Errorf("page %d: Sforce-NumberOfRecords %q for %d rows", pages, p.count, len(recs)-1)
		}
		rows = append(rows, recs[1:]...)
		if p.locator == "null" {
			return rows, pages
		}
		if p.locator == "" || pages > 1000 {
			o.t.Fatalf("page %d: locator %q", pages, p.locator)
		}
		locator = p.locator
	}
}

func TestBulkJobLifecycle(t *testing.T) {
	o := newOrg(t, Options{Seed: 1, Records: map[string]int{"Account": 250}})
	deleted := ids(o.queryAllPages("query", "SELECT Id FROM Account ORDER BY Id LIMIT 3")[0].Records)
	for _, id := range deleted {
		if err := o.emu.Delete("Account", id); err != nil {
			t.Fatal(err)
		}
	}
	soql := "SELECT Id, Name, IsDeleted, SystemModstamp FROM Account"

	for _, tc := range []struct {
		op   string
		want int
	}{
		{"queryAll", 250},
		{"query", 248}, // 247 live, plus the record the queryAll case creates
	} {
		t.Run(tc.op, func(t *testing.T) {
			created := o.createJob(jobBody(tc.op, soql))
			if created.State != "UploadComplete" || created.Operation != tc.op || created.Object != "Account" ||
				created.APIVersion != "62.0" || created.ContentType != "CSV" || created.ColumnDelimiter != "COMMA" ||
				created.LineEnding != "LF" || !strings.HasPrefix(created.ID, "750") || created.NumberRecordsProcessed != nil {
				t.Fatalf("created job %+v", created)
			}
			if _, err := time.Parse(restDateTime, created.CreatedDate); err != nil {
				t.Errorf("createdDate %q: %v", created.CreatedDate, err)
			}
			if got := o.jobInfo(created.ID); got.State != "InProgress" {
				t.Fatalf("first poll: state %s, want InProgress", got.State)
			}
			// The result is the snapshot taken when the job started.
			if _, err := o.emu.Create("Account", map[string]any{"Name": "after the snapshot of " + tc.op}); err != nil {
				t.Fatal(err)
			}
			done := o.jobInfo(created.ID)
			if done.State != "JobComplete" || done.NumberRecordsProcessed == nil || done.NumberRecordsProcessed.String() != strconv.Itoa(tc.want) {
				t.Fatalf("second poll: %+v, want JobComplete with %d records", done, tc.want)
			}
			rows, pages := o.allResults(created.ID, 100)
			if len(rows) != tc.want || pages != (tc.want+99)/100 {
				t.Fatalf("%d rows in %d pages, want %d rows", len(rows), pages, tc.want)
			}
			seen := map[string]bool{}
			for _, r := range rows {
				if seen[r[0]] {
					t.Fatalf("Id %s twice", r[0])
				}
				seen[r[0]] = true
				if r[1] == "after the snapshot of "+tc.op {
					t.Fatalf("record created after the snapshot is in the result")
				}
				if _, err := time.Parse(csvDateTime, r[3]); err != nil || !strings.HasSuffix(r[3], "Z") {
					t.Fatalf("SystemModstamp %q is not %s", r[3], csvDateTime)
				}
			}
			for _, id := range deleted {
				if seen[id] != (tc.op == "queryAll") {
					t.Errorf("deleted %s in %s result: %v", id, tc.op, seen[id])
				}
			}
			// A page can be fetched again with its locator.
			first := o.results(created.ID, "?maxRecords=100")
			again := o.results(created.ID, "?maxRecords=100&locator="+first.locator)
			twice := o.results(created.ID, "?maxRecords=100&locator="+first.locator)
			if !bytes.Equal(again.body, twice.body) {
				t.Errorf("a page fetched twice differs")
			}

			var list struct {
				Done    bool      `json:"done"`
				Records []jobJSON `json:"records"`
			}
			decode(t, o.get(jobsPath), http.StatusOK, &list)
			if !list.Done || len(list.Records) != 1 || list.Records[0].ID != created.ID {
				t.Errorf("job list %+v", list)
			}
			wantError(t, o.send(http.MethodPatch, jobsPath+"/"+created.ID, `{"state":"Aborted"}`), http.StatusBadRequest, "INVALIDJOBSTATE")
			resp := o.send(http.MethodDelete, jobsPath+"/"+created.ID, "")
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("delete: status %d", resp.StatusCode)
			}
			wantError(t, o.get(jobsPath+"/"+created.ID), http.StatusNotFound, "NOT_FOUND")
			wantError(t, o.get(jobsPath+"/"+created.ID+"/results"), http.StatusNotFound, "NOT_FOUND")
			if left := o.emu.BulkJobs(); len(left) != 0 {
				t.Errorf("jobs left after delete: %+v", left)
			}
		})
	}
}

func TestBulkAbortAndDelete(t *testing.T) {
	o := newOrg(t, Options{Seed: 1, Records: map[string]int{"Account": 5}})
	j := o.createJob(jobBody("query", "SELECT Id FROM Account"))
	wantError(t, o.send(http.MethodDelete, jobsPath+"/"+j.ID, ""), http.StatusBadRequest, "INVALIDJOBSTATE")
	wantError(t, o.send(http.MethodPatch, jobsPath+"/"+j.ID, `{"state":"JobComplete"}`), http.StatusBadRequest, "INVALIDJOBSTATE")
	var aborted jobJSON
	decode(t, o.send(http.MethodPatch, jobsPath+"/"+j.ID, `{"state":"Aborted"}`), http.StatusOK, &aborted)
	if aborted.State != "Aborted" {
		t.Fatalf("abort: state %s", aborted.State)
	}
	if got := o.jobInfo(j.ID); got.State != "Aborted" {
		t.Fatalf("after abort, polled state %s", got.State)
	}
	wantError(t, o.get(jobsPath+"/"+j.ID+"/results"), http.StatusBadRequest, "JOB_NOT_COMPLETE")
	if jobs := o.emu.BulkJobs(); len(jobs) != 1 || jobs[0].State != "Aborted" {
		t.Fatalf("BulkJobs %+v", jobs)
	}
	decode(t, o.send(http.MethodDelete, jobsPath+"/"+j.ID, ""), http.StatusNoContent, nil)
	if jobs := o.emu.BulkJobs(); len(jobs) != 0 {
		t.Fatalf("BulkJobs after delete %+v", jobs)
	}
}

func TestBulkCreateErrors(t *testing.T) {
	o := newOrg(t, Options{Seed: 1, Records: map[string]int{"Account": 5}, BulkUnsupported: []string{"AccountHistory"},
		Custom: []ObjectDef{{Name: "Account", Extends: true, Fields: []FieldDef{{Name: "Logo__c", Type: "base64", Nillable: true}}}}})
	for _, tc := range []struct {
		name, body string
		code, text string
	}{
		{"compound field", jobBody("query", "SELECT Id, BillingAddress FROM Account"), "API_ERROR", "Selecting compound data not supported in Bulk Query"},
		{"components are fine", "", "", ""},
		{"base64 field", jobBody("query", "SELECT Id, Logo__c FROM Account"), "API_ERROR", "not supported in Bulk Query"},
		{"count", jobBody("query", "SELECT COUNT() FROM Account"), "API_ERROR", "not supported"},
		{"offset", jobBody("query", "SELECT Id FROM Account OFFSET 2"), "API_ERROR", "OFFSET is not supported"},
		{"unsupported object", jobBody("queryAll", "SELECT Id FROM AccountHistory"), "INVALIDENTITY", "is not supported by the Bulk API"},
		{"unknown field", jobBody("query", "SELECT Id, Nope__c FROM Account"), "INVALID_FIELD", "No such column 'Nope__c'"},
		{"unknown object", jobBody("query", "SELECT Id FROM Nope__c"), "INVALID_TYPE", "Nope__c"},
		{"malformed", jobBody("query", "SELECT FROM Account"), "MALFORMED_QUERY", ""},
		{"operation", jobBody("insert", "SELECT Id FROM Account"), "INVALIDJOB", "operation"},
		{"content type", jobBody("query", "SELECT Id FROM Account", "contentType", "JSON"), "INVALIDJOB", "contentType"},
		{"delimiter", jobBody("query", "SELECT Id FROM Account", "columnDelimiter", "SPACE"), "INVALIDJOB", "columnDelimiter"},
		{"line ending", jobBody("query", "SELECT Id FROM Account", "lineEnding", "CR"), "INVALIDJOB", "lineEnding"},
		{"no query", jobBody("query", " "), "INVALIDJOB", "query"},
		{"not JSON", "operation=query", "INVALIDJOB", "JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.body == "" {
				o.createJob(jobBody("query", "SELECT Id, BillingStreet, BillingCity FROM Account"))
				return
			}
			msg := wantError(t, o.send(http.MethodPost, jobsPath, tc.body), http.StatusBadRequest, tc.code)
			if !strings.Contains(msg, tc.text) {
				t.Errorf("message %q does not contain %q", msg, tc.text)
			}
		})
	}
	if n := len(o.emu.BulkJobs()); n != 1 {
		t.Errorf("%d jobs exist, want the one valid job", n)
	}
}

func TestBulkResultErrors(t *testing.T) {
	o := newOrg(t, Options{Seed: 1, Records: map[string]int{"Account": 30}, APIVersions: []string{"61.0", "62.0"}})
	j := o.createJob(jobBody("query", "SELECT Id FROM Account"))
	wantError(t, o.get(jobsPath+"/"+j.ID+"/results"), http.StatusBadRequest, "JOB_NOT_COMPLETE")
	o.finishJob(j.ID)
	resp := o.get("/services/data/v61.0/jobs/query/" + j.ID + "/results")
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("results with another API version: status %d, want 409", resp.StatusCode)
	}
	resp.Body.Close()
	for _, q := range []string{"?locator=bm9wZQ", "?locator=MzA", "?locator=MA", "?locator=%21%21"} {
		wantError(t, o.get(jobsPath+"/"+j.ID+"/results"+q), http.StatusBadRequest, "INVALID_QUERY_LOCATOR")
	}
	for _, q := range []string{"?maxRecords=0", "?maxRecords=-5", "?maxRecords=ten"} {
		wantError(t, o.get(jobsPath+"/"+j.ID+"/results"+q), http.StatusBadRequest, "INVALIDJOB")
	}
	// Without maxRecords the configured page size applies; the doc's
	// example locator for offset 10000 is MTAwMDA.
	if got := makeLocator(10000); got != "MTAwMDA" {
		t.Errorf("locator of 10000 = %q", got)
	}
	p := o.results(j.ID, "")
	if p.locator != "null" || p.count != "30" {
		t.Errorf("one-page result: locator %q, count %q", p.locator, p.count)
	}
}

func TestBulkCSVFormat(t *testing.T) {
	o := newOrg(t, Options{Seed: 1, Records: map[string]int{"User": 1}})
	id := mustCreate(t, o.emu, "Account", map[string]any{
		"Name":              "Quote \"Co\", Inc.\nline two\r\nthree",
		"Description":       "",
		"NumberOfEmployees": 42,
		"AnnualRevenue":     139000000,
	})
	var stamp string
	for _, r := range o.queryAllPages("query", "SELECT Id, SystemModstamp FROM Account")[0].Records {
		stamp = r["SystemModstamp"].(string)
	}
	ts, err := time.Parse(restDateTime, stamp)
	if err != nil {
		t.Fatal(err)
	}
	soql := "SELECT Id, Name, Description, NumberOfEmployees, AnnualRevenue, IsDeleted, SystemModstamp FROM Account"
	for _, tc := range []struct {
		delim, ending string
		sep           string
		eol           string
	}{{"", "", ",", "\n"}, {"PIPE", "CRLF", "|", "\r\n"}, {"TAB", "LF", "\t", "\n"}, {"BACKQUOTE", "LF", "`", "\n"}, {"CARET", "LF", "^", "\n"}, {"SEMICOLON", "LF", ";", "\n"}} {
		t.Run(tc.sep, func(t *testing.T) {
			var extra []string
			if tc.delim != "" {
				extra = append(extra, "columnDelimiter", tc.delim, "lineEnding", tc.ending)
			}
			j := o.createJob(jobBody("query", soql, extra...))
			o.finishJob(j.ID)
			p := o.results(j.ID, "")
			want := strings.Join([]string{`"Id"`, `"Name"`, `"Description"`, `"NumberOfEmployees"`, `"AnnualRevenue"`, `"IsDeleted"`, `"SystemModstamp"`}, tc.sep) + tc.eol +
				strings.Join([]string{`"` + id + `"`, "\"Quote \"\"Co\"\", Inc.\nline two\r\nthree\"", `""`, `"42"`, `"139000000"`, `"false"`, `"` + ts.UTC().Format(csvDateTime) + `"`}, tc.sep) + tc.eol
			if diff := cmp.Diff(want, string(p.body)); diff != "" {
				t.Errorf("CSV (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBulkCSVEveryKind(t *testing.T) {
	o := newOrg(t, Options{Seed: 3, Records: map[string]int{"Account": 40, "Opportunity": 60}})
	soql := "SELECT Id, Name, Amount, Probability, CloseDate, IsClosed, ExpectedRevenue, StageName, SystemModstamp FROM Opportunity"
	j := o.createJob(jobBody("query", soql))
	o.finishJob(j.ID)
	rows, _ := o.allResults(j.ID, 7)
	rest := o.queryAllPages("query", soql+" ORDER BY Id")
	byID := map[string]map[string]any{}
	for _, p := range rest {
		for _, r := range p.Records {
			byID[r["Id"].(string)] = r
		}
	}
	if len(rows) != len(byID) {
		t.Fatalf("%d CSV rows, %d REST records", len(rows), len(byID))
	}
	names := strings.Split(strings.TrimPrefix(strings.Split(soql, " FROM")[0], "SELECT "), ", ")
	for _, row := range rows {
		rec := byID[row[0]]
		for i, name := range names {
			got, want := row[i], rec[name]
			switch w := want.(type) {
			case nil:
				if got != "" {
					t.Errorf("%s.%s: CSV %q, REST null", row[0], name, got)
				}
			case string:
				if ts, err := time.Parse(restDateTime, w); err == nil {
					w = ts.UTC().Format(csvDateTime)
				}
				if got != w {
					t.Errorf("%s.%s: CSV %q, REST %q", row[0], name, got, w)
				}
			case bool:
				if got != strconv.FormatBool(w) {
					t.Errorf("%s.%s: CSV %q, REST %v", row[0], name, got, w)
				}
			case json.Number:
				a, err1 := strconv.ParseFloat(got, 64)
				b, err2 := w.Float64()
				if err1 != nil || err2 != nil || a != b || strings.ContainsAny(got, "eE") {
					t.Errorf("%s.%s: CSV %q, REST %s", row[0], name, got, w)
				}
			}
		}
	}
}

func TestBulkGzip(t *testing.T) {
	o := newOrg(t, Options{Seed: 1, Records: map[string]int{"Account": 120}})
	j := o.createJob(jobBody("query", "SELECT Id, Name, Description FROM Account"))
	o.finishJob(j.ID)
	plain := o.results(j.ID, "?maxRecords=50")
	resp := o.get(jobsPath+"/"+j.ID+"/results?maxRecords=50", "Accept-Encoding", "gzip")
	defer resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Sforce-Locator") != plain.locator ||
		resp.Header.Get("Sforce-NumberOfRecords") != "50" {
		t.Fatalf("gzip answer headers %v", resp.Header)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, plain.body) {
		t.Errorf("gunzipped page differs from the plain one")
	}
}

func TestBulkJobFaults(t *testing.T) {
	o := newOrg(t, Options{Seed: 1, Records: map[string]int{"Account": 300}, BulkJobPolls: 1})
	body := jobBody("queryAll", "SELECT Id, Name FROM Account")

	o.emu.InjectFault(Fault{Kind: FaultJobFail, Route: "bulkcreate", Message: "INVALIDENTITY: Entity 'Account' is not supported by the Bulk API."})
	o.emu.InjectFault(Fault{Kind: FaultJobFail})
	// Job faults never fire on other routes.
	decode(t, o.get(jobsPath), http.StatusOK, nil)
	failed := o.finishJob(o.createJob(body).ID)
	if failed.State != "Failed" || !strings.Contains(failed.ErrorMessage, "not supported by the Bulk API") {
		t.Errorf("jobfail with a message: %+v", failed)
	}
	failed = o.finishJob(o.createJob(body).ID)
	if failed.State != "Failed" || failed.ErrorMessage != defaultJobFailure {
		t.Errorf("jobfail: %+v", failed)
	}
	if ok := o.finishJob(o.createJob(body).ID); ok.State != "JobComplete" || ok.ErrorMessage != "" {
		t.Errorf("after the faults: %+v", ok)
	}

	o.emu.InjectFault(Fault{Kind: FaultJobStuck, Route: "bulkcreate"})
	stuck := o.createJob(body)
	for range 10 {
		if got := o.jobInfo(stuck.ID); got.State != "InProgress" {
			t.Fatalf("stuck job: state %s", got.State)
		}
	}
	decode(t, o.send(http.MethodPatch, jobsPath+"/"+stuck.ID, `{"state":"Aborted"}`), http.StatusOK, nil)

	// A reset mid-download breaks the body; the page can be fetched again.
	done := o.createJob(body)
	o.finishJob(done.ID)
	o.emu.InjectFault(Fault{Kind: FaultReset, Route: "bulkresults"})
	resp := o.get(jobsPath + "/" + done.ID + "/results")
	_, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("reset: read error %v, want unexpected EOF", err)
	}
	rows, _ := o.allResults(done.ID, 1000)
	if len(rows) != 300 {
		t.Errorf("after the reset: %d rows", len(rows))
	}
	o.emu.InjectFault(Fault{Kind: FaultSlow, Route: "bulkresults", Delay: time.Millisecond})
	if rows, _ := o.allResults(done.ID, 1000); len(rows) != 300 {
		t.Errorf("slow page: %d rows", len(rows))
	}
	o.emu.InjectFault(Fault{Kind: FaultUnavailable, Route: "bulkcreate"})
	wantError(t, o.send(http.MethodPost, jobsPath, body), http.StatusServiceUnavailable, "SERVER_UNAVAILABLE")

	var states []string
	for _, j := range o.emu.BulkJobs() {
		states = append(states, j.State)
	}
	sort.Strings(states)
	if want := []string{"Aborted", "Failed", "Failed", "JobComplete", "JobComplete"}; !slices.Equal(states, want) {
		t.Errorf("job states %v, want %v", states, want)
	}
}
