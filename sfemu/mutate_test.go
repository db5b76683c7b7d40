package sfemu

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func stampOf(t *testing.T, emu *Server, object, id string, all bool) time.Time {
	t.Helper()
	truth := emu.Truth(object)
	if all {
		truth = emu.TruthAll(object)
	}
	rec, ok := truth[id]
	if !ok {
		t.Fatalf("%s %s not in truth", object, id)
	}
	return rec["SystemModstamp"].(time.Time)
}

func TestStampsStrictlyIncreasing(t *testing.T) {
	o := newOrg(t, Options{Records: map[string]int{"Account": 50}})
	now := o.clock.Now()
	var got []time.Time
	for i := 0; i < 3; i++ {
		id := mustCreate(t, o.emu, "Account", map[string]any{"Name": fmt.Sprint("A", i)})
		got = append(got, stampOf(t, o.emu, "Account", id, false))
		if err := o.emu.Update("Account", id, map[string]any{"Phone": "123"}); err != nil {
			t.Fatal(err)
		}
		got = append(got, stampOf(t, o.emu, "Account", id, false))
	}
	for i, s := range got {
		if want := now.Add(time.Duration(i) * time.Millisecond); !s.Equal(want) {
			t.Errorf("stamp %d = %s, want %s (the clock stands still)", i, s, want)
		}
	}
	o.clock.Advance(time.Hour)
	id := mustCreate(t, o.emu, "Account", map[string]any{"Name": "later"})
	rec := o.emu.Truth("Account")[id]
	if s := rec["SystemModstamp"].(time.Time); !s.Equal(o.clock.Now()) {
		t.Errorf("stamp %s, want the clock's %s", s, o.clock.Now())
	}
	for _, f := range []string{"CreatedDate", "LastModifiedDate"} {
		if !rec[f].(time.Time).Equal(rec["SystemModstamp"].(time.Time)) {
			t.Errorf("%s %v differs from SystemModstamp", f, rec[f])
		}
	}
	if rec["CreatedById"] != o.emu.userID || rec["OwnerId"] != o.emu.userID {
		t.Errorf("CreatedById %v, OwnerId %v, want the integration user", rec["CreatedById"], rec["OwnerId"])
	}
}

func TestSoftDeleteUndelete(t *testing.T) {
	o := newOrg(t, Options{Records: map[string]int{"Contact": 20}})
	id := truthIDs(o.emu, "Contact", false)[3]
	before := stampOf(t, o.emu, "Contact", id, false)
	if err := o.emu.Delete("Contact", id); err != nil {
		t.Fatal(err)
	}
	if _, ok := o.emu.Truth("Contact")[id]; ok {
		t.Error("deleted record in Truth")
	}
	rec := o.emu.TruthAll("Contact")[id]
	if rec["IsDeleted"] != true || !rec["SystemModstamp"].(time.Time).After(before) {
		t.Errorf("deleted record %v", rec)
	}
	soql := "SELECT Id, IsDeleted FROM Contact WHERE Id = '" + id + "'"
	if r := o.queryAllPages("query", soql)[0]; r.TotalSize != 0 {
		t.Errorf("query sees the deleted record")
	}
	if r := o.queryAllPages("queryAll", soql)[0]; r.TotalSize != 1 || r.Records[0]["IsDeleted"] != true {
		t.Errorf("queryAll: %+v", r)
	}
	if err := o.emu.Delete("Contact", id); err == nil {
		t.Error("deleting twice succeeded")
	}
	if err := o.emu.Update("Contact", id, map[string]any{"Title": "x"}); err == nil || !strings.Contains(err.Error(), "deleted") {
		t.Errorf("updating a deleted record: %v", err)
	}
	if err := o.emu.Undelete("Contact", id); err != nil {
		t.Fatal(err)
	}
	if r := o.queryAllPages("query", soql)[0]; r.TotalSize != 1 || r.Records[0]["IsDeleted"] != false {
		t.Errorf("undeleted record: %+v", r)
	}
	if err := o.emu.Undelete("Contact", id); err == nil {
		t.Error("undeleting a live record succeeded")
	}
	users := truthIDs(o.emu, "User", false)
	if err := o.emu.Delete("User", users[1]); err == nil {
		t.Error("deleting a User succeeded")
	}
}

