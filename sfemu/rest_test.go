package sfemu

import (
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestVersions(t *testing.T) {
	o := newOrg(t, Options{})
	o.token = "" // no token needed
	for _, path := range []string{"/services/data/", "/services/data"} {
		var got []versionInfo
		resp := o.get(path)
		decode(t, resp, http.StatusOK, &got)
		want := []versionInfo{
			{Label: "Summer '23", URL: "/services/data/v58.0", Version: "58.0"},
			{Label: "Winter '24", URL: "/services/data/v59.0", Version: "59.0"},
			{Label: "Spring '24", URL: "/services/data/v60.0", Version: "60.0"},
			{Label: "Summer '24", URL: "/services/data/v61.0", Version: "61.0"},
			{Label: "Winter '25", URL: "/services/data/v62.0", Version: "62.0"},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", path, diff)
		}
		if h := resp.Header.Get("Sforce-Limit-Info"); h != "api-usage=0/100000" {
			t.Errorf("Sforce-Limit-Info %q", h)
		}
	}
	if n := o.emu.RequestCount(); n != 0 {
		t.Errorf("RequestCount = %d; the versions list is not counted", n)
	}
}

func TestVersionsOption(t *testing.T) {
	o := newOrg(t, Options{APIVersions: []string{"66.0", "63.0"}})
	decode(t, o.get("/services/data/v66.0/limits"), http.StatusOK, nil)
	wantError(t, o.get("/services/data/v62.0/limits"), http.StatusNotFound, "NOT_FOUND")
	var got []versionInfo
	decode(t, o.get("/services/data/"), http.StatusOK, &got)
	if len(got) != 2 || got[0].Label != "Spring '25" || got[1].Label != "Spring '26" {
		t.Errorf("versions %+v", got)
	}
	if _, err := New(Options{APIVersions: []string{"v62"}}); err == nil {
		t.Error("New accepted API version \"v62\"")
	}
}

func TestUnknownRoutes(t *testing.T) {
	o := newOrg(t, Options{})
	tests := []struct {
		path   string
		status int
		code   string
	}{
		{"/services/data/v12.0/limits", http.StatusNotFound, "NOT_FOUND"},
		{"/services/data/62.0/limits", http.StatusNotFound, "NOT_FOUND"},
		{"/services/data/v62.0/nothing/here", http.StatusNotFound, "NOT_FOUND"},
		{"/services/data/v62.0/sobjects/Nope__c/describe", http.StatusNotFound, "NOT_FOUND"},
		{"/elsewhere", http.StatusNotFound, "NOT_FOUND"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			wantError(t, o.get(tt.path), tt.status, tt.code)
		})
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, o.url+"/services/data/v62.0/limits", nil)
	req.Header.Set("Authorization", "Bearer "+o.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	wantError(t, resp, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
}

func TestDateHeader(t *testing.T) {
	o := newOrg(t, Options{})
	o.clock.Advance(90 * time.Minute)
	for _, path := range []string{"/services/data/v62.0/limits", "/services/data/", "/_emulator/stats", "/nowhere"} {
		resp := o.get(path)
		resp.Body.Close()
		got, err := http.ParseTime(resp.Header.Get("Date"))
		if err != nil || !got.Equal(o.clock.Now()) {
			t.Errorf("%s: Date %q, want %s", path, resp.Header.Get("Date"), o.clock.Now().Format(http.TimeFormat))
		}
	}
}

func TestLimitsAndUsage(t *testing.T) {
	o := newOrg(t, Options{DailyAPILimit: 5})
	type limits struct {
		DailyAPIRequests struct {
			Max       int64
			Remaining int64
		} `json:"DailyApiRequests"`
	}
	for i := 1; i <= 3; i++ {
		var l limits
		resp := o.get("/services/data/v62.0/limits")
		if h, want := resp.Header.Get("Sforce-Limit-Info"), "api-usage="+string(rune('0'+i))+"/5"; h != want {
			t.Errorf("request %d: Sforce-Limit-Info %q, want %q", i, h, want)
		}
		decode(t, resp, http.StatusOK, &l)
		if l.DailyAPIRequests.Max != 5 || l.DailyAPIRequests.Remaining != int64(5-i) {
			t.Errorf("request %d: DailyApiRequests %+v", i, l.DailyAPIRequests)
		}
	}
	o.emu.SetAPIUsage(4)
	decode(t, o.get("/services/data/v62.0/sobjects"), http.StatusOK, nil)
	resp := o.get("/services/data/v62.0/sobjects")
	if msg := wantError(t, resp, http.StatusForbidden, "REQUEST_LIMIT_EXCEEDED"); msg != "TotalRequests Limit exceeded." {
		t.Errorf("message %q", msg)
	}
	if h := resp.Header.Get("Sforce-Limit-Info"); h != "api-usage=5/5" {
		t.Errorf("Sforce-Limit-Info %q after the limit", h)
	}
	if n := o.emu.RequestCount(); n != 4 {
		t.Errorf("RequestCount = %d, want 4", n)
	}
	o.emu.SetAPIUsage(0)
	decode(t, o.get("/services/data/v62.0/sobjects"), http.StatusOK, nil)
}

type globalDescribe struct {
	Encoding     string           `json:"encoding"`
	MaxBatchSize int              `json:"maxBatchSize"`
	SObjects     []map[string]any `json:"sobjects"`
}

func TestDescribeGlobal(t *testing.T) {
	o := newOrg(t, Options{Custom: []ObjectDef{{Name: "Invoice__c", Fields: []FieldDef{{Name: "Total__c", Type: "currency"}}}}})
	var g globalDescribe
	decode(t, o.get("/services/data/v62.0/sobjects"), http.StatusOK, &g)
	byName := map[string]map[string]any{}
	var names []string
	for _, e := range g.SObjects {
		byName[e["name"].(string)] = e
		names = append(names, e["name"].(string))
	}
	want := []string{"Account", "AccountHistory", "Contact", "Invoice__c", "Lead", "Opportunity", "RecentlyViewed", "User"}
	sort.Strings(names)
	if diff := cmp.Diff(want, names); diff != "" {
		t.Fatalf("objects (-want +got):\n%s", diff)
	}
	check := func(name, prop string, want any) {
		t.Helper()
		if got := byName[name][prop]; !cmp.Equal(got, want) {
			t.Errorf("%s.%s = %v, want %v", name, prop, got, want)
		}
	}
	check("Account", "keyPrefix", "001")
	check("Account", "replicateable", true)
	check("Account", "queryable", true)
	check("Account", "mergeable", true)
	check("Account", "custom", false)
	check("Lead", "keyPrefix", "00Q")
	check("Invoice__c", "custom", true)
	check("Invoice__c", "keyPrefix", "a01")
	check("RecentlyViewed", "replicateable", false)
	check("RecentlyViewed", "keyPrefix", nil)
	var basic struct {
		ObjectDescribe map[string]any `json:"objectDescribe"`
	}
	decode(t, o.get("/services/data/v62.0/sobjects/invoice__c"), http.StatusOK, &basic)
	if basic.ObjectDescribe["name"] != "Invoice__c" {
		t.Errorf("sobject basic info %v", basic.ObjectDescribe)
	}
	urls := byName["Account"]["urls"].(map[string]any)
	if urls["describe"] != "/services/data/v62.0/sobjects/Account/describe" {
		t.Errorf("urls %v", urls)
	}
	for _, prop := range []string{"activateable", "createable", "customSetting", "deletable", "deprecatedAndHidden",
		"feedEnabled", "label", "labelPlural", "layoutable", "retrieveable", "searchable", "triggerable", "undeletable", "updateable"} {
		if _, ok := byName["Contact"][prop]; !ok {
			t.Errorf("describe global entry lacks %s", prop)
		}
	}
}

// fieldProperties are every field property of the describe reference.
var fieldProperties = strings.Fields(`aggregatable autoNumber byteLength calculated calculatedFormula cascadeDelete
caseSensitive compoundFieldName controllerName createable custom defaultValue defaultValueFormula defaultedOnCreate
dependentPicklist deprecatedAndHidden digits displayLocationInDecimal encrypted externalId extraTypeInfo filterable
filteredLookupInfo groupable highScaleNumber htmlFormatted idLookup inlineHelpText label length mask maskType name
nameField namePointing nillable permissionable picklistValues polymorphicForeignKey precision queryByDistance
referenceTargetField referenceTo relationshipName relationshipOrder restrictedDelete restrictedPicklist scale soapType
sortable type unique updateable writeRequiresMasterRead`)

func describe(t *testing.T, o *org, object string) map[string]map[string]any {
	t.Helper()
	var d struct {
		Name   string           `json:"name"`
		Fields []map[string]any `json:"fields"`
	}
	decode(t, o.get("/services/data/v62.0/sobjects/"+object+"/describe"), http.StatusOK, &d)
	out := map[string]map[string]any{}
	for _, f := range d.Fields {
		for _, p := range fieldProperties {
			if _, ok := f[p]; !ok {
				t.Errorf("%s.%v lacks property %s", object, f["name"], p)
			}
		}
		out[f["name"].(string)] = f
	}
	return out
}

func TestDescribeFields(t *testing.T) {
	o := newOrg(t, Options{})
	acct := describe(t, o, "account")
	tests := []struct {
		object, field string
		props         map[string]any
	}{
		{"Account", "Id", map[string]any{"type": "id", "soapType": "tns:ID", "length": "18", "nillable": false, "createable": false}},
		{"Account", "AnnualRevenue", map[string]any{"type": "currency", "soapType": "xsd:double", "precision": "18", "scale": "0", "calculated": false}},
		{"Opportunity", "Amount", map[string]any{"type": "currency", "precision": "16", "scale": "2"}},
		{"Opportunity", "ExpectedRevenue", map[string]any{"calculated": true, "calculatedFormula": "Amount * Probability / 100", "custom": false}},
		{"Account", "Revenue_Per_Employee__c", map[string]any{"calculated": true, "custom": true, "type": "currency"}},
		{"Account", "NumberOfEmployees", map[string]any{"type": "int", "soapType": "xsd:int", "digits": "8"}},
		{"Account", "Name", map[string]any{"type": "string", "length": "255", "byteLength": "765", "nameField": true, "nillable": false}},
		{"Account", "OwnerId", map[string]any{"type": "reference", "referenceTo": []any{"User"}, "relationshipName": "Owner", "polymorphicForeignKey": false}},
		{"Lead", "OwnerId", map[string]any{"referenceTo": []any{"Group", "User"}, "polymorphicForeignKey": true, "namePointing": true}},
		{"Account", "MasterRecordId", map[string]any{"type": "reference", "referenceTo": []any{"Account"}}},
		{"Contact", "MasterRecordId", map[string]any{"type": "reference"}},
		{"Lead", "MasterRecordId", map[string]any{"type": "reference"}},
		{"Account", "BillingStreet", map[string]any{"type": "textarea", "compoundFieldName": "BillingAddress", "filterable": true}},
		{"Account", "BillingLatitude", map[string]any{"type": "double", "precision": "18", "scale": "15", "compoundFieldName": "BillingAddress"}},
		{"Account", "BillingAddress", map[string]any{"type": "address", "soapType": "urn:address", "compoundFieldName": nil, "filterable": false, "sortable": false}},
		{"Account", "HQ_Location__c", map[string]any{"type": "location", "soapType": "urn:location", "custom": true}},
		{"Account", "HQ_Location__Latitude__s", map[string]any{"type": "double", "compoundFieldName": "HQ_Location__c", "precision": "18", "scale": "15"}},
		{"Account", "Description", map[string]any{"type": "textarea", "length": "32000", "filterable": false, "sortable": false}},
		{"Account", "Segments__c", map[string]any{"type": "multipicklist", "sortable": false}},
		{"Account", "Preferred_Call_Time__c", map[string]any{"type": "time", "soapType": "xsd:time"}},
		{"Account", "Customer_Since__c", map[string]any{"type": "date", "soapType": "xsd:date"}},
		{"Account", "SystemModstamp", map[string]any{"type": "datetime", "soapType": "xsd:dateTime", "createable": false, "updateable": false}},
		{"Account", "IsDeleted", map[string]any{"type": "boolean", "defaultValue": false, "nillable": false}},
		{"Account", "Website", map[string]any{"type": "url"}},
		{"Contact", "Email", map[string]any{"type": "email", "length": "80"}},
		{"Contact", "Phone", map[string]any{"type": "phone"}},
		{"Contact", "FirstName", map[string]any{"compoundFieldName": "Name"}},
		{"Account", "Rating", map[string]any{"type": "picklist", "picklistValues": []any{
			map[string]any{"active": true, "defaultValue": false, "label": "Hot", "validFor": nil, "value": "Hot"},
			map[string]any{"active": true, "defaultValue": false, "label": "Warm", "validFor": nil, "value": "Warm"},
			map[string]any{"active": true, "defaultValue": false, "label": "Cold", "validFor": nil, "value": "Cold"},
		}}},
	}
	described := map[string]map[string]map[string]any{"Account": acct}
	for _, tt := range tests {
		t.Run(tt.object+"."+tt.field, func(t *testing.T) {
			fields, ok := described[tt.object]
			if !ok {
				fields = describe(t, o, tt.object)
				described[tt.object] = fields
			}
			f, ok := fields[tt.field]
			if !ok {
				t.Fatalf("no field %s", tt.field)
			}
			got := map[string]any{}
			for k := range tt.props {
				got[k] = f[k]
				if n, isNum := f[k].(interface{ String() string }); isNum {
					got[k] = n.String()
				}
			}
			if diff := cmp.Diff(tt.props, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	hist := describe(t, o, "AccountHistory")
	for _, name := range []string{"SystemModstamp", "LastModifiedDate"} {
		if _, ok := hist[name]; ok {
			t.Errorf("AccountHistory has %s", name)
		}
	}
	if _, ok := hist["CreatedDate"]; !ok {
		t.Error("AccountHistory lacks CreatedDate")
	}
	if len(acct) < 30 {
		t.Errorf("Account has %d fields, want about 30 or more", len(acct))
	}
}

func TestDescribeIfModifiedSince(t *testing.T) {
	o := newOrg(t, Options{})
	path := "/services/data/v62.0/sobjects/Account/describe"
	resp := o.get(path)
	lastMod := resp.Header.Get("Last-Modified")
	decode(t, resp, http.StatusOK, nil)
	for _, ims := range []string{lastMod, o.clock.Now().Add(time.Hour).Format(http.TimeFormat)} {
		resp = o.get(path, "If-Modified-Since", ims)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotModified {
			t.Fatalf("If-Modified-Since %s: status %d, want 304", ims, resp.StatusCode)
		}
	}
	// The clock stands still, yet the schema change must be seen.
	if err := o.emu.AddField("Account", FieldDef{Name: "Tier__c", Type: "picklist", PicklistValues: []string{"Gold", "Silver"}, Nillable: true}); err != nil {
		t.Fatal(err)
	}
	resp = o.get(path, "If-Modified-Since", lastMod)
	if resp.Header.Get("Last-Modified") == lastMod {
		t.Error("Last-Modified did not move after AddField")
	}
	if _, ok := describeBody(t, resp)["Tier__c"]; !ok {
		t.Error("describe after AddField lacks Tier__c")
	}
	// Other objects did not change.
	resp = o.get("/services/data/v62.0/sobjects/Contact/describe", "If-Modified-Since", lastMod)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("Contact: status %d, want 304", resp.StatusCode)
	}
}

// describeBody decodes a 200 describe response into its field names.
func describeBody(t *testing.T, resp *http.Response) map[string]bool {
	t.Helper()
	var d struct {
		Fields []struct {
			Name string `json:"name"`
		} `json:"fields"`
	}
	decode(t, resp, http.StatusOK, &d)
	out := map[string]bool{}
	for _, f := range d.Fields {
		out[f.Name] = true
	}
	return out
}
