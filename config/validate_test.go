package config

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// valid returns a configuration Validate accepts.
func valid() *Config {
	c := Default()
	c.Salesforce.Auth = AuthJWT
	c.Salesforce.ClientID = "cid"
	c.Salesforce.Username = "u@example.com"
	c.Salesforce.PrivateKeyFile = "jwt.key"
	c.Objects = []ObjectConfig{{Name: "Account"}, {Name: "*__c"}}
	return c
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(c *Config)
		want   []Problem
	}{
		{name: "valid", mutate: func(*Config) {}},
		{
			name:   "unknown auth",
			mutate: func(c *Config) { c.Salesforce.Auth = "pw" },
			want:   []Problem{{Path: "salesforce.auth", Message: `must be one of jwt, password, client_credentials, refresh_token (got "pw")`}},
		},
		{
			name: "jwt needs a key, and not two",
			mutate: func(c *Config) {
				c.Salesforce.PrivateKeyFile = ""
				c.Salesforce.Username = ""
			},
			want: []Problem{
				{Path: "salesforce.username", Message: "required when auth is jwt"},
				{Path: "salesforce.private_key_file", Message: "required when auth is jwt (or give the PEM key itself in salesforce.private_key)"},
			},
		},
		{
			name:   "jwt with both key forms",
			mutate: func(c *Config) { c.Salesforce.PrivateKey = "pem" },
			want:   []Problem{{Path: "salesforce.private_key", Message: "set private_key_file or private_key, not both"}},
		},
		{
			name: "jwt with settings it does not use",
			mutate: func(c *Config) {
				c.Salesforce.ClientSecret = "s"
				c.Salesforce.Password = "p"
				c.Salesforce.RefreshToken = "r"
			},
			want: []Problem{
				{Path: "salesforce.client_secret", Message: "not used when auth is jwt; remove it"},
				{Path: "salesforce.password", Message: "not used when auth is jwt; remove it"},
				{Path: "salesforce.refresh_token", Message: "not used when auth is jwt; remove it"},
			},
		},
		{
			name: "password",
			mutate: func(c *Config) {
				c.Salesforce.Auth = AuthPassword
				c.Salesforce.ClientID = ""
			},
			want: []Problem{
				{Path: "salesforce.client_id", Message: "required: the connected app's consumer key"},
				{Path: "salesforce.client_secret", Message: "required when auth is password"},
				{Path: "salesforce.password", Message: "required when auth is password"},
				{Path: "salesforce.private_key_file", Message: "not used when auth is password; remove it"},
			},
		},
		{
			name: "client credentials on the login host",
			mutate: func(c *Config) {
				c.Salesforce.Auth = AuthClientCredentials
				c.Salesforce.PrivateKeyFile = ""
				c.Salesforce.ClientSecret = "s"
			},
			want: []Problem{
				{Path: "salesforce.login_url", Message: "client_credentials needs the org's My Domain URL (https://<domain>.my.salesforce.com), not login.salesforce.com"},
				{Path: "salesforce.username", Message: "not used when auth is client_credentials; remove it"},
			},
		},
		{
			name: "refresh token, client secret optional",
			mutate: func(c *Config) {
				c.Salesforce.Auth = AuthRefreshToken
				c.Salesforce.PrivateKeyFile = ""
				c.Salesforce.Username = ""
				c.Salesforce.LoginURL = "https://test.salesforce.com"
			},
			want: []Problem{{Path: "salesforce.refresh_token", Message: "required when auth is refresh_token"}},
		},
		{
			name:   "emulator over http on loopback",
			mutate: func(c *Config) { c.Salesforce.LoginURL = "http://127.0.0.1:8080" },
		},
		{
			name:   "emulator over http on localhost with a path",
			mutate: func(c *Config) { c.Salesforce.LoginURL = "http://localhost:8080/site" },
		},
		{
			name:   "plain http to a remote host",
			mutate: func(c *Config) { c.Salesforce.LoginURL = "http://acme.my.salesforce.com" },
			want:   []Problem{{Path: "salesforce.login_url", Message: "must use https; plain http is allowed only for a local emulator (localhost, 127.0.0.1, ::1)"}},
		},
		{
			name:   "login url not http",
			mutate: func(c *Config) { c.Salesforce.LoginURL = "ftp://login.salesforce.com" },
			want:   []Problem{{Path: "salesforce.login_url", Message: "must be an http(s) URL such as https://login.salesforce.com"}},
		},
		{
			name:   "login url without a scheme",
			mutate: func(c *Config) { c.Salesforce.LoginURL = "login.salesforce.com" },
			want:   []Problem{{Path: "salesforce.login_url", Message: "must be an http(s) URL such as https://login.salesforce.com"}},
		},
		{
			name:   "login url with credentials is not echoed",
			mutate: func(c *Config) { c.Salesforce.LoginURL = "https://user:hunter2@login.salesforce.com" },
			want:   []Problem{{Path: "salesforce.login_url", Message: "must not hold a user name or password; use the credential settings"}},
		},
		{
			name:   "login url with a query",
			mutate: func(c *Config) { c.Salesforce.LoginURL = "https://login.salesforce.com?x=1" },
			want:   []Problem{{Path: "salesforce.login_url", Message: "must not have a query or fragment"}},
		},
		{
			name:   "api version shape",
			mutate: func(c *Config) { c.Salesforce.APIVersion = "62.5" },
			want:   []Problem{{Path: "salesforce.api_version", Message: `must be a version such as "62.0" (got "62.5")`}},
		},
		{
			name:   "api version too old",
			mutate: func(c *Config) { c.Salesforce.APIVersion = "30.0" },
			want:   []Problem{{Path: "salesforce.api_version", Message: `must be at least 31.0 (got "30.0")`}},
		},
		{
			name: "warehouse",
			mutate: func(c *Config) {
				c.Warehouse.Type = "sqlite"
			},
			want: []Problem{{Path: "warehouse.type", Message: `must be duckdb, postgres or redshift (got "sqlite")`}},
		},
		{
			name: "postgres needs a dsn and no path",
			mutate: func(c *Config) {
				c.Warehouse.Type = WarehousePostgres
			},
			want: []Problem{
				{Path: "warehouse.dsn", Message: "required when type is postgres, such as ${SFSYNC_PG_DSN}"},
				{Path: "warehouse.path", Message: "not used when type is postgres; remove it"},
			},
		},
		{
			name: "text policy",
			mutate: func(c *Config) {
				c.Warehouse.Text = "truncate"
				c.Warehouse.MemoryLimit = "lots"
				c.Warehouse.Threads = -1
			},
			want: []Problem{
				{Path: "warehouse.text", Message: `must be clean or reject (got "truncate")`},
				{Path: "warehouse.threads", Message: "must be 0 (one per core) or more"},
				{Path: "warehouse.memory_limit", Message: "must be a size such as 512MB or 4GB, or a share of RAM such as 50%"},
			},
		},
		{
			name: "duckdb needs a path and no dsn",
			mutate: func(c *Config) {
				c.Warehouse.Path = ""
				c.Warehouse.DSN = "postgres://x"
			},
			want: []Problem{
				{Path: "warehouse.path", Message: "required when type is duckdb"},
				{Path: "warehouse.dsn", Message: "not used when type is duckdb; remove it"},
			},
		},
		{
			name: "schemas",
			mutate: func(c *Config) {
				c.Schemas = Schemas{Final: "Salesforce", Staging: "salesforce", Control: "1ctl"}
			},
			want: []Problem{
				{Path: "schemas.staging", Message: "must differ from schemas.final"},
				{Path: "schemas.control", Message: `must be a schema name of letters, digits and _, not starting with a digit, at most 63 characters (got "1ctl")`},
			},
		},
		{
			name: "sync ranges",
			mutate: func(c *Config) {
				c.Sync = Sync{Lookback: -time.Second, BatchRows: 0, PageSize: 100, Parallelism: 0, DeleteMode: "purge", StagingRetention: -time.Hour, BulkThreshold: -1}
			},
			want: []Problem{
				{Path: "sync.lookback", Message: "must not be negative"},
				{Path: "sync.batch_rows", Message: "must be at least 1"},
				{Path: "sync.page_size", Message: "must be between 200 and 2000"},
				{Path: "sync.parallelism", Message: "must be at least 1"},
				{Path: "sync.delete_mode", Message: `must be "soft" or "hard"`},
				{Path: "sync.staging_retention", Message: "must not be negative"},
				{Path: "sync.bulk_threshold", Message: "must not be negative"},
				{Path: "sync.bulk_result_streams", Message: "must be between 1 (result pages one after the other) and 10 (pages downloaded at once per Bulk job) (got 0)"},
			},
		},
		{
			name:   "result streams upper bound",
			mutate: func(c *Config) { c.Sync.BulkResultStreams = 11 },
			want:   []Problem{{Path: "sync.bulk_result_streams", Message: "must be between 1 (result pages one after the other) and 10 (pages downloaded at once per Bulk job) (got 11)"}},
		},
		{
			name: "result streams need resultPages",
			mutate: func(c *Config) {
				c.Sync.BulkResultStreams = 3
				c.Salesforce.APIVersion = "57.0"
			},
			want: []Problem{{Path: "sync.bulk_result_streams", Message: "above 1 needs salesforce.api_version 58.0 or later (got 57.0); set it to 1 or raise api_version"}},
		},
		{
			name: "result streams on an old version, one at a time",
			mutate: func(c *Config) {
				c.Sync.BulkResultStreams = 1
				c.Salesforce.APIVersion = "57.0"
			},
		},
		{
			name:   "result streams at the upper bound",
			mutate: func(c *Config) { c.Sync.BulkResultStreams = 10 },
		},
		{
			name:   "page size upper bound",
			mutate: func(c *Config) { c.Sync.PageSize = 2001 },
			want:   []Problem{{Path: "sync.page_size", Message: "must be between 200 and 2000"}},
		},
		{
			name:   "no objects",
			mutate: func(c *Config) { c.Objects = nil },
			want:   []Problem{{Path: "objects", Message: "list at least one object to replicate, such as [Account, Contact]"}},
		},
		{
			name: "objects",
			mutate: func(c *Config) {
				c.Objects = []ObjectConfig{
					{Name: "Account"},
					{Name: "account"},
					{Name: "Acc-ount"},
					{Name: "*__c", DeleteMode: "purge"},
					{Name: "[a-"},
					{Name: "*, Contact"},
					{Name: ""},
					{Name: "Contact", Filter: "(Amount > 5"},
					{Name: "Lead", Filter: "Name = 'O''Brien"},
					{Name: "Case", Filter: "a) AND (b"},
					{Name: "Task", Filter: "  "},
					{Name: "Event", Filter: `Subject = 'it\'s (odd'`},
				}
				c.Exclude = []string{"*History", "[", "Bad Name"}
			},
			want: []Problem{
				{Path: "objects[1].name", Message: `duplicate "account" (first at objects[0])`},
				{Path: "objects[2].name", Message: `"Acc-ount" is not an object API name (letters, digits and _, starting with a letter)`},
				{Path: "objects[3].delete_mode", Message: `must be "soft" or "hard"`},
				{Path: "objects[4].name", Message: `"[a-" is not a valid glob (use * for any run of characters, ? for one, [abc] for a set)`},
				{Path: "objects[5].name", Message: `"*, Contact" has ',', which no object name contains`},
				{Path: "objects[6].name", Message: `required: an object API name or a glob such as "*__c"`},
				{Path: "objects[7].filter", Message: "has a ( without a matching )"},
				{Path: "objects[8].filter", Message: "has an unterminated 'string'"},
				{Path: "objects[9].filter", Message: "has a ) without a matching ("},
				{Path: "objects[10].filter", Message: "must not be blank"},
				{Path: "exclude[1]", Message: `"[" is not a valid glob (use * for any run of characters, ? for one, [abc] for a set)`},
				{Path: "exclude[2]", Message: `"Bad Name" has ' ', which no object name contains`},
			},
		},
		{
			name: "fields",
			mutate: func(c *Config) {
				c.Objects = []ObjectConfig{{Name: "Contact", Fields: FieldSelection{
					Include: []string{"Email", "Bad.Field", "Name"},
					Exclude: []string{"name", "id", "IsDeleted", "SystemModstamp", "1x", "Description"},
				}}}
			},
			want: []Problem{
				{Path: "objects[0].fields.include[1]", Message: `"Bad.Field" is not a field API name`},
				{Path: "objects[0].fields.exclude[0]", Message: "name is also in include"},
				{Path: "objects[0].fields.exclude[1]", Message: "Id is always replicated and cannot be excluded"},
				{Path: "objects[0].fields.exclude[2]", Message: "IsDeleted is always replicated and cannot be excluded"},
				{Path: "objects[0].fields.exclude[3]", Message: "SystemModstamp is always replicated and cannot be excluded"},
				{Path: "objects[0].fields.exclude[4]", Message: `"1x" is not a field API name`},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.mutate(c)
			err := c.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if diff := cmp.Diff(tt.want, problems(t, err)); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// TestValidationMessage checks the whole message a broken file produces:
// every problem, one per line, with its path and, where known, its line.
func TestValidationMessage(t *testing.T) {
	doc := `salesforce:
  login_url: ftp://login.salesforce.com
  auth: jwt
  client_id: cid
  username: integration@example.com
warehouse:
  type: duckdb
sync:
  page_size: 5000
  lookback: -5m
  delete_mode: purge
objects:
  - Account
  - Contact
  - account
  - name: Lead
    delete_mode: sometimes
    fields: {exclude: [Id]}
`
	_, err := Parse([]byte(doc), nil)
	if err == nil {
		t.Fatal("Parse accepted a broken configuration")
	}
	want := `salesforce.login_url (line 2): must be an http(s) URL such as https://login.salesforce.com
salesforce.private_key_file: required when auth is jwt (or give the PEM key itself in salesforce.private_key)
sync.lookback (line 10): must not be negative
sync.page_size (line 9): must be between 200 and 2000
sync.delete_mode (line 11): must be "soft" or "hard"
objects[2].name (line 15): duplicate "account" (first at objects[0])
objects[3].fields.exclude[0] (line 18): Id is always replicated and cannot be excluded
objects[3].delete_mode (line 17): must be "soft" or "hard"`
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
}

func TestDefaultIsValidOnceCompleted(t *testing.T) {
	c := Default()
	err := c.Validate()
	want := []Problem{
		{Path: "salesforce.auth", Message: "required: one of jwt, password, client_credentials, refresh_token"},
		{Path: "salesforce.client_id", Message: "required: the connected app's consumer key"},
		{Path: "objects", Message: "list at least one object to replicate, such as [Account, Contact]"},
	}
	if diff := cmp.Diff(want, problems(t, err)); diff != "" {
		t.Errorf("problems of Default() (-want +got):\n%s", diff)
	}
	if err := valid().Validate(); err != nil {
		t.Errorf("completed Default(): %v", err)
	}
}