func TestPurge(t *testing.T) {
	o := newOrg(t, Options{Records: map[string]int{"Lead": 10}})
	ids := truthIDs(o.emu, "Lead", false)
	if err := o.emu.Delete("Lead", ids[0]); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids[:2] {
		if err := o.emu.Purge("Lead", id); err != nil {
			t.Fatal(err)
		}
		if _, ok := o.emu.TruthAll("Lead")[id]; ok {
			t.Errorf("purged %s in TruthAll", id)
		}
		r := o.queryAllPages("queryAll", "SELECT Id FROM Lead WHERE Id = '"+id+"'")[0]
		if r.TotalSize != 0 {
			t.Errorf("queryAll sees purged %s", id)
		}
	}
	if err := o.emu.Purge("Lead", ids[0]); err == nil {
		t.Error("purging twice succeeded")
	}
	if err := o.emu.Undelete("Lead", ids[0]); err == nil {
		t.Error("undeleting a purged record succeeded")
	}
}

func TestMerge(t *testing.T) {
	o := newOrg(t, Options{Records: map[string]int{"Account": 10, "Opportunity": 3}})
	ids := truthIDs(o.emu, "Account", false)
	master, losers := ids[0], ids[1:3]
	before := stampOf(t, o.emu, "Account", master, false)
	if err := o.emu.Merge("Account", master, losers...); err != nil {
		t.Fatal(err)
	}
	r := o.queryAllPages("queryAll", "SELECT Id, IsDeleted, MasterRecordId FROM Account WHERE IsDeleted = true ORDER BY Id")[0]
	want := []map[string]any{
		{"Id": losers[0], "IsDeleted": true, "MasterRecordId": master},
		{"Id": losers[1], "IsDeleted": true, "MasterRecordId": master},
	}
	for _, rec := range r.Records {
		delete(rec, "attributes")
	}
	if diff := cmp.Diff(want, r.Records); diff != "" {
		t.Errorf("merged losers (-want +got):\n%s", diff)
	}
	if !stampOf(t, o.emu, "Account", master, false).After(before) {
		t.Error("master's SystemModstamp did not move")
	}
	if err := o.emu.Merge("Account", master, master); err == nil {
		t.Error("merging a record into itself succeeded")
	}
	if err := o.emu.Merge("Account", master, losers[0]); err == nil {
		t.Error("merging a deleted loser succeeded")
	}
	opps := truthIDs(o.emu, "Opportunity", false)
	if err := o.emu.Merge("Opportunity", opps[0], opps[1]); err == nil {
		t.Error("merging Opportunities succeeded")
	}
}

