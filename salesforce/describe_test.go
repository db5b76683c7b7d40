package salesforce

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
)

func TestObjects(t *testing.T) {
	o := newOrg(t)
	o.handle("GET /sobjects", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"encoding":"UTF-8","maxBatchSize":200,"sobjects":[
			{"activateable":false,"createable":true,"custom":false,"keyPrefix":"001","label":"Account","labelPlural":"Accounts",
			 "name":"Account","queryable":true,"replicateable":true,"retrieveable":true,"searchable":true,
			 "urls":{"sobject":"/services/data/v62.0/sobjects/Account"}},
			{"custom":true,"keyPrefix":null,"label":"Invoice","name":"Invoice__c","queryable":true,"replicateable":false,"retrieveable":true},
			{"custom":false,"keyPrefix":"1CE","label":"Account Change Event","name":"AccountChangeEvent","queryable":false,"replicateable":false,"retrieveable":false}
		]}`)
	})
	c := o.client(nil)
	got, err := c.Objects(t.Context())
	if err != nil {
		t.Fatalf("Objects: %v", err)
	}
	want := []sfsync.ObjectInfo{
		{Name: "Account", Label: "Account", Queryable: true, Replicateable: true, Retrieveable: true, KeyPrefix: "001"},
		{Name: "Invoice__c", Label: "Invoice", Custom: true, Queryable: true, Retrieveable: true},
		{Name: "AccountChangeEvent", Label: "Account Change Event", KeyPrefix: "1CE"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Objects (-want +got):\n%s", d)
	}
}

// describeFields has one field of every describe type, and two types the
// client has never heard of.
const describeFields = `[
 {"name":"Id","label":"Account ID","type":"id","soapType":"tns:ID","length":18,"byteLength":18,"nillable":false,"filterable":true,"sortable":true,"referenceTo":[],"calculatedFormula":null,"compoundFieldName":null},
 {"name":"Name","label":"Account Name","type":"string","length":255,"nillable":false,"filterable":true,"sortable":true,"referenceTo":[]},
 {"name":"Rating","type":"picklist","length":255,"nillable":true,"picklistValues":[{"active":true,"value":"Hot"}]},
 {"name":"Tags__c","type":"multipicklist","length":4099,"nillable":true,"custom":true,"filterable":true,"sortable":false},
 {"name":"Kind__c","type":"combobox","length":40,"custom":true},
 {"name":"OwnerId","type":"reference","length":18,"nillable":false,"referenceTo":["Group","User"],"relationshipName":"Owner","polymorphicForeignKey":true,"filterable":true,"sortable":true},
 {"name":"Logo__c","type":"base64","length":32000000,"custom":true},
 {"name":"IsDeleted","type":"boolean","nillable":false,"filterable":true,"sortable":true},
 {"name":"AnnualRevenue","label":"Annual Revenue","type":"currency","soapType":"xsd:double","precision":18,"scale":2,"nillable":true,"filterable":true,"sortable":true},
 {"name":"Description","type":"textarea","length":32000,"filterable":false,"sortable":false},
 {"name":"NumberOfEmployees","type":"int","digits":8,"nillable":true},
 {"name":"Score__c","type":"double","precision":18,"scale":6,"custom":true},
 {"name":"Share__c","type":"percent","precision":5,"scale":2,"custom":true},
 {"name":"Phone","type":"phone","length":40},
 {"name":"Since__c","type":"date","custom":true},
 {"name":"SystemModstamp","type":"datetime","nillable":false,"filterable":true,"sortable":true},
 {"name":"Opens__c","type":"time","custom":true},
 {"name":"Website","type":"url","length":255},
 {"name":"Email__c","type":"email","length":80,"custom":true},
 {"name":"Secret__c","type":"encryptedstring","length":175,"custom":true,"filterable":false},
 {"name":"Category__c","type":"datacategorygroupreference","length":40,"custom":true},
 {"name":"HQ__c","type":"location","custom":true,"compoundFieldName":null},
 {"name":"HQ__Latitude__s","type":"double","precision":18,"scale":15,"custom":true,"compoundFieldName":"HQ__c"},
 {"name":"BillingAddress","type":"address","filterable":false,"sortable":false},
 {"name":"BillingStreet","type":"textarea","length":255,"compoundFieldName":"BillingAddress"},
 {"name":"Anything__c","type":"anyType","custom":true},
 {"name":"Config__c","type":"complexvalue","custom":true},
 {"name":"Big__c","type":"long","digits":18,"custom":true},
 {"name":"Doc__c","type":"json","custom":true},
 {"name":"Total__c","type":"currency","precision":18,"scale":2,"calculated":true,"calculatedFormula":"Amount__c * 2","custom":true},
 {"name":"Wide__c","type":"double","precision":0,"scale":0,"custom":true},
 {"name":"Flags__c","type":"byte","custom":true},
 {"name":"MasterRecordId","type":"masterrecord","referenceTo":["Account"]}
]`

func TestDescribe(t *testing.T) {
	o := newOrg(t)
	o.handle("GET /sobjects/{object}/describe", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("object") != "Account" {
			writeJSON(w, 404, `[{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}]`)
			return
		}
		writeJSON(w, 200, `{"name":"Account","label":"Account","custom":false,"keyPrefix":"001","queryable":true,
			"replicateable":true,"retrieveable":true,"childRelationships":[],"recordTypeInfos":[],"fields":`+describeFields+`}`)
	})
	c := o.client(nil)
	obj, err := c.Describe(t.Context(), "Account")
	if err != nil {
		t.Fatalf("Describe: %v", err)
	}
	if d := cmp.Diff(sfsync.ObjectInfo{Name: "Account", Label: "Account", Queryable: true, Replicateable: true, Retrieveable: true, KeyPrefix: "001"}, obj.ObjectInfo); d != "" {
		t.Errorf("ObjectInfo (-want +got):\n%s", d)
	}
	type row struct {
		Type sfsync.FieldType
		Kind sfsync.Kind
	}
	gotKinds := map[string]row{}
	for _, f := range obj.Fields {
		gotKinds[f.Name] = row{f.Type, f.Kind()}
	}
	wantKinds := map[string]row{
		"Id": {"id", sfsync.KindString}, "Name": {"string", sfsync.KindString}, "Rating": {"picklist", sfsync.KindString},
		"Tags__c": {"multipicklist", sfsync.KindString}, "Kind__c": {"combobox", sfsync.KindString},
		"OwnerId": {"reference", sfsync.KindString}, "Logo__c": {"base64", sfsync.KindString},
		"IsDeleted": {"boolean", sfsync.KindBool}, "AnnualRevenue": {"currency", sfsync.KindDecimal},
		"Description": {"textarea", sfsync.KindString}, "NumberOfEmployees": {"int", sfsync.KindInt},
		"Score__c": {"double", sfsync.KindDecimal}, "Share__c": {"percent", sfsync.KindDecimal},
		"Phone": {"phone", sfsync.KindString}, "Since__c": {"date", sfsync.KindDate},
		"SystemModstamp": {"datetime", sfsync.KindDateTime}, "Opens__c": {"time", sfsync.KindTime},
		"Website": {"url", sfsync.KindString}, "Email__c": {"email", sfsync.KindString},
		"Secret__c": {"encryptedstring", sfsync.KindString}, "Category__c": {"datacategorygroupreference", sfsync.KindString},
		"HQ__c": {"location", sfsync.KindCompound}, "HQ__Latitude__s": {"double", sfsync.KindDecimal},
		"BillingAddress": {"address", sfsync.KindCompound}, "BillingStreet": {"textarea", sfsync.KindString},
		"Anything__c": {"anyType", sfsync.KindString}, "Config__c": {"complexvalue", sfsync.KindString},
		"Big__c": {"long", sfsync.KindInt}, "Doc__c": {"json", sfsync.KindString},
		"Total__c": {"currency", sfsync.KindDecimal}, "Wide__c": {"double", sfsync.KindFloat},
		"Flags__c": {"byte", sfsync.KindString}, "MasterRecordId": {"masterrecord", sfsync.KindString},
	}
	if d := cmp.Diff(wantKinds, gotKinds); d != "" {
		t.Errorf("types and kinds (-want +got):\n%s", d)
	}
	if obj.Fields[0].Name != "Id" || obj.Fields[len(obj.Fields)-1].Name != "MasterRecordId" {
		t.Errorf("describe order lost: first %s, last %s", obj.Fields[0].Name, obj.Fields[len(obj.Fields)-1].Name)
	}
	details := map[string]sfsync.Field{}
	for _, f := range obj.Fields {
		details[f.Name] = f
	}
	wantDetails := map[string]sfsync.Field{
		"Id":                {Name: "Id", Label: "Account ID", Type: "id", Length: 18, Filterable: true, Sortable: true},
		"OwnerId":           {Name: "OwnerId", Type: "reference", Length: 18, Filterable: true, Sortable: true, ReferenceTo: []string{"Group", "User"}},
		"AnnualRevenue":     {Name: "AnnualRevenue", Label: "Annual Revenue", Type: "currency", Precision: 18, Scale: 2, Nillable: true, Filterable: true, Sortable: true},
		"NumberOfEmployees": {Name: "NumberOfEmployees", Type: "int", Digits: 8, Nillable: true},
		"Total__c":          {Name: "Total__c", Type: "currency", Precision: 18, Scale: 2, Calculated: true, Formula: "Amount__c * 2", Custom: true},
		"BillingStreet":     {Name: "BillingStreet", Type: "textarea", Length: 255, CompoundName: "BillingAddress"},
		"HQ__Latitude__s":   {Name: "HQ__Latitude__s", Type: "double", Precision: 18, Scale: 15, Custom: true, CompoundName: "HQ__c"},
	}
	for name, want := range wantDetails {
		if d := cmp.Diff(want, details[name]); d != "" {
			t.Errorf("field %s (-want +got):\n%s", name, d)
		}
	}

	_, err = c.Describe(t.Context(), "Nope__c")
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Object != "Nope__c" || !errors.Is(err, sfsync.ErrPermanent) {
		t.Errorf("Describe(Nope__c) = %v, want a permanent NOT_FOUND naming the object", err)
	}
	_, err = c.Describe(t.Context(), "../limits")
	if err == nil || !errors.Is(err, sfsync.ErrPermanent) || !strings.Contains(err.Error(), "not a Salesforce object name") {
		t.Errorf("Describe(../limits) = %v", err)
	}
}

func TestVersions(t *testing.T) {
	o := newOrg(t)
	o.mux.HandleFunc("GET /services/data/", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			writeJSON(w, 400, `[{"message":"no auth expected","errorCode":"TEST"}]`)
			return
		}
		writeJSON(w, 200, `[{"label":"Spring '24","url":"/services/data/v60.0","version":"60.0"},{"label":"Winter '25","url":"/services/data/v62.0","version":"62.0"}]`)
	})
	c := o.client(nil)
	got, err := c.Versions(t.Context())
	if err != nil {
		t.Fatalf("Versions: %v", err)
	}
	want := []Version{{"Spring '24", "/services/data/v60.0", "60.0"}, {"Winter '25", "/services/data/v62.0", "62.0"}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Versions (-want +got):\n%s", d)
	}
	if n := o.loginCount(); n != 0 {
		t.Errorf("Versions logged in %d times", n)
	}
}

func TestUpdatedAndDeleted(t *testing.T) {
	o := newOrg(t)
	var queries []string
	o.handle("GET /sobjects/{object}/updated/", func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		writeJSON(w, 200, `{"ids":["001RO000003KZ3oYAG","001RO000003KZ3pYAG"],"latestDateCovered":"2024-05-08T21:20:00.000+0000"}`)
	})
	o.handle("GET /sobjects/{object}/deleted/", func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		writeJSON(w, 200, `{"deletedRecords":[{"id":"001RO000003KZ3qYAG","deletedDate":"2024-05-07T22:07:19.000+0000"}],
			"earliestDateAvailable":"2024-05-03T15:57:00.000+0000","latestDateCovered":"2024-05-08T21:20:00.000+0000"}`)
	})
	c := o.client(nil)
	start := time.Date(2024, 5, 6, 0, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	end := time.Date(2024, 5, 9, 12, 30, 15, 0, time.UTC)
	up, err := c.Updated(t.Context(), "Account", start, end)
	if err != nil {
		t.Fatalf("Updated: %v", err)
	}
	wantUp := &UpdatedResult{IDs: []string{"001RO000003KZ3oYAG", "001RO000003KZ3pYAG"}, LatestDateCovered: time.Date(2024, 5, 8, 21, 20, 0, 0, time.UTC)}
	if d := cmp.Diff(wantUp, up); d != "" {
		t.Errorf("Updated (-want +got):\n%s", d)
	}
	del, err := c.Deleted(t.Context(), "Account", start, end)
	if err != nil {
		t.Fatalf("Deleted: %v", err)
	}
	wantDel := &DeletedResult{
		Records:               []DeletedRecord{{ID: "001RO000003KZ3qYAG", DeletedDate: time.Date(2024, 5, 7, 22, 7, 19, 0, time.UTC)}},
		EarliestDateAvailable: time.Date(2024, 5, 3, 15, 57, 0, 0, time.UTC),
		LatestDateCovered:     time.Date(2024, 5, 8, 21, 20, 0, 0, time.UTC),
	}
	if d := cmp.Diff(wantDel, del); d != "" {
		t.Errorf("Deleted (-want +got):\n%s", d)
	}
	for _, q := range queries {
		if strings.Contains(q, "+") {
			t.Errorf("raw query %q has a raw '+'", q)
		}
		v, _ := url.ParseQuery(q)
		if v.Get("start") != "2024-05-05T22:00:00+00:00" || v.Get("end") != "2024-05-09T12:30:15+00:00" {
			t.Errorf("start/end = %q/%q", v.Get("start"), v.Get("end"))
		}
	}
	if _, err := c.Updated(t.Context(), "Account", end, start); err == nil || !errors.Is(err, sfsync.ErrPermanent) {
		t.Errorf("Updated with end before start = %v", err)
	}
}

func TestDescribeBadJSONIsPermanent(t *testing.T) {
	o := newOrg(t)
	o.handle("GET /sobjects/{object}/describe", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"name":"Account","fields":[{"name":"Id","type":7}]}`)
	})
	c := o.client(nil)
	_, err := c.Describe(t.Context(), "Account")
	if err == nil || !errors.Is(err, sfsync.ErrPermanent) {
		t.Errorf("Describe = %v, want permanent", err)
	}
}
