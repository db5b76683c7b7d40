package sfemu

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// admin posts a JSON body to an admin action and decodes the answer.
func (o *org) admin(action string, body any, status int, out any) {
	o.t.Helper()
	adminPost(o.t, o.url, action, body, status, out)
}

func adminPost(t *testing.T, base, action string, body any, status int, out any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/_emulator/"+action, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	decode(t, resp, status, out)
}

type obj = map[string]any

func TestAdminMutations(t *testing.T) {
	o := newOrg(t, Options{Records: map[string]int{"Account": 10}})
	var created idResult
	o.admin("create", obj{"object": "Account", "fields": obj{"Name": "Admin Co", "NumberOfEmployees": 12, "Customer_Since__c": "2020-02-03"}}, 200, &created)
	truth := o.emu.Truth("Account")[created.ID]
	if truth["Name"] != "Admin Co" || truth["NumberOfEmployees"] != int64(12) {
		t.Fatalf("created %v", truth)
	}
	o.admin("update", obj{"object": "Account", "id": created.ID, "fields": obj{"Name": "Renamed"}}, 200, nil)
	o.admin("system-update", obj{"object": "Account", "id": created.ID, "fields": obj{"Rating": "Hot"}}, 200, nil)
	if got := o.emu.Truth("Account")[created.ID]; got["Name"] != "Renamed" || got["Rating"] != "Hot" {
		t.Errorf("after updates: %v %v", got["Name"], got["Rating"])
	}

	var rnd idsResult
	o.admin("update-random", obj{"object": "Account", "n": 3, "seed": 4}, 200, &rnd)
	if len(rnd.IDs) != 3 {
		t.Errorf("update-random ids %v", rnd.IDs)
	}
	var touched idsResult
	o.admin("touch-same-second", obj{"object": "Account", "n": 2}, 200, &touched)
	if len(touched.IDs) != 2 {
		t.Errorf("touch-same-second ids %v", touched.IDs)
	}

	accts := truthIDs(o.emu, "Account", false)
	o.admin("merge", obj{"object": "Account", "masterId": accts[0], "loserIds": []string{accts[1]}}, 200, nil)
	o.admin("delete", obj{"object": "Account", "id": accts[2]}, 200, nil)
	o.admin("undelete", obj{"object": "Account", "id": accts[2]}, 200, nil)
	o.admin("purge", obj{"object": "Account", "id": accts[3]}, 200, nil)
	all := o.emu.TruthAll("Account")
	if all[accts[1]]["MasterRecordId"] != accts[0] || all[accts[2]]["IsDeleted"] != false {
		t.Errorf("merge/undelete: %v %v", all[accts[1]]["MasterRecordId"], all[accts[2]]["IsDeleted"])
	}
	if _, ok := all[accts[3]]; ok {
		t.Error("purged record still there")
	}

	var late idResult
	o.admin("late-commit", obj{"object": "Account", "fields": obj{"Name": "Late"}, "age": "10m"}, 200, &late)
	if s := o.emu.Truth("Account")[late.ID]["SystemModstamp"].(time.Time); !s.Equal(o.clock.Now().Add(-10 * time.Minute)) {
		t.Errorf("late-commit stamp %s", s)
	}
	o.admin("late-commit", obj{"object": "Account", "id": accts[4], "fields": obj{"Name": "Late too"}, "age": "1h"}, 200, nil)

	o.admin("add-field", obj{"object": "Account", "field": obj{"name": "Tier__c", "type": "picklist", "picklistValues": []string{"A", "B"}, "nillable": true}}, 200, nil)
	if def, _ := o.emu.Describe("Account"); def.Fields[len(def.Fields)-1].Name != "Tier__c" {
		t.Error("add-field did not add Tier__c")
	}
	o.admin("formula-drift", obj{"object": "Account", "value": "drifted"}, 200, nil)
	if got := o.emu.Truth("Account")[created.ID]["Account_Label__c"]; got != "drifted" {
		t.Errorf("formula-drift: %v", got)
	}
	o.admin("formula-drift", obj{"object": "Account", "value": nil}, 200, nil)
	if got := o.emu.Truth("Account")[created.ID]["Account_Label__c"]; got != "Renamed - " {
		t.Errorf("formula-drift reset: %v", got)
	}
}

