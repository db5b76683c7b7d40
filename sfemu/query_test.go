package sfemu

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var nextURLPattern = regexp.MustCompile(`^/services/data/v62\.0/query/01g[0-9A-Za-z]{15}-[0-9]+$`)

func TestQueryPaging(t *testing.T) {
	o := newOrg(t, Options{Seed: 7, Records: map[string]int{"Account": 2500}})
	soql := "SELECT Id, Name, SystemModstamp FROM Account ORDER BY SystemModstamp, Id"
	tests := []struct {
		name   string
		header []string
		sizes  []int
	}{
		{"default", nil, []int{2000, 500}},
		{"batchSize 500", []string{"Sforce-Query-Options", "batchSize=500"}, []int{500, 500, 500, 500, 500}},
		{"below minimum", []string{"Sforce-Query-Options", "batchSize=10"}, []int{200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 100}},
		{"above maximum", []string{"Sforce-Query-Options", "batchSize=5000"}, []int{2000, 500}},
		{"with other options", []string{"Sforce-Query-Options", "foo=bar, batchSize=1000"}, []int{1000, 1000, 500}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pages := o.queryAllPages("query", soql, tt.header...)
			var sizes []int
			var all []string
			for _, p := range pages {
				sizes = append(sizes, len(p.Records))
				if p.TotalSize != 2500 {
					t.Errorf("totalSize %d, want 2500", p.TotalSize)
				}
				if !p.Done && !nextURLPattern.MatchString(p.NextRecordsURL) {
					t.Errorf("nextRecordsUrl %q has the wrong shape", p.NextRecordsURL)
				}
				all = append(all, ids(p.Records)...)
			}
			if diff := cmp.Diff(tt.sizes, sizes); diff != "" {
				t.Errorf("page sizes (-want +got):\n%s", diff)
			}
			want := truthIDs(o.emu, "Account", false)
			if diff := cmp.Diff(want, all); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("MaxPageSize", func(t *testing.T) {
		small := newOrg(t, Options{Records: map[string]int{"Account": 120}, MaxPageSize: 50})
		pages := small.queryAllPages("query", "SELECT Id FROM Account")
		if len(pages) != 3 || len(pages[0].Records) != 50 || len(pages[2].Records) != 20 {
			t.Errorf("got %d pages", len(pages))
		}
	})
}

// truthIDs lists the Ids of the truth in SystemModstamp, Id order.
func truthIDs(emu *Server, object string, all bool) []string {
	truth := emu.Truth(object)
	if all {
		truth = emu.TruthAll(object)
	}
	out := make([]string, 0, len(truth))
	for id := range truth {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := truth[out[i]]["SystemModstamp"].(time.Time), truth[out[j]]["SystemModstamp"].(time.Time)
		if !a.Equal(b) {
			return a.Before(b)
		}
		return out[i] < out[j]
	})
	return out
}

func TestQueryAllContinuesUnderQuery(t *testing.T) {
	o := newOrg(t, Options{Records: map[string]int{"Contact": 450}})
	truth := truthIDs(o.emu, "Contact", false)
	deleted := truth[10]
	if err := o.emu.Delete("Contact", deleted); err != nil {
		t.Fatal(err)
	}
	soql := "SELECT Id, IsDeleted FROM Contact ORDER BY SystemModstamp, Id"
	pages := o.queryAllPages("queryAll", soql, "Sforce-Query-Options", "batchSize=200")
	if len(pages) != 3 {
		t.Fatalf("%d pages, want 3", len(pages))
	}
	for _, p := range pages[:2] {
		if !strings.Contains(p.NextRecordsURL, "/query/") || strings.Contains(p.NextRecordsURL, "queryAll") {
			t.Errorf("queryAll nextRecordsUrl %q must point at /query/", p.NextRecordsURL)
		}
	}
	var got []string
	for _, p := range pages {
		got = append(got, ids(p.Records)...)
	}
	last := pages[2].Records[len(pages[2].Records)-1]
	if last["Id"] != deleted || last["IsDeleted"] != true {
		t.Errorf("last queryAll record %v, want the deleted %s", last, deleted)
	}
	if len(got) != 450 {
		t.Errorf("queryAll returned %d records, want 450", len(got))
	}
	plain := o.queryAllPages("query", soql)
	if n := len(plain[0].Records); n != 449 || slices.Contains(ids(plain[0].Records), deleted) {
		t.Errorf("query returned %d records (deleted one included: %v)", n, slices.Contains(ids(plain[0].Records), deleted))
	}
}

func TestQuerySnapshot(t *testing.T) {
	o := newOrg(t, Options{Records: map[string]int{"Account": 1000}})
	soql := "SELECT Id, Name, SystemModstamp FROM Account ORDER BY SystemModstamp, Id"
	var first queryResult
	decode(t, o.get(queryPath("query", soql), "Sforce-Query-Options", "batchSize=250"), http.StatusOK, &first)
	before := truthIDs(o.emu, "Account", false)
	oldName := o.emu.Truth("Account")[before[600]]["Name"]

	// Change the org while the cursor is open.
	o.clock.Advance(time.Minute)
	if err := o.emu.Update("Account", before[600], map[string]any{"Name": "Renamed"}); err != nil {
		t.Fatal(err)
	}
	if err := o.emu.Delete("Account", before[700]); err != nil {
		t.Fatal(err)
	}
	if err := o.emu.Purge("Account", before[800]); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, o.emu, "Account", map[string]any{"Name": "New"})

	recs := first.Records
	next := first.NextRecordsURL
	for next != "" {
		var p queryResult
		decode(t, o.get(next), http.StatusOK, &p)
		if p.TotalSize != 1000 {
			t.Errorf("totalSize %d mid-cursor, want 1000", p.TotalSize)
		}
		recs = append(recs, p.Records...)
		next = p.NextRecordsURL
	}
	if diff := cmp.Diff(before, ids(recs)); diff != "" {
		t.Fatalf("snapshot records (-want +got):\n%s", diff)
	}
	if recs[600]["Name"] != oldName {
		t.Errorf("record changed after the snapshot reads %v, want %v", recs[600]["Name"], oldName)
	}
	// A new query sees the changes.
	after := o.queryAllPages("query", soql)
	got := ids(after[0].Records)
	if len(got) != 999 || got[len(got)-2] != before[600] || slices.Contains(got, before[700]) || slices.Contains(got, before[800]) {
		t.Errorf("new query: %d records, renamed one at %d", len(got), slices.Index(got, before[600]))
	}
}

