package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
	"gopkg.in/yaml.v3"
)

func TestObjectConfigUnmarshalYAML(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		want    []ObjectConfig
		wantErr string
	}{
		{
			name: "names and mappings",
			doc: `
- Account
- name: Contact
  fields: {include: [], exclude: [Description]}
  filter: "IsTest__c = false"
  delete_mode: hard
  full_refresh_only: true
- name: "*__c"
- ${NOT_EXPANDED}
`,
			want: []ObjectConfig{
				{Name: "Account"},
				{Name: "Contact", Fields: FieldSelection{Include: []string{}, Exclude: []string{"Description"}}, Filter: "IsTest__c = false", DeleteMode: sfsync.DeleteHard, FullRefreshOnly: true},
				{Name: "*__c"},
				{Name: "${NOT_EXPANDED}"},
			},
		},
		{
			name:    "unknown key",
			doc:     "- name: Account\n  mode: hard\n",
			wantErr: "object.mode (line 2): unknown key (known keys: name, fields, filter, delete_mode, full_refresh_only)",
		},
		{
			name:    "list entry",
			doc:     "- [Account]\n",
			wantErr: "object (line 1): must be an object name or a mapping with a name",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []ObjectConfig
			err := yaml.Unmarshal([]byte(tt.doc), &got)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Unmarshal error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Unmarshal (-want +got):\n%s", diff)
			}
		})
	}
}

