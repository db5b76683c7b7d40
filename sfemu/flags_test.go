package sfemu

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseRecordsFlag(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]int
		wantErr string
	}{
		{in: "", want: map[string]int{}},
		{in: "Account=10000,Contact=20000", want: map[string]int{"Account": 10000, "Contact": 20000}},
		{in: " Account = 1_000 , Invoice__c=0, ", want: map[string]int{"Account": 1000, "Invoice__c": 0}},
		{in: "Account", wantErr: `"Account"`},
		{in: "=5", wantErr: `"=5"`},
		{in: "Account=-1", wantErr: `"-1"`},
		{in: "Account=many", wantErr: `"many"`},
		{in: "Account=1,account=2", wantErr: "account is given twice"},
		{in: "Account=99999999999", wantErr: "maximum"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRecordsFlag(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseRecordsFlag(f *testing.F) {
	for _, s := range []string{"Account=1", "A=1,B=2", "", ",,", "x=y", "A=1_0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseRecordsFlag(s)
		if err != nil {
			return
		}
		for name, n := range m {
			if name == "" || n < 0 || n > maxRecNo || strings.ContainsAny(name, ",=") {
				t.Fatalf("%q gave %q=%d", s, name, n)
			}
		}
	})
}

func TestLoadSchemaFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	yamlPath := write("schema.yaml", `
objects:
  - name: Invoice__c
    label: Invoice
    fields:
      - {name: Total__c, type: currency, precision: 16, scale: 2, nillable: true}
      - {name: Account__c, type: reference, referenceTo: [Account], nillable: true}
      - {name: Status__c, type: picklist, picklistValues: [Draft, Sent, Paid]}
      - {name: Due__c, type: date, nillable: true}
      - {name: Where__c, type: location}
      - {name: Total_With_Tax__c, type: currency, formula: "Total__c * 1.2"}
  - name: Account
    extends: true
    fields:
      - {name: Tier__c, type: picklist, picklistValues: [Gold, Silver], nillable: true}
`)
	defs, err := LoadSchemaFile(yamlPath)
	if err != nil {
		t.Fatal(err)
	}
	jsonPath := write("schema.json", `{"objects":[{"name":"Ticket__c","fields":[{"name":"Body__c","type":"textarea","length":5000}]}]}`)
	jdefs, err := LoadSchemaFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	want := []ObjectDef{{Name: "Ticket__c", Fields: []FieldDef{{Name: "Body__c", Type: "textarea", Length: 5000}}}}
	if diff := cmp.Diff(want, jdefs); diff != "" {
		t.Errorf("JSON schema (-want +got):\n%s", diff)
	}

	o := newOrg(t, Options{Custom: append(defs, jdefs...), Records: map[string]int{"Account": 10, "Invoice__c": 40, "Ticket__c": 3}})
	inv := o.emu.Truth("Invoice__c")
	if len(inv) != 40 {
		t.Fatalf("%d invoices", len(inv))
	}
	accounts := o.emu.Truth("Account")
	for id, rec := range inv {
		if !strings.HasPrefix(id, "a01") {
			t.Fatalf("invoice Id %s lacks prefix a01", id)
		}
		if ref, ok := rec["Account__c"].(string); ok {
			if _, found := accounts[ref]; !found {
				t.Fatalf("Account__c %s is not an Account", ref)
			}
		}
		if rec["Status__c"] == nil {
			t.Fatalf("non-nillable Status__c null: %v", rec)
		}
		if total, ok := rec["Total__c"].(float64); ok {
			if tax, _ := rec["Total_With_Tax__c"].(float64); tax != roundTo(total*1.2, 2) {
				t.Fatalf("formula %v for total %v", tax, total)
			}
		}
	}
	if _, ok := accounts[truthIDs(o.emu, "Account", false)[0]]["Tier__c"]; !ok {
		t.Error("Account lacks the extension field Tier__c")
	}
	if def, ok := o.emu.Describe("Ticket__c"); !ok || def.Fields[0].Name != "Id" {
		t.Errorf("Describe(Ticket__c) = %+v, %v", def, ok)
	}
	r := o.queryAllPages("query", "SELECT Id, Name, Body__c, OwnerId FROM Ticket__c")
	if r[0].TotalSize != 3 {
		t.Errorf("query of a custom object: %+v", r[0])
	}

	bad := []struct{ text, want string }{
		{"objects:\n  - name: X__c\n    colour: red\n", "colour"},
		{"objects:\n  - label: nameless\n", "no name"},
		{"objects: [", "schema file"},
	}
	for i, b := range bad {
		_, err := LoadSchemaFile(write("bad"+string(rune('0'+i))+".yaml", b.text))
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%q: %v, want an error mentioning %s", b.text, err, b.want)
		}
	}
	if _, err := LoadSchemaFile(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("missing file loaded")
	}
	empty, err := LoadSchemaFile(write("empty.yaml", ""))
	if err != nil || len(empty) != 0 {
		t.Errorf("empty file: %v, %v", empty, err)
	}
}

func TestCustomDefinitionErrors(t *testing.T) {
	tests := []struct {
		def  ObjectDef
		want string
	}{
		{ObjectDef{Name: "Invoice"}, `"Invoice"`},
		{ObjectDef{Name: "Account", Extends: false}, `"Account"`},
		{ObjectDef{Name: "Nope", Extends: true}, `"Nope"`},
		{ObjectDef{Name: "Account", Extends: true, Fields: []FieldDef{{Name: "Name", Type: "string"}}}, `"Name"`},
		{ObjectDef{Name: "Account", Extends: true, Fields: []FieldDef{{Name: "Region__c", Type: "string"}}}, "Region__c"},
		{ObjectDef{Name: "X__c", Fields: []FieldDef{{Name: "A__c", Type: "string"}, {Name: "a__c", Type: "string"}}}, "a__c"},
		{ObjectDef{Name: "X__c", Fields: []FieldDef{{Name: "A__c", Type: "currency", Precision: 5, Scale: 6}}}, "A__c"},
		{ObjectDef{Name: "X__c", Fields: []FieldDef{{Name: "A__c", Type: "double", Formula: "(1 +"}}}, "A__c"},
		{ObjectDef{Name: "X__c", Fields: []FieldDef{{Name: "Bad__Name__c", Type: "string"}}}, "Bad__Name__c"},
	}
	for _, tt := range tests {
		_, err := New(Options{Custom: []ObjectDef{tt.def}})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want an error naming %s", tt.def, err, tt.want)
		}
	}
	if _, err := New(Options{Records: map[string]int{"Widget": 1}}); err == nil || !strings.Contains(err.Error(), "Widget") {
		t.Errorf("unknown object in Records: %v", err)
	}
}