func TestQueryCount(t *testing.T) {
	o := newOrg(t, Options{Records: map[string]int{"Lead": 321}})
	var r queryResult
	decode(t, o.get(queryPath("query", "SELECT COUNT() FROM Lead")), http.StatusOK, &r)
	if r.TotalSize != 321 || !r.Done || r.Records == nil || len(r.Records) != 0 {
		t.Errorf("COUNT(): %+v", r)
	}
	decode(t, o.get(queryPath("query", "SELECT COUNT() FROM Lead LIMIT 10")), http.StatusOK, &r)
	if r.TotalSize != 10 {
		t.Errorf("COUNT() LIMIT 10: totalSize %d", r.TotalSize)
	}
}

func TestQueryErrors(t *testing.T) {
	o := newOrg(t, Options{Records: map[string]int{"Account": 5}})
	tests := []struct {
		name, path, code string
	}{
		{"missing q", "/services/data/v62.0/query", "MALFORMED_QUERY"},
		{"malformed", queryPath("query", "SELECT FROM Account"), "MALFORMED_QUERY"},
		{"unknown field", queryPath("query", "SELECT Id, Foo FROM Account"), "INVALID_FIELD"},
		{"unknown object", queryPath("queryAll", "SELECT Id FROM Nope__c"), "INVALID_TYPE"},
		{"offset", queryPath("query", "SELECT Id FROM Account LIMIT 10 OFFSET 2001"), "NUMBER_OUTSIDE_VALID_RANGE"},
		{"bad locator", "/services/data/v62.0/query/01gXXXXXXXXXXXXXXX-2000", "INVALID_QUERY_LOCATOR"},
		{"no offset", "/services/data/v62.0/query/garbage", "INVALID_QUERY_LOCATOR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := wantError(t, o.get(tt.path), http.StatusBadRequest, tt.code)
			if msg == "" {
				t.Error("empty message")
			}
		})
	}
}

func TestQueryLocatorExpiry(t *testing.T) {
	o := newOrg(t, Options{Records: map[string]int{"Account": 500}, LocatorIdle: 10 * time.Minute})
	soql := "SELECT Id FROM Account"
	var p queryResult
	decode(t, o.get(queryPath("query", soql), "Sforce-Query-Options", "batchSize=200"), http.StatusOK, &p)
	o.clock.Advance(9 * time.Minute)
	var p2 queryResult
	decode(t, o.get(p.NextRecordsURL), http.StatusOK, &p2)
	// Fetching a page again works while the locator lives.
	decode(t, o.get(p.NextRecordsURL), http.StatusOK, nil)
	o.clock.Advance(11 * time.Minute)
	wantError(t, o.get(p2.NextRecordsURL), http.StatusBadRequest, "INVALID_QUERY_LOCATOR")
}