func TestObjectConfigMarshalYAML(t *testing.T) {
	objs := []ObjectConfig{
		{Name: "Account"},
		{Name: "*__c"},
		{Name: "Contact", Fields: FieldSelection{Exclude: []string{"Description"}}, DeleteMode: sfsync.DeleteHard},
	}
	out, err := yaml.Marshal(objs)
	if err != nil {
		t.Fatal(err)
	}
	want := `- Account
- '*__c'
- name: Contact
  fields:
    exclude:
        - Description
  delete_mode: hard
`
	if diff := cmp.Diff(want, string(out)); diff != "" {
		t.Errorf("Marshal (-want +got):\n%s", diff)
	}
	var back []ObjectConfig
	if err := yaml.Unmarshal(out, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(objs, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

// org is a describe-global list, as the source reports it.
var org = []sfsync.ObjectInfo{
	{Name: "Account", Queryable: true},
	{Name: "AccountHistory", Queryable: true},
	{Name: "AccountChangeEvent", Queryable: false},
	{Name: "Contact", Queryable: true},
	{Name: "Invoice__c", Custom: true, Queryable: true},
	{Name: "Invoice__History", Custom: true, Queryable: true},
	{Name: "Invoice__ChangeEvent", Custom: true, Queryable: true},
	{Name: "Audit__c", Custom: true, Queryable: true},
	{Name: "Hidden__c", Custom: true, Queryable: false},
	{Name: "Zeta__c", Custom: true, Queryable: true},
	{Name: "Lead", Queryable: true},
	{Name: "LoginEvent", Queryable: false},
}

func TestResolveObjects(t *testing.T) {
	tests := []struct {
		name    string
		objects []ObjectConfig
		exclude []string
		want    []ObjectConfig
		wantErr []Problem
	}{
		{
			name:    "exact names take the org's spelling and the default delete mode",
			objects: []ObjectConfig{{Name: "contact"}, {Name: "ACCOUNT", DeleteMode: sfsync.DeleteHard}},
			want:    []ObjectConfig{{Name: "Contact", DeleteMode: sfsync.DeleteSoft}, {Name: "Account", DeleteMode: sfsync.DeleteHard}},
		},
		{
			name:    "glob over queryable objects, minus change events",
			objects: []ObjectConfig{{Name: "*__C", Filter: "x = 1"}},
			want: []ObjectConfig{
				{Name: "Audit__c", Filter: "x = 1", DeleteMode: sfsync.DeleteSoft},
				{Name: "Invoice__c", Filter: "x = 1", DeleteMode: sfsync.DeleteSoft},
				{Name: "Zeta__c", Filter: "x = 1", DeleteMode: sfsync.DeleteSoft},
			},
		},
		{
			name:    "exclude applies to globs only",
			objects: []ObjectConfig{{Name: "*"}, {Name: "AccountHistory"}},
			exclude: []string{"*history", "Z*"},
			want: []ObjectConfig{
				{Name: "AccountHistory", DeleteMode: sfsync.DeleteSoft},
				{Name: "Account", DeleteMode: sfsync.DeleteSoft},
				{Name: "Audit__c", DeleteMode: sfsync.DeleteSoft},
				{Name: "Contact", DeleteMode: sfsync.DeleteSoft},
				{Name: "Invoice__c", DeleteMode: sfsync.DeleteSoft},
				{Name: "Lead", DeleteMode: sfsync.DeleteSoft},
			},
		},
		{
			name: "exact names first and their options win; first glob wins; no duplicates",
			objects: []ObjectConfig{
				{Name: "Invoice*", DeleteMode: sfsync.DeleteHard},
				{Name: "*__c", FullRefreshOnly: true},
				{Name: "Audit__c", Fields: FieldSelection{Exclude: []string{"Notes__c"}}},
				{Name: "Lead"},
			},
			want: []ObjectConfig{
				{Name: "Audit__c", Fields: FieldSelection{Exclude: []string{"Notes__c"}}, DeleteMode: sfsync.DeleteSoft},
				{Name: "Lead", DeleteMode: sfsync.DeleteSoft},
				{Name: "Invoice__c", DeleteMode: sfsync.DeleteHard},
				{Name: "Invoice__History", DeleteMode: sfsync.DeleteHard},
				{Name: "Zeta__c", DeleteMode: sfsync.DeleteSoft, FullRefreshOnly: true},
			},
		},
		{
			name:    "a glob matching nothing",
			objects: []ObjectConfig{{Name: "Nothing*"}},
			want:    nil,
		},
		{
			name:    "unknown and unqueryable names",
			objects: []ObjectConfig{{Name: "Acount"}, {Name: "Account"}, {Name: "LoginEvent"}, {Name: "Opportunity"}, {Name: "hidden__c"}},
			wantErr: []Problem{
				{Path: "objects[0].name", Message: `the org has no object "Acount" (did you mean Account?)`},
				{Path: "objects[2].name", Message: "LoginEvent cannot be queried"},
				{Path: "objects[3].name", Message: `the org has no object "Opportunity"`},
				{Path: "objects[4].name", Message: "Hidden__c cannot be queried"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			c.Objects = tt.objects
			c.Exclude = tt.exclude
			got, err := c.ResolveObjects(org)
			if tt.wantErr != nil {
				if diff := cmp.Diff(tt.wantErr, problems(t, err)); diff != "" {
					t.Errorf("problems (-want +got):\n%s", diff)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ResolveObjects (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResolveObjectsDoesNotShareSlices(t *testing.T) {
	c := valid()
	c.Objects = []ObjectConfig{{Name: "*__c", Fields: FieldSelection{Exclude: []string{"A"}}}}
	got, err := c.ResolveObjects(org)
	if err != nil {
		t.Fatal(err)
	}
	got[0].Fields.Exclude[0] = "changed"
	if c.Objects[0].Fields.Exclude[0] != "A" || got[1].Fields.Exclude[0] != "A" {
		t.Error("resolved objects share their field lists with the configuration or each other")
	}
}

func TestClosest(t *testing.T) {
	names := []string{"Account", "Contact", "Opportunity"}
	tests := map[string]string{"acount": "Account", "Contacts": "Contact", "Oportunity": "Opportunity", "Lead": "", "X": ""}
	for in, want := range tests {
		got, ok := closest(in, names)
		if got != want || ok != (want != "") {
			t.Errorf("closest(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if d := editDistance("kitten", "sitting"); d != 3 {
		t.Errorf("editDistance(kitten, sitting) = %d, want 3", d)
	}
	if !strings.Contains(suggestKey("lookbak", []field{{key: "lookback"}, {key: "page_size"}}), "did you mean lookback?") {
		t.Error("suggestKey does not suggest lookback for lookbak")
	}
}
