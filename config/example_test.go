package config

import (
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
)

// exampleEnv sets the variables Example needs.
var exampleEnv = envMap(map[string]string{
	"SF_CLIENT_ID": "3MVG9example",
	"SF_USERNAME":  "integration@example.com",
})

func TestExampleParses(t *testing.T) {
	c, err := Parse([]byte(Example()), exampleEnv)
	if err != nil {
		t.Fatalf("Parse(Example()): %v", err)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if c.Salesforce.ClientID != "3MVG9example" || c.Salesforce.Auth != AuthJWT || c.Warehouse.Type != WarehouseDuckDB {
		t.Errorf("unexpected example settings: %+v", c.Salesforce)
	}
	// Every value the example writes out is the default, so the example
	// documents the defaults truthfully.
	def := Default()
	if diff := cmp.Diff(def.Sync, c.Sync); diff != "" {
		t.Errorf("example sync settings differ from the defaults (-default +example):\n%s", diff)
	}
	if diff := cmp.Diff(def.Schemas, c.Schemas); diff != "" {
		t.Errorf("example schemas differ from the defaults (-default +example):\n%s", diff)
	}
	if c.Salesforce.LoginURL != DefaultLoginURL || c.Salesforce.APIVersion != DefaultAPIVersion || c.Warehouse.Path != DefaultDuckDBPath {
		t.Errorf("example login URL, API version or path differ from the defaults")
	}
	got, err := c.ResolveObjects([]sfsync.ObjectInfo{
		{Name: "Account", Queryable: true}, {Name: "Opportunity", Queryable: true}, {Name: "Contact", Queryable: true},
		{Name: "Ship__c", Queryable: true}, {Name: "Ship__History", Queryable: true}, {Name: "Ship__Share", Queryable: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range got {
		names = append(names, o.Name)
	}
	if diff := cmp.Diff([]string{"Account", "Opportunity", "Contact", "Ship__c"}, names); diff != "" {
		t.Errorf("example objects (-want +got):\n%s", diff)
	}
}

func TestExampleNeedsItsVariables(t *testing.T) {
	_, err := Parse([]byte(Example()), nil)
	want := []Problem{
		{Path: "salesforce.client_id", Line: 19, Message: "environment variable SF_CLIENT_ID is not set"},
		{Path: "salesforce.username", Line: 24, Message: "environment variable SF_USERNAME is not set"},
	}
	if diff := cmp.Diff(want, problems(t, err)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

// TestExampleMentionsEverySetting keeps the example in step with Config:
// every key appears, set or commented out.
func TestExampleMentionsEverySetting(t *testing.T) {
	ex := Example()
	var walk func(tp reflect.Type)
	walk = func(tp reflect.Type) {
		for i := range tp.NumField() {
			f := tp.Field(i)
			key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if !regexp.MustCompile(`(?m)^[ #-]*` + regexp.QuoteMeta(key) + `:`).MatchString(ex) {
				t.Errorf("Example() does not mention %s (%s.%s)", key, tp.Name(), f.Name)
			}
			ft := f.Type
			if ft.Kind() == reflect.Slice {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft.PkgPath() == tp.PkgPath() {
				walk(ft)
			}
		}
	}
	walk(reflect.TypeFor[Config]())
}