func TestQueryOrderFilterLimit(t *testing.T) {
	o := newOrg(t, Options{Seed: 3, Records: map[string]int{"Account": 800}})
	truth := o.emu.Truth("Account")
	ordered := truthIDs(o.emu, "Account", false)
	from := truth[ordered[100]]["SystemModstamp"].(time.Time)
	to := truth[ordered[400]]["SystemModstamp"].(time.Time)
	// Literals are whole seconds; generated stamps are whole seconds too.
	soql := fmt.Sprintf("SELECT Id FROM Account WHERE SystemModstamp >= %s AND SystemModstamp < %s ORDER BY SystemModstamp, Id",
		from.Format("2006-01-02T15:04:05Z"), to.Format("2006-01-02T15:04:05Z"))
	got := ids(o.queryAllPages("query", soql)[0].Records)
	if diff := cmp.Diff(ordered[100:400], got); diff != "" {
		t.Errorf("window (-want +got):\n%s", diff)
	}

	byName := slices.Clone(ordered)
	sort.SliceStable(byName, func(i, j int) bool {
		a, b := strings.ToLower(truth[byName[i]]["Name"].(string)), strings.ToLower(truth[byName[j]]["Name"].(string))
		if a != b {
			return a > b
		}
		return byName[i] < byName[j]
	})
	got = ids(o.queryAllPages("query", "SELECT Id, Name FROM Account ORDER BY Name DESC, Id LIMIT 10 OFFSET 5")[0].Records)
	if diff := cmp.Diff(byName[5:15], got); diff != "" {
		t.Errorf("ORDER BY Name DESC LIMIT 10 OFFSET 5 (-want +got):\n%s", diff)
	}
}

func TestQueryValueFormats(t *testing.T) {
	o := newOrg(t, Options{})
	desc := "Line one\nShe said \"hi\", then left; café 東京 🎉\ttab \\ backslash"
	id := mustCreate(t, o.emu, "Account", map[string]any{
		"Name":                      "Acme, \"Inc\"",
		"AnnualRevenue":             139000000,
		"NumberOfEmployees":         120,
		"Health_Score__c":           12.5,
		"Customer_Since__c":         "2024-01-02",
		"Preferred_Call_Time__c":    "13:30:00.000Z",
		"BillingStreet":             "1 Main St\nSuite 2",
		"BillingCity":               "Springfield",
		"BillingLatitude":           37.79,
		"BillingLongitude":          -122.39,
		"HQ_Location__Latitude__s":  37.79,
		"HQ_Location__Longitude__s": -122.39,
		"Description":               desc,
		"Segments__c":               []string{"SMB", "Enterprise"},
		"Active__c":                 true,
	})
	soql := "SELECT Id, Name, AnnualRevenue, NumberOfEmployees, Health_Score__c, Customer_Since__c, Preferred_Call_Time__c," +
		" CreatedDate, BillingAddress, ShippingAddress, HQ_Location__c, Description, Segments__c, Active__c, Phone," +
		" Revenue_Per_Employee__c, Account_Label__c FROM Account WHERE Id = '" + id + "'"
	resp := o.get(queryPath("query", soql))
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	raw := string(body)
	created := o.clock.Now().Format("2006-01-02T15:04:05.000") + "+0000"
	for _, want := range []string{
		`"attributes":{"type":"Account","url":"/services/data/v62.0/sobjects/Account/` + id + `"}`,
		`"Name":"Acme, \"Inc\""`,
		`"AnnualRevenue":1.39E8`,
		`"NumberOfEmployees":120,`,
		`"Health_Score__c":12.5,`,
		`"Customer_Since__c":"2024-01-02"`,
		`"Preferred_Call_Time__c":"13:30:00.000Z"`,
		`"CreatedDate":"` + created + `"`,
		`"BillingAddress":{"city":"Springfield","country":null,"geocodeAccuracy":null,"latitude":37.79,"longitude":-122.39,"postalCode":null,"state":null,"street":"1 Main St\nSuite 2"}`,
		`"ShippingAddress":null`,
		`"HQ_Location__c":{"latitude":37.79,"longitude":-122.39}`,
		`"Segments__c":"SMB;Enterprise"`,
		`"Active__c":true`,
		`"Phone":null`,
		`"Revenue_Per_Employee__c":1158333.33`,
		`"Account_Label__c":"Acme, \"Inc\" - Springfield"`,
	} {
		if !strings.Contains(raw, want) {
			t.Errorf("body lacks %s\nbody: %s", want, raw)
		}
	}
	var r queryResult
	decode(t, o.get(queryPath("query", soql)), http.StatusOK, &r)
	if got := r.Records[0]["Description"]; got != desc {
		t.Errorf("Description round trip: %q", got)
	}
}

