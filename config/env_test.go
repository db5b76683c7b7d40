package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
)

func TestExpand(t *testing.T) {
	env := envMap(map[string]string{"A": "alpha", "EMPTY": "", "B_2": "b}$"})
	tests := []struct {
		in       string
		want     string
		fromEnv  bool
		problems []string
	}{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "alpha", fromEnv: true},
		{in: "x-${A}-${B_2}-y", want: "x-alpha-b}$-y", fromEnv: true},
		{in: "${EMPTY}", want: "", fromEnv: true},
		{in: "${MISSING:-fallback}", want: "fallback", fromEnv: true},
		{in: "${EMPTY:-fallback}", want: "fallback", fromEnv: true},
		{in: "${A:-fallback}", want: "alpha", fromEnv: true},
		{in: "${MISSING:-}", want: "", fromEnv: true},
		{in: "$${A}", want: "${A}"},
		{in: "pa$$word", want: "pa$word"},
		{in: "$$$${A}", want: "$${A}"},
		{in: "$$${A}", want: "$alpha", fromEnv: true},
		{in: "cost $5 and $", want: "cost $5 and $"},
		{in: "$A", want: "$A"},
		{in: "${MISSING}", want: "", fromEnv: true, problems: []string{"environment variable MISSING is not set"}},
		{in: "${MISSING}${OTHER}", want: "", fromEnv: true, problems: []string{
			"environment variable MISSING is not set", "environment variable OTHER is not set"}},
		{in: "abc${A", want: "abc${A", problems: []string{`has "${" without a closing "}" (write $$ for a literal $)`}},
		{in: "x${1A}y", want: "xy", problems: []string{"has an invalid ${...} reference: a variable name is letters, digits and _, not starting with a digit (write $$ for a literal $)"}},
		{in: "${}", want: "", problems: []string{"has an invalid ${...} reference: a variable name is letters, digits and _, not starting with a digit (write $$ for a literal $)"}},
		{in: "${A-b}", want: "", problems: []string{"has an invalid ${...} reference: a variable name is letters, digits and _, not starting with a digit (write $$ for a literal $)"}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, fromEnv, problems := expand(tt.in, env)
			if got != tt.want || fromEnv != tt.fromEnv {
				t.Errorf("expand(%q) = %q, fromEnv %v; want %q, %v", tt.in, got, fromEnv, tt.want, tt.fromEnv)
			}
			if diff := cmp.Diff(tt.problems, problems); diff != "" {
				t.Errorf("expand(%q) problems (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseExpandsEnvironment(t *testing.T) {
	// Values that would change the document's structure if substituted
	// into its text, or that YAML would read as another type.
	env := envMap(map[string]string{
		"SF_CLIENT_SECRET": "a: b\n- c # d",
		"SF_PASSWORD":      "null",
		"SF_USER":          "true",
		"PAGE":             "500",
		"LOOKBACK":         "2m",
		"FULL":             "TRUE",
	})
	doc := `
salesforce:
  auth: ${AUTH:-password}
  client_id: "${CLIENT_ID:-cid}"
  client_secret: ${SF_CLIENT_SECRET}
  username: ${SF_USER}
  password: '${SF_PASSWORD}'
sync:
  page_size: ${PAGE}
  lookback: ${LOOKBACK}
  parallelism: ${PARALLEL:-3}
objects:
  - name: ${OBJECT:-Account}
    filter: "Amount > $$100 AND Name != '$${X}'"
    full_refresh_only: ${FULL}
# a comment mentioning ${NOT_EXPANDED} is never read
`
	c, err := Parse([]byte(doc), env)
	if err != nil {
		t.Fatal(err)
	}
	got := []any{c.Salesforce.Auth, c.Salesforce.ClientID, c.Salesforce.ClientSecret.Reveal(), c.Salesforce.Username,
		c.Salesforce.Password.Reveal(), c.Sync.PageSize, c.Sync.Lookback.String(), c.Sync.Parallelism,
		c.Objects[0].Name, c.Objects[0].Filter, c.Objects[0].FullRefreshOnly}
	want := []any{"password", "cid", "a: b\n- c # d", "true",
		"null", 500, "2m0s", 3,
		"Account", "Amount > $100 AND Name != '${X}'", true}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("expanded values (-want +got):\n%s", diff)
	}
}

func TestParseEnvironmentProblems(t *testing.T) {
	const secret = "s3cr3t-value-do-not-print"
	env := envMap(map[string]string{"SECRET": secret, "SF_CLIENT_SECRET": "x"})
	doc := `
salesforce:
  auth: password
  client_id: cid
  client_secret: ${SF_CLIENT_SECRET}
  username: ${SF_USERNAME}
  password: ${SF_PASSWORD}
sync:
  page_size: ${SECRET}
  lookback: x${SECRET}
  batch_rows: ${SECRET:-12}
objects:
  - name: Account
    full_refresh_only: ${SECRET}
    filter: "${SECRET"
`
	_, err := Parse([]byte(doc), env)
	want := []Problem{
		{Path: "salesforce.username", Line: 6, Message: "environment variable SF_USERNAME is not set"},
		{Path: "salesforce.password", Line: 7, Message: "environment variable SF_PASSWORD is not set"},
		{Path: "sync.page_size", Line: 9, Message: "must be a whole number (got a value from the environment)"},
		{Path: "sync.lookback", Line: 10, Message: `must be a duration such as "90s", "5m" or "1h30m" (got a value from the environment)`},
		{Path: "sync.batch_rows", Line: 11, Message: "must be a whole number (got a value from the environment)"},
		{Path: "objects[0].full_refresh_only", Line: 14, Message: "must be true or false (got a value from the environment)"},
		{Path: "objects[0].filter", Line: 15, Message: `has "${" without a closing "}" (write $$ for a literal $)`},
	}
	if diff := cmp.Diff(want, problems(t, err)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error shows an environment value:\n%v", err)
	}
}

func TestParseNilEnvironment(t *testing.T) {
	_, err := Parse([]byte(minimal), nil)
	want := []Problem{
		{Path: "salesforce.client_secret", Line: 5, Message: "environment variable SF_CLIENT_SECRET is not set"},
		{Path: "salesforce.password", Line: 7, Message: "environment variable SF_PASSWORD is not set"},
	}
	if diff := cmp.Diff(want, problems(t, err)); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func FuzzExpand(f *testing.F) {
	for _, s := range []string{"", "plain", "${A}", "${A:-d}", "$$", "$${A}", "${", "${1}", "a$b", "${A}${B:-x}$", "${A:-${B}}"} {
		f.Add(s)
	}
	const secret = "\x00SECRET\x00"
	env := func(name string) (string, bool) {
		if name == "A" {
			return secret, true
		}
		return "", false
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, fromEnv, problems := expand(s, env)
		for _, p := range problems {
			if strings.Contains(p, secret) {
				t.Fatalf("problem %q shows the value of A", p)
			}
		}
		if !strings.Contains(s, "$") && (out != s || fromEnv || problems != nil) {
			t.Fatalf("expand(%q) = %q, %v, %v; want it unchanged", s, out, fromEnv, problems)
		}
		if strings.Contains(out, secret) && !fromEnv && !strings.Contains(s, secret) {
			t.Fatalf("expand(%q) used A but says fromEnv false", s)
		}
		// Escaping every $ gives the text back unchanged.
		if back, _, p := expand(strings.ReplaceAll(s, "$", "$$"), env); back != s || p != nil {
			t.Fatalf("escaped %q expands to %q (problems %v)", s, back, p)
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add(minimal)
	f.Add(Example())
	f.Add("objects: [Account, {name: \"*__c\", delete_mode: hard}]\nsync: {page_size: ${P:-300}}\n")
	f.Add("salesforce: &a {auth: jwt}\nwarehouse: *a\n")
	f.Fuzz(func(t *testing.T, doc string) {
		c, err := Parse([]byte(doc), exampleEnv)
		if err != nil {
			if c != nil {
				t.Fatal("Parse returned a configuration with an error")
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a configuration Validate rejects: %v", err)
		}
		if _, err := c.ResolveObjects([]sfsync.ObjectInfo{{Name: "Account", Queryable: true}}); err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), "objects[") {
				t.Fatalf("ResolveObjects: %v", err)
			}
		}
	})
}
