package config

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
)

const serveToken = "tok-9f8e7d6c5b4a3921"

var serveEnv = func(name string) (string, bool) {
	if name == "SFSYNC_SERVE_TOKEN" {
		return serveToken, true
	}
	return testEnv(name)
}

func TestServeDefaults(t *testing.T) {
	c, err := Parse([]byte(minimal), testEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := Serve{
		Listen:       "127.0.0.1:8484",
		Schedule:     "15m",
		Retry:        Retry{MaxAttempts: 5, InitialDelay: 30 * time.Second, MaxDelay: 30 * time.Minute},
		BudgetShare:  0.8,
		RunRetention: 30 * 24 * time.Hour,
		LeaseTTL:     2 * time.Minute,
	}
	if diff := cmp.Diff(want, c.Serve); diff != "" {
		t.Errorf("serve defaults (-want +got):\n%s", diff)
	}
	if got := c.Serve.ScheduleFor("Account"); got != "15m" {
		t.Errorf("ScheduleFor(Account) = %q, want the default", got)
	}
}

func TestServeEverySetting(t *testing.T) {
	doc := minimal + `serve:
  listen: 0.0.0.0:9000
  token: ${SFSYNC_SERVE_TOKEN}
  schedule: "*/10 * * * *"
  schedules:
    Opportunity: 1h
    contact: "CRON_TZ=Europe/Paris 0 6 * * MON-FRI"
  retry: {max_attempts: 3, initial_delay: 1m, max_delay: 10m}
  budget_share: 75%
  run_retention: 168h
  lease_ttl: 30s
`
	c, err := Parse([]byte(doc), serveEnv)
	if err != nil {
		t.Fatal(err)
	}
	want := Serve{
		Listen:       "0.0.0.0:9000",
		Token:        sfsync.Secret(serveToken),
		Schedule:     "*/10 * * * *",
		Schedules:    map[string]string{"Opportunity": "1h", "contact": "CRON_TZ=Europe/Paris 0 6 * * MON-FRI"},
		Retry:        Retry{MaxAttempts: 3, InitialDelay: time.Minute, MaxDelay: 10 * time.Minute},
		BudgetShare:  0.75,
		RunRetention: 168 * time.Hour,
		LeaseTTL:     30 * time.Second,
	}
	if diff := cmp.Diff(want, c.Serve); diff != "" {
		t.Errorf("serve (-want +got):\n%s", diff)
	}
	if got := c.Serve.ScheduleFor("Contact"); got != want.Schedules["contact"] {
		t.Errorf("ScheduleFor(Contact) = %q", got)
	}
	if got := c.Serve.ScheduleFor("Account"); got != "*/10 * * * *" {
		t.Errorf("ScheduleFor(Account) = %q, want the default", got)
	}
	if out := fmt.Sprintf("%+v", c.Serve); strings.Contains(out, serveToken) {
		t.Errorf("printing the serve settings shows the token: %s", out)
	}
}

func TestServeProblems(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		want []Problem
	}{
		{
			name: "a public address needs a token",
			yaml: "serve:\n  listen: 0.0.0.0:8484\n",
			want: []Problem{{Path: "serve.token", Message: "required when serve.listen is not a loopback address (127.0.0.1, ::1, localhost): anyone who can reach 0.0.0.0:8484 could read the status and trigger runs; set it from the environment, such as ${SFSYNC_SERVE_TOKEN}"}},
		},
		{
			name: "every interface needs a token",
			yaml: "serve:\n  listen: :8484\n",
			want: []Problem{{Path: "serve.token", Message: "required when serve.listen is not a loopback address (127.0.0.1, ::1, localhost): anyone who can reach :8484 could read the status and trigger runs; set it from the environment, such as ${SFSYNC_SERVE_TOKEN}"}},
		},
		{
			name: "loopback addresses need none",
			yaml: "serve:\n  listen: \"[::1]:8484\"\n",
		},
		{
			name: "localhost needs none",
			yaml: "serve:\n  listen: localhost:0\n",
		},
		{
			name: "bad values",
			yaml: `serve:
  listen: nonsense
  token: short
  schedule: every day
  schedules:
    "Bad Name": 5m
    Lead: "* * *"
    Case: "@every 10ms"
  retry: {max_attempts: 0, initial_delay: 0s, max_delay: -1s}
  budget_share: 1.5
  run_retention: 10m
  lease_ttl: 1s
`,
			want: []Problem{
				{Path: "serve.listen", Line: 10, Message: `must be host:port, such as 127.0.0.1:8484 (got "nonsense")`},
				{Path: "serve.token", Line: 11, Message: "must be at least 16 characters long"},
				{Path: "serve.schedule", Line: 12, Message: `"day" is not a duration such as 15m or 1h30m`},
				{Path: "serve.schedules.Bad Name", Line: 14, Message: `"Bad Name" is not an object API name`},
				{Path: "serve.schedules.Case", Line: 16, Message: "the interval must be at least 1s"},
				{Path: "serve.schedules.Lead", Line: 15, Message: `must be an interval such as "15m" or a cron expression such as "*/15 * * * *" (a cron expression has 5 fields: minute hour day-of-month month day-of-week; got 3)`},
				{Path: "serve.retry.max_attempts", Line: 17, Message: "must be at least 1 (1: never retry before the next scheduled run)"},
				{Path: "serve.retry.initial_delay", Line: 17, Message: "must be positive, such as 30s"},
				{Path: "serve.retry.max_delay", Line: 17, Message: "must be at least serve.retry.initial_delay"},
				{Path: "serve.budget_share", Line: 18, Message: "must be more than 0 and at most 1, such as 0.8 (80% of the org's daily API allowance)"},
				{Path: "serve.run_retention", Line: 19, Message: "must be at least 1h, such as 720h (30 days)"},
				{Path: "serve.lease_ttl", Line: 20, Message: "must be at least 4s, such as 2m (leases are renewed every third of it)"},
			},
		},
		{
			name: "decode problems",
			yaml: "serve:\n  budget_share: lots\n  schedules: [Account]\n  retry: {attempts: 3}\n  lissen: x\n",
			want: []Problem{
				{Path: "serve.budget_share", Line: 10, Message: `must be a share such as 0.8 or 80% (got "lots")`},
				{Path: "serve.schedules", Line: 11, Message: "must be a mapping of object names to schedules, such as {Account: 5m}"},
				{Path: "serve.retry.attempts", Line: 12, Message: "unknown key (known keys: max_attempts, initial_delay, max_delay)"},
				{Path: "serve.lissen", Line: 13, Message: "unknown key (did you mean listen?)"},
			},
		},
		{
			name: "repeated object",
			yaml: "serve:\n  schedules:\n    Account: 5m\n    account: 10m\n",
			want: []Problem{{Path: "serve.schedules.account", Line: 12, Message: "repeated object (first at line 11)"}},
		},
		{
			name: "cron characters and zones",
			yaml: "serve:\n  schedule: \"CRON_TZ=Mars/Base 0 6 * * *\"\n  schedules:\n    Account: \"0 6 * * $\"\n",
			want: []Problem{
				{Path: "serve.schedule", Line: 10, Message: `unknown time zone "Mars/Base" in CRON_TZ`},
				{Path: "serve.schedules.Account", Line: 12, Message: `cron field "$" has '$'; fields take numbers, names, *, ranges (1-5), steps (*/15) and lists (1,15)`},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(minimal+tc.yaml), serveEnv)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			got := problems(t, err)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if strings.Contains(err.Error(), "short") && tc.name == "bad values" {
				t.Errorf("a problem quotes the token: %v", err)
			}
		})
	}
}