func TestGeneratedValues(t *testing.T) {
	o := newOrg(t, Options{Seed: 11, Records: map[string]int{"Account": 300}})
	resp := o.get(queryPath("query", "SELECT Id, AnnualRevenue, Description, BillingAddress FROM Account"))
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	raw := string(body)
	for _, want := range []string{`E7,`, `E8,`, `\n`, `\"`, `🎉`, `"AnnualRevenue":null`, `"BillingAddress":{"city":`} {
		if !strings.Contains(raw, want) {
			t.Errorf("generated page lacks %s", want)
		}
	}
}

// TestWindowedQueryMatchesScan checks that a query bounded on the cursor
// field (answered from the cursor-ordered index) returns exactly what the
// same condition returns when the index cannot be used (the bounds inside
// an OR with a condition that never holds), across updates, late commits,
// deletes, undeletes and same-second ties.
func TestWindowedQueryMatchesScan(t *testing.T) {
	o := newOrg(t, Options{Seed: 3, Records: map[string]int{"Account": 1500}})
	rnd := rand.New(rand.NewPCG(1, 2))
	var stamps []time.Time
	mark := func() {
		stamps = append(stamps, o.clock.Now().UTC())
	}
	mark()
	for round := range 5 {
		o.clock.Advance(1500 * time.Millisecond)
		mark()
		ids, err := o.emu.UpdateRandom("Account", 150, rnd)
		if err != nil {
			t.Fatal(err)
		}
		if err := o.emu.LateCommit("Account", ids[0], map[string]any{"Name": fmt.Sprint("late ", round)}, 3*time.Second); err != nil {
			t.Fatal(err)
		}
		if err := o.emu.Delete("Account", ids[1]); err != nil {
			t.Fatal(err)
		}
		if round > 0 {
			if err := o.emu.Undelete("Account", ids[1]); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := o.emu.TouchSameSecond("Account", 40); err != nil {
			t.Fatal(err)
		}
		mark()
	}
	lit := func(tm time.Time) string { return tm.Format("2006-01-02T15:04:05.000Z") }
	var conds []string
	for i := range 12 {
		a := stamps[rnd.IntN(len(stamps))].Add(time.Duration(rnd.IntN(3000)-1500) * time.Millisecond)
		b := a.Add(time.Duration(rnd.IntN(6000)) * time.Millisecond)
		switch i % 4 {
		case 0:
			conds = append(conds, fmt.Sprintf("SystemModstamp >= %s AND SystemModstamp < %s", lit(a), lit(b)))
		case 1:
			conds = append(conds, fmt.Sprintf("SystemModstamp > %s AND Name != null AND SystemModstamp <= %s", lit(a), lit(b)))
		case 2:
			conds = append(conds, fmt.Sprintf("SystemModstamp >= %s", lit(a)))
		case 3:
			conds = append(conds, fmt.Sprintf("SystemModstamp <= %s AND (SystemModstamp >= %s AND SystemModstamp < %s)", lit(b), lit(a), lit(b.Add(time.Second))))
		}
	}
	conds = append(conds,
		fmt.Sprintf("SystemModstamp = %s", lit(stamps[len(stamps)-1].Truncate(time.Second))),
		fmt.Sprintf("SystemModstamp > %s AND SystemModstamp < %s", lit(stamps[3]), lit(stamps[1])), // empty
		fmt.Sprintf("NOT SystemModstamp < %s", lit(stamps[2])),
	)
	for _, endpoint := range []string{"query", "queryAll"} {
		for _, cond := range conds {
			indexed := "SELECT Id, Name, SystemModstamp FROM Account WHERE " + cond + " ORDER BY SystemModstamp, Id"
			scanned := "SELECT Id, Name, SystemModstamp FROM Account WHERE (" + cond + ") OR Id = null ORDER BY SystemModstamp, Id"
			var got, want []map[string]any
			for _, p := range o.queryAllPages(endpoint, indexed) {
				got = append(got, p.Records...)
			}
			for _, p := range o.queryAllPages(endpoint, scanned) {
				want = append(want, p.Records...)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s %s (-scan +index):\n%s", endpoint, cond, diff)
			}
			var n, m queryResult
			decode(t, o.get(queryPath(endpoint, "SELECT COUNT() FROM Account WHERE "+cond)), http.StatusOK, &n)
			decode(t, o.get(queryPath(endpoint, "SELECT COUNT() FROM Account WHERE ("+cond+") OR Id = null")), http.StatusOK, &m)
			if n.TotalSize != m.TotalSize || n.TotalSize != len(want) {
				t.Errorf("%s COUNT() %s: %d indexed, %d scanned, %d records", endpoint, cond, n.TotalSize, m.TotalSize, len(want))
			}
		}
	}
}
