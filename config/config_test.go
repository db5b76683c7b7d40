package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
	"gopkg.in/yaml.v3"
)

// envMap is an environment for Parse.
func envMap(m map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := m[name]
		return v, ok
	}
}

const (
	testPassword = "pa$$:w0rd #not-a-comment"
	testSecret   = "client-secret-7731"
)

var testEnv = envMap(map[string]string{
	"SF_PASSWORD":      testPassword,
	"SF_CLIENT_SECRET": testSecret,
})

// minimal is the smallest valid file; tests append to or edit it.
const minimal = `
salesforce:
  auth: password
  client_id: cid
  client_secret: ${SF_CLIENT_SECRET}
  username: integration@example.com
  password: ${SF_PASSWORD}
objects: [Account]
`

// problems extracts the problems of a *ValidationError, failing otherwise.
func problems(t *testing.T, err error) []Problem {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
	}
	return ve.Problems
}

func TestParseMinimalAppliesDefaults(t *testing.T) {
	got, err := Parse([]byte(minimal), testEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Salesforce: Salesforce{
			LoginURL:     DefaultLoginURL,
			Auth:         AuthPassword,
			ClientID:     "cid",
			ClientSecret: testSecret,
			Username:     "integration@example.com",
			Password:     testPassword,
			APIVersion:   DefaultAPIVersion,
		},
		Warehouse: Warehouse{Type: WarehouseDuckDB, Path: DefaultDuckDBPath},
		Schemas:   Schemas{Final: "salesforce", Staging: "salesforce_staging", Control: "_sfsync"},
		Sync: Sync{
			Lookback:          5 * time.Minute,
			BatchRows:         100000,
			PageSize:          2000,
			Parallelism:       2,
			DeleteMode:        sfsync.DeleteSoft,
			BulkThreshold:     50000,
			BulkResultStreams: 1,
		},
		Objects: []ObjectConfig{{Name: "Account"}},
		Serve:   defaultServe(),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
}

func TestParseEverySetting(t *testing.T) {
	doc := `
salesforce:
  login_url: https://acme.my.salesforce.com/
  auth: client_credentials
  client_id: cid
  client_secret: ${SF_CLIENT_SECRET}
  api_version: v60.0
warehouse:
  type: postgres
  dsn: postgres://sfsync:${SF_PASSWORD}@db/sf
schemas: {final: sf, staging: sf_stage, control: sf_ctl}
sync:
  lookback: 90s
  batch_rows: 10_000
  page_size: 500
  parallelism: 4
  delete_mode: hard
  staging_retention: 24h
  bulk_threshold: 0
  bulk_result_streams: 4
objects:
  - Account
  - name: Contact
    fields: {include: [Id, Email], exclude: []}
    filter: "IsTest__c = false"
    delete_mode: soft
    full_refresh_only: true
  - name: "*__c"
exclude: ["*History"]
`
	got, err := Parse([]byte(doc), testEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Salesforce: Salesforce{
			LoginURL:     "https://acme.my.salesforce.com",
			Auth:         AuthClientCredentials,
			ClientID:     "cid",
			ClientSecret: testSecret,
			APIVersion:   "60.0",
		},
		Warehouse: Warehouse{Type: WarehousePostgres, DSN: sfsync.Secret("postgres://sfsync:" + testPassword + "@db/sf")},
		Schemas:   Schemas{Final: "sf", Staging: "sf_stage", Control: "sf_ctl"},
		Sync: Sync{
			Lookback:          90 * time.Second,
			BatchRows:         10000,
			PageSize:          500,
			Parallelism:       4,
			DeleteMode:        sfsync.DeleteHard,
			StagingRetention:  24 * time.Hour,
			BulkThreshold:     0,
			BulkResultStreams: 4,
		},
		Objects: []ObjectConfig{
			{Name: "Account"},
			{Name: "Contact", Fields: FieldSelection{Include: []string{"Id", "Email"}, Exclude: []string{}}, Filter: "IsTest__c = false", DeleteMode: sfsync.DeleteSoft, FullRefreshOnly: true},
			{Name: "*__c"},
		},
		Exclude: []string{"*History"},
		Serve:   defaultServe(),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
}

func TestParseDecodeProblems(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []Problem
	}{
		{
			name: "unknown keys with line numbers and suggestions",
			doc: `salesforce:
  auth: password
  client_id: cid
  client_secret: s
  username: u
  pasword: p
objects:
  - name: Account
    delete: hard
colour: blue
`,
			want: []Problem{
				{Path: "salesforce.pasword", Line: 6, Message: "unknown key (did you mean password?)"},
				{Path: "objects[0].delete", Line: 9, Message: "unknown key (known keys: name, fields, filter, delete_mode, full_refresh_only)"},
				{Path: "colour", Line: 10, Message: "unknown key (known keys: salesforce, warehouse, schemas, sync, objects, exclude, serve)"},
				// The misspelt key leaves the password unset.
				{Path: "salesforce.password", Message: "required when auth is password"},
			},
		},
		{
			name: "repeated key",
			doc:  minimal + "sync:\n  page_size: 300\n  page_size: 400\n",
			want: []Problem{{Path: "sync.page_size", Line: 12, Message: "repeated key (first at line 11)"}},
		},
		{
			name: "values of the wrong type",
			doc: minimal + `sync:
  lookback: 300
  batch_rows: lots
  page_size: 2000.5
  parallelism: [1]
  staging_retention: {h: 1}
`,
			want: []Problem{
				{Path: "sync.lookback", Line: 11, Message: `must be a duration such as "90s", "5m" or "1h30m" (got "300")`},
				{Path: "sync.batch_rows", Line: 12, Message: `must be a whole number (got "lots")`},
				{Path: "sync.page_size", Line: 13, Message: `must be a whole number (got "2000.5")`},
				{Path: "sync.parallelism", Line: 14, Message: "must be a single value, not a list"},
				{Path: "sync.staging_retention", Line: 15, Message: "must be a single value, not a mapping"},
			},
		},
		{
			name: "sections and lists of the wrong shape",
			doc: `salesforce: jwt
objects: Account
exclude: "*History"
`,
			want: []Problem{
				{Path: "salesforce", Line: 1, Message: "must be a mapping of keys to values"},
				{Path: "objects", Line: 2, Message: "must be a list of object names or mappings"},
				{Path: "exclude", Line: 3, Message: "must be a list, such as [A, B]"},
			},
		},
		{
			name: "bad object entries",
			doc: minimal + `  - [Contact]
  - name: Lead
    full_refresh_only: sometimes
  -
  - {fields: {include: Id}}
`,
			want: []Problem{
				{Path: "objects[1]", Line: 10, Message: "must be an object name or a mapping with a name"},
				{Path: "objects[2].full_refresh_only", Line: 12, Message: `must be true or false (got "sometimes")`},
				{Path: "objects[4].fields.include", Line: 14, Message: "must be a list, such as [A, B]"},
				{Path: "objects[3].name", Line: 13, Message: `required: an object API name or a glob such as "*__c"`},
				{Path: "objects[4].name", Message: `required: an object API name or a glob such as "*__c"`},
			},
		},
		{
			name: "empty list item",
			doc:  minimal + "exclude: [\"*History\", ~]\n",
			want: []Problem{{Path: "exclude[1]", Line: 10, Message: "must not be empty"}},
		},
		{
			name: "top level is not a mapping",
			doc:  "- Account\n",
			want: []Problem{
				{Path: "(top level)", Line: 1, Message: "must be a mapping of keys to values"},
				{Path: "salesforce.auth", Message: "required: one of jwt, password, client_credentials, refresh_token"},
				{Path: "salesforce.client_id", Message: "required: the connected app's consumer key"},
				{Path: "objects", Message: "list at least one object to replicate, such as [Account, Contact]"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The minimal document's objects list is a flow sequence;
			// tests that add entries need a block one.
			doc := strings.Replace(tt.doc, "objects: [Account]\n", "objects:\n  - Account\n", 1)
			_, err := Parse([]byte(doc), testEnv)
			if diff := cmp.Diff(tt.want, problems(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseAPIVersionForms(t *testing.T) {
	for _, in := range []string{`62`, `62.0`, `"62.0"`, `v62.0`, `"v62"`} {
		c, err := Parse([]byte(strings.Replace(minimal, "auth: password", "auth: password\n  api_version: "+in, 1)), testEnv)
		if err != nil {
			t.Fatalf("api_version %s: %v", in, err)
		}
		if c.Salesforce.APIVersion != "62.0" {
			t.Errorf("api_version %s parsed as %q, want 62.0", in, c.Salesforce.APIVersion)
		}
	}
}

func TestParseSyntaxError(t *testing.T) {
	_, err := Parse([]byte("salesforce:\n  auth: [jwt\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "not valid YAML") || !strings.Contains(err.Error(), "line") {
		t.Fatalf("Parse of broken YAML: got %v, want a YAML error with a line", err)
	}
}

func TestParseEmpty(t *testing.T) {
	_, err := Parse(nil, nil)
	want := []Problem{
		{Path: "salesforce.auth", Message: "required: one of jwt, password, client_credentials, refresh_token"},
		{Path: "salesforce.client_id", Message: "required: the connected app's consumer key"},
		{Path: "objects", Message: "list at least one object to replicate, such as [Account, Contact]"},
	}
	if diff := cmp.Diff(want, problems(t, err)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestParseAnchorsAndNulls(t *testing.T) {
	doc := minimal + `sync:
  lookback:
  page_size: &size 500
  batch_rows: *size
warehouse:
  path: ~
`
	got, err := Parse([]byte(doc), testEnv)
	if err != nil {
		t.Fatal(err)
	}
	if got.Sync.Lookback != DefaultLookback || got.Sync.PageSize != 500 || got.Sync.BatchRows != 500 || got.Warehouse.Path != DefaultDuckDBPath {
		t.Errorf("got lookback %v, page size %d, batch rows %d, path %q; want the default lookback and path, 500 and 500",
			got.Sync.Lookback, got.Sync.PageSize, got.Sync.BatchRows, got.Warehouse.Path)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	doc := `
salesforce:
  auth: jwt
  client_id: cid
  username: u@example.com
  private_key_file: keys/jwt.key
objects: [Account]
`
	path := filepath.Join(dir, "sfsync.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "keys", "jwt.key"); c.Salesforce.PrivateKeyFile != want {
		t.Errorf("private_key_file = %q, want %q", c.Salesforce.PrivateKeyFile, want)
	}
	if want := filepath.Join(dir, DefaultDuckDBPath); c.Warehouse.Path != want {
		t.Errorf("warehouse.path = %q, want %q", c.Warehouse.Path, want)
	}

	abs := filepath.Join(t.TempDir(), "abs.duckdb")
	for _, tt := range []struct{ path, want string }{{abs, abs}, {":memory:", ":memory:"}} {
		if err := os.WriteFile(path, []byte(doc+"warehouse: {path: \""+tt.path+"\"}\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := Load(path)
		if err != nil {
			t.Fatal(err)
		}
		if c.Warehouse.Path != tt.want {
			t.Errorf("warehouse.path %q loaded as %q, want it unchanged", tt.path, c.Warehouse.Path)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing file: got %v, want fs.ErrNotExist", err)
	}

	path := filepath.Join(t.TempDir(), "sfsync.yaml")
	if err := os.WriteFile(path, []byte("objects: [Account]\nsalesforce: {auth: pw}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(path)
	want := []Problem{
		{Path: "salesforce.auth", Line: 2, Message: `must be one of jwt, password, client_credentials, refresh_token (got "pw")`},
		{Path: "salesforce.client_id", Message: "required: the connected app's consumer key"},
	}
	if diff := cmp.Diff(want, problems(t, err)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestSecretsRedacted(t *testing.T) {
	// A secret in a setting the auth method does not use is a problem; the
	// message must not show it.
	doc := strings.Replace(minimal, "auth: password", "auth: password\n  private_key: ${SF_PASSWORD}", 1)
	_, err := Parse([]byte(doc), testEnv)
	if diff := cmp.Diff([]Problem{{Path: "salesforce.private_key", Line: 4, Message: "not used when auth is password; remove it"}}, problems(t, err)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if strings.Contains(err.Error(), testPassword) {
		t.Errorf("error shows a secret: %v", err)
	}

	c, err := Parse([]byte(minimal+"warehouse: {type: postgres, dsn: \"${SF_CLIENT_SECRET}\"}\n"), testEnv)
	if err != nil {
		t.Fatal(err)
	}
	c.Salesforce.PrivateKey = "-----BEGIN PRIVATE KEY-----secret-key"
	c.Salesforce.RefreshToken = "refresh-token-9921"
	secrets := []string{testPassword, testSecret, "secret-key", "refresh-token-9921"}

	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	ym, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":   fmt.Sprintf("%v", c),
		"%+v":  fmt.Sprintf("%+v", c),
		"%#v":  fmt.Sprintf("%#v", c),
		"json": string(js),
		"yaml": string(ym),
	}
	for form, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s output shows a secret:\n%s", form, out)
			}
		}
		if !strings.Contains(out, "[redacted]") {
			t.Errorf("%s output does not show the redaction marker:\n%s", form, out)
		}
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	c, err := Parse([]byte(Example()), exampleEnv)
	if err != nil {
		t.Fatal(err)
	}
	out, err := yaml.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(out, nil)
	if err != nil {
		t.Fatalf("Parse of marshalled configuration: %v\n%s", err, out)
	}
	if diff := cmp.Diff(c, again); diff != "" {
		t.Errorf("marshal round trip (-before +after):\n%s\n%s", diff, out)
	}
	if !strings.Contains(string(out), "  - Account\n") {
		t.Errorf("an entry without options is not written as a bare name:\n%s", out)
	}
}