func TestAdminControl(t *testing.T) {
	o := newOrg(t, Options{Records: map[string]int{"Account": 3}})
	o.admin("faults", obj{"kind": "unavailable", "route": "limits", "times": 1}, 200, nil)
	var pending []Fault
	decode(t, o.get("/_emulator/faults"), http.StatusOK, &pending)
	if len(pending) != 1 || pending[0].Kind != FaultUnavailable {
		t.Errorf("pending faults %+v", pending)
	}
	wantError(t, o.get("/services/data/v62.0/limits"), http.StatusServiceUnavailable, "SERVER_UNAVAILABLE")
	o.admin("faults", obj{"kind": "slow", "delay": "1ms", "times": -1}, 200, nil)
	o.admin("faults/clear", nil, 200, nil)
	decode(t, o.get("/_emulator/faults"), http.StatusOK, &pending)
	if len(pending) != 0 {
		t.Errorf("faults after clear: %+v", pending)
	}

	o.admin("api-usage", obj{"used": 41}, 200, nil)
	resp := o.get("/services/data/v62.0/limits")
	resp.Body.Close()
	if h := resp.Header.Get("Sforce-Limit-Info"); h != "api-usage=42/100000" {
		t.Errorf("Sforce-Limit-Info %q", h)
	}
	var st stats
	decode(t, o.get("/_emulator/stats"), http.StatusOK, &st)
	if st.Requests != 1 || st.APIUsage != 42 || st.Objects["Account"].Live != 3 {
		t.Errorf("stats %+v", st)
	}

	o.admin("expire-tokens", nil, 200, nil)
	wantError(t, o.get("/services/data/v62.0/limits"), http.StatusUnauthorized, "INVALID_SESSION_ID")

	var truth map[string]map[string]any
	decode(t, o.get("/_emulator/truth?object=account"), http.StatusOK, &truth)
	want := o.emu.Truth("Account")
	if len(truth) != 3 {
		t.Fatalf("truth has %d records", len(truth))
	}
	for id, rec := range want {
		if truth[id]["Name"] != rec["Name"] || truth[id]["SystemModstamp"] != rec["SystemModstamp"].(time.Time).Format(time.RFC3339Nano) {
			t.Errorf("truth %s: %v / %v", id, truth[id]["Name"], truth[id]["SystemModstamp"])
		}
	}
}

func TestAdminErrors(t *testing.T) {
	o := newOrg(t, Options{})
	tests := []struct {
		action string
		body   any
		status int
		want   string
	}{
		{"nope", obj{}, 404, "nope"},
		{"create", obj{}, 400, `"object"`},
		{"create", obj{"object": "Account", "fields": obj{"Bogus": 1}}, 400, "Bogus"},
		{"create", obj{"object": "Account", "colour": "red"}, 400, "colour"},
		{"update", obj{"object": "Account", "id": "001000000000000AAA"}, 400, "001000000000000AAA"},
		{"late-commit", obj{"object": "Account", "age": "soon"}, 400, "age"},
		{"faults", obj{"kind": "meteor"}, 400, "meteor"},
		{"faults", obj{"kind": "slow", "delay": "later"}, 400, "delay"},
		{"merge", obj{"object": "Account"}, 400, "masterId"},
		{"formula-drift", obj{"object": "Nope"}, 400, "Nope"},
		{"api-usage", obj{}, 400, "used"},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			var e adminError
			adminPost(t, o.url, tt.action, tt.body, tt.status, &e)
			if !strings.Contains(e.Error, tt.want) {
				t.Errorf("error %q does not mention %s", e.Error, tt.want)
			}
		})
	}
	var e adminError
	decode(t, o.get("/_emulator/nothing"), http.StatusNotFound, &e)
	decode(t, o.get("/_emulator/truth?object=Nope"), http.StatusNotFound, &e)
	decode(t, o.get("/_emulator/truth"), http.StatusBadRequest, &e)
	if diff := cmp.Diff("truth: the object parameter is required", e.Error); diff != "" {
		t.Error(diff)
	}
}