func TestLateCommit(t *testing.T) {
	o := newOrg(t, Options{Records: map[string]int{"Account": 300}})
	o.clock.Advance(time.Hour)
	accts := truthIDs(o.emu, "Account", false)
	for _, id := range accts[:5] {
		if err := o.emu.Update("Account", id, map[string]any{"Rating": "Hot"}); err != nil {
			t.Fatal(err)
		}
	}
	soql := "SELECT Id, SystemModstamp FROM Account ORDER BY SystemModstamp, Id"
	var open queryResult
	decode(t, o.get(queryPath("query", soql), "Sforce-Query-Options", "batchSize=200"), http.StatusOK, &open)

	late := accts[100]
	if err := o.emu.LateCommit("Account", late, map[string]any{"Rating": "Cold"}, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	lateStamp := o.clock.Now().Add(-10 * time.Minute)
	rec := o.emu.Truth("Account")[late]
	if !rec["SystemModstamp"].(time.Time).Equal(lateStamp) || !rec["LastModifiedDate"].(time.Time).Equal(lateStamp) {
		t.Errorf("late commit stamps %v / %v, want %s", rec["SystemModstamp"], rec["LastModifiedDate"], lateStamp)
	}
	created, err := o.emu.LateCreate("Account", map[string]any{"Name": "Late"}, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if c := o.emu.Truth("Account")[created]["CreatedDate"].(time.Time); !c.Equal(o.clock.Now().Add(-5 * time.Minute)) {
		t.Errorf("late create CreatedDate %s", c)
	}
	if err := o.emu.LateCommit("Account", "", map[string]any{"Name": "Late 2"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if n := len(o.emu.Truth("Account")); n != 302 {
		t.Errorf("%d accounts after two late creates, want 302", n)
	}

	// The open cursor does not see the late changes.
	recs := open.Records
	for next := open.NextRecordsURL; next != ""; {
		var p queryResult
		decode(t, o.get(next), http.StatusOK, &p)
		recs = append(recs, p.Records...)
		next = p.NextRecordsURL
	}
	if slices.Contains(ids(recs), created) || len(recs) != 300 {
		t.Errorf("open cursor returned %d records", len(recs))
	}
	// A window that ended before the late stamp was read earlier; a new
	// query over it finds the late record, in stamp order.
	window := fmt.Sprintf("SELECT Id, SystemModstamp FROM Account WHERE SystemModstamp >= %s ORDER BY SystemModstamp, Id",
		o.clock.Now().Add(-11*time.Minute).Format("2006-01-02T15:04:05Z"))
	got := ids(o.queryAllPages("query", window)[0].Records)
	// late (10 minutes ago), created (5), Late 2 (1), then the five
	// updates made at the clock's time.
	if len(got) != 8 || got[0] != late || got[1] != created || !slices.Equal(got[3:], accts[:5]) {
		t.Errorf("window after late commits: %v", got)
	}
	if err := o.emu.LateCommit("Account", late, nil, -time.Second); err == nil {
		t.Error("negative age accepted")
	}
}

func TestTouchSameSecond(t *testing.T) {
	o := newOrg(t, Options{Records: map[string]int{"Account": 1500}})
	o.clock.Advance(1500 * time.Millisecond)
	mustCreate(t, o.emu, "Account", map[string]any{"Name": "just before"})
	for _, n := range []int{5, 1200} {
		touched, err := o.emu.TouchSameSecond("Account", n)
		if err != nil {
			t.Fatal(err)
		}
		if len(touched) != n || !slices.IsSorted(touched) {
			t.Fatalf("touched %d Ids (sorted: %v)", len(touched), slices.IsSorted(touched))
		}
		truth := o.emu.Truth("Account")
		stamp := truth[touched[0]]["SystemModstamp"].(time.Time)
		if stamp.Nanosecond() != 0 {
			t.Errorf("shared stamp %s is not a whole second", stamp)
		}
		for id, rec := range truth {
			s := rec["SystemModstamp"].(time.Time)
			switch {
			case slices.Contains(touched, id) && !s.Equal(stamp):
				t.Fatalf("touched %s has stamp %s, want %s", id, s, stamp)
			case !slices.Contains(touched, id) && !s.Before(stamp):
				t.Fatalf("untouched %s has stamp %s, not before the shared %s", id, s, stamp)
			}
		}
		// Paging by (SystemModstamp, Id) keeps the touched records in Id order.
		q := fmt.Sprintf("SELECT Id FROM Account WHERE SystemModstamp = %s ORDER BY SystemModstamp, Id", stamp.Format("2006-01-02T15:04:05Z"))
		var got []string
		for _, p := range o.queryAllPages("query", q, "Sforce-Query-Options", "batchSize=200") {
			got = append(got, ids(p.Records)...)
		}
		if diff := cmp.Diff(touched, got); diff != "" {
			t.Errorf("query of the shared second (-want +got):\n%s", diff)
		}
	}
	id := mustCreate(t, o.emu, "Account", map[string]any{"Name": "after"})
	if !o.emu.Truth("Account")[id]["SystemModstamp"].(time.Time).After(o.clock.Now()) {
		t.Error("a write after the shared second is not stamped after it")
	}
	if _, err := o.emu.TouchSameSecond("Account", 5000); err == nil {
		t.Error("touching more records than exist succeeded")
	}
}

func TestSystemUpdate(t *testing.T) {
	o := newOrg(t, Options{Records: map[string]int{"Account": 5}})
	id := truthIDs(o.emu, "Account", false)[0]
	before := o.emu.Truth("Account")[id]
	o.clock.Advance(time.Minute)
	if err := o.emu.SystemUpdate("Account", id, map[string]any{"NumberOfEmployees": 77}); err != nil {
		t.Fatal(err)
	}
	after := o.emu.Truth("Account")[id]
	if !after["LastModifiedDate"].(time.Time).Equal(before["LastModifiedDate"].(time.Time)) {
		t.Error("LastModifiedDate moved on a system update")
	}
	if !after["SystemModstamp"].(time.Time).Equal(o.clock.Now()) || after["NumberOfEmployees"] != int64(77) {
		t.Errorf("after system update: %v %v", after["SystemModstamp"], after["NumberOfEmployees"])
	}
}

func TestFormulaDrift(t *testing.T) {
	o := newOrg(t, Options{})
	id := mustCreate(t, o.emu, "Account", map[string]any{"Name": "Acme", "BillingCity": "Oslo", "AnnualRevenue": 1000, "NumberOfEmployees": 8})
	rec := o.emu.Truth("Account")[id]
	if rec["Account_Label__c"] != "Acme - Oslo" || rec["Revenue_Per_Employee__c"] != 125.0 {
		t.Fatalf("formulas: %v, %v", rec["Account_Label__c"], rec["Revenue_Per_Employee__c"])
	}
	stamp := rec["SystemModstamp"]
	o.emu.SetFormulaDrift("Account", 42)
	rec = o.emu.Truth("Account")[id]
	if rec["Account_Label__c"] != "42" || rec["Revenue_Per_Employee__c"] != 42.0 || rec["SystemModstamp"] != stamp {
		t.Errorf("drifted: %v, %v, stamp %v", rec["Account_Label__c"], rec["Revenue_Per_Employee__c"], rec["SystemModstamp"])
	}
	r := o.queryAllPages("query", "SELECT Account_Label__c FROM Account WHERE Id = '"+id+"'")[0]
	if r.Records[0]["Account_Label__c"] != "42" {
		t.Errorf("query reads %v", r.Records[0]["Account_Label__c"])
	}
	o.emu.SetFormulaDrift("Account", nil)
	if got := o.emu.Truth("Account")[id]["Account_Label__c"]; got != "Acme - Oslo" {
		t.Errorf("after reset: %v", got)
	}
	opp := mustCreate(t, o.emu, "Opportunity", map[string]any{"Amount": 1000, "Probability": 25})
	if got := o.emu.Truth("Opportunity")[opp]["ExpectedRevenue"]; got != 250.0 {
		t.Errorf("ExpectedRevenue %v", got)
	}
}

func TestAddField(t *testing.T) {
	o := newOrg(t, Options{Records: map[string]int{"Account": 20}})
	if err := o.emu.AddField("Account", FieldDef{Name: "Score__c", Type: "double", Precision: 10, Scale: 2, Nillable: true}); err != nil {
		t.Fatal(err)
	}
	if err := o.emu.AddField("Account", FieldDef{Name: "Flag__c", Type: "boolean"}); err != nil {
		t.Fatal(err)
	}
	if err := o.emu.AddField("Account", FieldDef{Name: "Site_Loc__c", Type: "location"}); err != nil {
		t.Fatal(err)
	}
	if err := o.emu.AddField("Account", FieldDef{Name: "Double_Score__c", Type: "double", Formula: "Score__c * 2"}); err != nil {
		t.Fatal(err)
	}
	for id, rec := range o.emu.Truth("Account") {
		if rec["Score__c"] != nil || rec["Flag__c"] != false || rec["Site_Loc__Latitude__s"] != nil {
			t.Fatalf("%s: new fields %v %v %v, want null, false, null", id, rec["Score__c"], rec["Flag__c"], rec["Site_Loc__Latitude__s"])
		}
	}
	id := mustCreate(t, o.emu, "Account", map[string]any{"Name": "X", "Score__c": 1.5, "Site_Loc__Latitude__s": 1, "Site_Loc__Longitude__s": 2})
	r := o.queryAllPages("query", "SELECT Score__c, Double_Score__c, Site_Loc__c FROM Account WHERE Score__c > 1")[0]
	if r.TotalSize != 1 || r.Records[0]["Double_Score__c"] == nil {
		t.Fatalf("query of the new field: %+v", r)
	}
	if _, ok := o.emu.Truth("Account")[id]; !ok {
		t.Fatal("created record missing")
	}
	bad := []FieldDef{
		{Name: "Score__c", Type: "double"},
		{Name: "NoSuffix", Type: "string"},
		{Name: "Bad__c", Type: "blob"},
		{Name: "Pick__c", Type: "picklist"},
		{Name: "Ref__c", Type: "reference"},
		{Name: "F__c", Type: "double", Formula: "Nope__c + 1"},
		{Name: "Big__c", Type: "string", Length: 300},
	}
	for _, d := range bad {
		err := o.emu.AddField("Account", d)
		if err == nil || !strings.Contains(err.Error(), d.Name) {
			t.Errorf("AddField(%+v): %v, want an error naming the field", d, err)
		}
	}
	if err := o.emu.AddField("Nope", FieldDef{Name: "A__c"}); err == nil {
		t.Error("AddField on an unknown object succeeded")
	}
	def, ok := o.emu.Describe("Account")
	if !ok || !slices.ContainsFunc(def.Fields, func(f FieldDef) bool { return f.Name == "Double_Score__c" && f.Formula == "Score__c * 2" }) {
		t.Error("Describe lacks the new formula field")
	}
}

func TestUpdateRandom(t *testing.T) {
	run := func() (*Server, []string) {
		emu, err := New(Options{Seed: 5, Clock: newTestClock(), Records: map[string]int{"Account": 200}})
		if err != nil {
			t.Fatal(err)
		}
		ids, err := emu.UpdateRandom("Account", 25, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatal(err)
		}
		return emu, ids
	}
	a, ids := run()
	b, ids2 := run()
	if diff := cmp.Diff(ids, ids2); diff != "" {
		t.Errorf("UpdateRandom is not deterministic (-a +b):\n%s", diff)
	}
	if diff := cmp.Diff(a.Truth("Account"), b.Truth("Account")); diff != "" {
		t.Errorf("truth differs after the same updates (-a +b):\n%s", diff)
	}
	seen := map[string]bool{}
	latest := truthIDs(a, "Account", false)
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("%s updated twice", id)
		}
		seen[id] = true
	}
	if diff := cmp.Diff(ids, latest[len(latest)-25:]); diff != "" {
		t.Errorf("updated records are not the newest (-want +got):\n%s", diff)
	}
	if _, err := a.UpdateRandom("Account", 201, nil); err == nil {
		t.Error("updating more records than exist succeeded")
	}
}

func TestCreateValidation(t *testing.T) {
	o := newOrg(t, Options{})
	tests := []struct {
		object string
		fields map[string]any
		want   string // in the error
	}{
		{"Account", map[string]any{"Nope": 1}, `"Nope"`},
		{"Account", map[string]any{"SystemModstamp": time.Now()}, "SystemModstamp"},
		{"Account", map[string]any{"Id": "001000000000000AAA"}, "Id"},
		{"Account", map[string]any{"BillingAddress": "x"}, "BillingAddress"},
		{"Account", map[string]any{"Account_Label__c": "x"}, "Account_Label__c"},
		{"Account", map[string]any{"NumberOfEmployees": "many"}, "NumberOfEmployees"},
		{"Account", map[string]any{"NumberOfEmployees": 1.5}, "NumberOfEmployees"},
		{"Account", map[string]any{"AnnualRevenue": 1e30}, "AnnualRevenue"},
		{"Account", map[string]any{"Name": strings.Repeat("x", 256)}, "Name"},
		{"Account", map[string]any{"Name": nil}, "Name"},
		{"Account", map[string]any{"Active__c": nil}, "Active__c"},
		{"Account", map[string]any{"Customer_Since__c": "yesterday"}, "Customer_Since__c"},
		{"Account", map[string]any{"OwnerId": "not an id"}, "OwnerId"},
		{"Contact", map[string]any{"Birthdate": true}, "Birthdate"},
		{"Nope__c", nil, "Nope__c"},
	}
	for _, tt := range tests {
		_, err := o.emu.Create(tt.object, tt.fields)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Create(%s, %v): %v, want an error naming %s", tt.object, tt.fields, err, tt.want)
		}
	}
	id := mustCreate(t, o.emu, "Opportunity", nil)
	rec := o.emu.Truth("Opportunity")[id]
	for _, f := range []string{"Name", "StageName", "CloseDate", "OwnerId"} {
		if rec[f] == nil {
			t.Errorf("required %s left null", f)
		}
	}
	if rec["IsDeleted"] != false || rec["IsClosed"] == nil {
		t.Errorf("IsDeleted %v, IsClosed %v", rec["IsDeleted"], rec["IsClosed"])
	}
	c := mustCreate(t, o.emu, "contact", map[string]any{"firstname": "Ann", "LastName": "Lee", "Birthdate": "1990-05-06",
		"EmailBouncedDate": "2024-01-02T03:04:05.678+0100"})
	rec = o.emu.Truth("Contact")[c]
	want := map[string]any{
		"Name":             "Ann Lee",
		"Birthdate":        time.Date(1990, 5, 6, 0, 0, 0, 0, time.UTC),
		"EmailBouncedDate": time.Date(2024, 1, 2, 2, 4, 5, 678e6, time.UTC),
	}
	for k, v := range want {
		if !cmp.Equal(rec[k], v) {
			t.Errorf("%s = %v, want %v", k, rec[k], v)
		}
	}
}

func TestGenerationDeterministic(t *testing.T) {
	gen := func(seed int64) map[string]map[string]any {
		emu, err := New(Options{Seed: seed, Clock: newTestClock(), Records: map[string]int{"Account": 50, "Contact": 50}})
		if err != nil {
			t.Fatal(err)
		}
		return emu.Truth("Contact")
	}
	if diff := cmp.Diff(gen(1), gen(1)); diff != "" {
		t.Errorf("same seed, different data (-a +b):\n%s", diff)
	}
	if cmp.Equal(gen(1), gen(2)) {
		t.Error("different seeds give the same data")
	}
}

func TestTruthShape(t *testing.T) {
	o := newOrg(t, Options{Records: map[string]int{"Account": 30, "AccountHistory": 10, "RecentlyViewed": 4}})
	for id, rec := range o.emu.Truth("Account") {
		if rec["Id"] != id {
			t.Fatalf("Id field %v under key %s", rec["Id"], id)
		}
		for _, absent := range []string{"BillingAddress", "ShippingAddress", "HQ_Location__c"} {
			if _, ok := rec[absent]; ok {
				t.Fatalf("truth has compound parent %s", absent)
			}
		}
		for _, present := range []string{"BillingCity", "HQ_Location__Latitude__s", "Account_Label__c", "IsDeleted"} {
			if _, ok := rec[present]; !ok {
				t.Fatalf("truth lacks %s", present)
			}
		}
		for k, v := range rec {
			switch v.(type) {
			case nil, string, bool, int64, float64, time.Time:
			default:
				t.Fatalf("%s = %T", k, v)
			}
		}
	}
	if n := len(o.emu.Truth("AccountHistory")); n != 10 {
		t.Errorf("%d AccountHistory records, want 10", n)
	}
	if o.emu.Truth("Nope") != nil {
		t.Error("Truth of an unknown object is not nil")
	}
	users := o.emu.Truth("User")
	if len(users) != defaultUsers || users[o.emu.userID]["Username"] != defaultUsername {
		t.Errorf("%d users; integration user %v", len(users), users[o.emu.userID])
	}
}

func TestMutationsWhileQuerying(t *testing.T) {
	o := newOrg(t, Options{Records: map[string]int{"Account": 3000}})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		rnd := rand.New(rand.NewPCG(9, 9))
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := o.emu.UpdateRandom("Account", 20, rnd); err != nil {
				t.Error(err)
				return
			}
			if _, err := o.emu.Create("Account", map[string]any{"Name": "concurrent"}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for i := 0; i < 3; i++ {
		pages := o.queryAllPages("queryAll", "SELECT Id, Name, SystemModstamp FROM Account ORDER BY SystemModstamp, Id",
			"Sforce-Query-Options", "batchSize=200")
		seen := map[string]bool{}
		for _, p := range pages {
			for _, id := range ids(p.Records) {
				if seen[id] {
					t.Fatalf("%s twice in one snapshot", id)
				}
				seen[id] = true
			}
		}
		if len(seen) != pages[0].TotalSize {
			t.Errorf("%d records, totalSize %d", len(seen), pages[0].TotalSize)
		}
	}
	close(stop)
	wg.Wait()
}
