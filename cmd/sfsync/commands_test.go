package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/config"
	"github.com/sfsync/sfsync/sfemu"
)

// execute runs the command in-process and returns its stdout and stderr.
func execute(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd(&out, &errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(t.Context())
	return out.String(), errOut.String(), err
}

func TestInitWritesAValidExample(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sfsync.yaml")
	out, _, err := execute(t, "init", "--config", path)
	if err != nil || !strings.Contains(out, "wrote "+path) {
		t.Fatalf("init: %v, %q", err, out)
	}
	if _, _, err := execute(t, "init", "--config", path); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("second init should refuse to overwrite: %v", err)
	}
	t.Setenv("SF_CLIENT_ID", "id")
	t.Setenv("SF_USERNAME", "user@example.com")
	if _, err := config.Load(path); err != nil {
		t.Fatalf("the example does not load: %v", err)
	}
}

func TestCheckReportsEveryProblem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sfsync.yaml")
	bad := "salesforce:\n  auth: pw\n  login_url: ftp://x\nsync:\n  page_size: 5\nobjects: []\n"
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := execute(t, "check", "--config", path)
	if err == nil {
		t.Fatal("check accepted a bad configuration")
	}
	for _, want := range []string{"salesforce.auth", "salesforce.login_url", "sync.page_size", "objects"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("check error does not name %s:\n%v", want, err)
		}
	}
}

func TestCheckRunStatus(t *testing.T) {
	p := newProcEnv(t, map[string]int{"Account": 300, "Contact": 200, "User": 5}, "")
	t.Setenv("EMU_SECRET", "emulator-secret")
	t.Setenv("EMU_PASSWORD", "emulator-password")

	out, _, err := execute(t, "check", "--config", p.config, "--log-level", "error")
	if err != nil {
		t.Fatalf("check: %v\n%s", err, out)
	}
	for _, want := range []string{"configuration: ok", "salesforce: ok", "object Account", "object Contact", "warehouse: ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "emulator-password") || strings.Contains(out, "emulator-secret") {
		t.Errorf("check printed a secret:\n%s", out)
	}

	out, _, err = execute(t, "run", "--config", p.config, "--log-level", "error", "--progress", "none")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`Account\s+complete\s+300\s`).MatchString(out) {
		t.Errorf("run summary:\n%s", out)
	}

	out, _, err = execute(t, "status", "--config", p.config, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []statusRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	got := map[string]statusRow{}
	for _, r := range rows {
		got[r.Object] = r
	}
	if a := got["Account"]; a.Rows != 300 || a.State != "complete" || a.Cursor == nil || a.LagSeconds == nil || a.CursorField != "SystemModstamp" {
		t.Errorf("status of Account: %+v", a)
	}
	if c := got["Contact"]; c.Rows != 200 || c.State != "complete" {
		t.Errorf("status of Contact: %+v", c)
	}
	out, _, err = execute(t, "status", "--config", p.config)
	if err != nil || !regexp.MustCompile(`Account\s+300\s+\S+Z\s+\S+\s+\S+Z\s+complete`).MatchString(out) {
		t.Errorf("status table: %v\n%s", err, out)
	}

	// An object stopped by the API allowance: partial, exit code 3.
	p.emu.InjectFault(sfemu.Fault{Kind: "limit", Route: "query", Times: -1})
	if _, err := p.emu.UpdateRandom("Account", 10, nil); err != nil {
		t.Fatal(err)
	}
	out, _, err = execute(t, "run", "--config", p.config, "--log-level", "error", "--progress", "none", "Account")
	var ce *codedError
	if !errors.As(err, &ce) || ce.code != exitIncomplete || !strings.Contains(out, "API limit reached") {
		t.Fatalf("run over the API limit: %v\n%s", err, out)
	}
	p.emu.ClearFaults()
	out, _, err = execute(t, "status", "--config", p.config)
	if err != nil || !regexp.MustCompile(`Account\s+300\s.*partial\s+\d+\s+0\s+API limit reached`).MatchString(out) {
		t.Errorf("status after a partial run: %v\n%s", err, out)
	}

	// Naming an object that is not configured is an error that says so.
	if _, _, err := execute(t, "run", "--config", p.config, "--log-level", "error", "Lead"); err == nil || !strings.Contains(err.Error(), "not configured: Lead") {
		t.Errorf("run of an unconfigured object: %v", err)
	}
}

// TestStatusShowsAPIUsage checks that a run's API calls and Bulk jobs are
// recorded and shown: Account goes through Bulk (over the threshold),
// Contact through REST.
func TestStatusShowsAPIUsage(t *testing.T) {
	p := newProcEnv(t, map[string]int{"Account": 300, "Contact": 200, "User": 5}, "  bulk_threshold: 250\n")
	t.Setenv("EMU_SECRET", "emulator-secret")
	t.Setenv("EMU_PASSWORD", "emulator-password")
	out, _, err := execute(t, "run", "--config", p.config, "--log-level", "error", "--progress", "none")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	// OBJECT STATUS EXTRACTED UPSERTED DELETED CURSOR API CALLS BULK JOBS
	if !regexp.MustCompile(`Account\s+complete\s+300\s+300\s+0\s+\S+Z\s+[1-9]\d*\s+1\s`).MatchString(out) ||
		!regexp.MustCompile(`Contact\s+complete\s+200\s+200\s+0\s+\S+Z\s+[1-9]\d*\s+0\s`).MatchString(out) {
		t.Errorf("run summary:\n%s", out)
	}
	if left := p.emu.BulkJobs(); len(left) != 0 {
		t.Errorf("jobs left behind: %+v", left)
	}

	out, _, err = execute(t, "status", "--config", p.config, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []statusRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	got := map[string]statusRow{}
	for _, r := range rows {
		got[r.Object] = r
	}
	// Account: at least a COUNT(), the job's creation, a poll, a results
	// page and the job's deletion.
	if a := got["Account"]; a.BulkJobs != 1 || a.APICalls < 5 {
		t.Errorf("status of Account: %+v, want 1 bulk job and 5 or more API calls", a)
	}
	if c := got["Contact"]; c.BulkJobs != 0 || c.APICalls < 2 {
		t.Errorf("status of Contact: %+v, want no bulk job and 2 or more API calls", c)
	}
	out, _, err = execute(t, "status", "--config", p.config)
	if err != nil || !regexp.MustCompile(`(?m)^OBJECT\s.*\sSTATE\s+API CALLS\s+BULK JOBS\s+DETAIL$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^Account\s+300\s.*\scomplete\s+[1-9]\d*\s+1\s*$`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^Contact\s+200\s.*\scomplete\s+[1-9]\d*\s+0\s*$`).MatchString(out) {
		t.Errorf("status table: %v\n%s", err, out)
	}
}

func TestProgressBarRendering(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 10, 0, time.UTC)
	op := &objectProgress{total: 1000, done: 250, started: now.Add(-10 * time.Second)}
	line := renderBar("Account", 8, op, now)
	for _, want := range []string{"Account ", "250/1,000", "25 rec/s", "ETA 30s"} {
		if !strings.Contains(line, want) {
			t.Errorf("bar %q lacks %q", line, want)
		}
	}
	op.run = &sfsync.Run{Status: sfsync.RunComplete, RowsUpserted: 1000}
	if line := renderBar("Account", 8, op, now); !strings.Contains(line, "complete: 1000 upserted") || strings.Count(line, "█") != 24 {
		t.Errorf("finished bar %q", line)
	}
	if got := human(1234567); got != "1,234,567" {
		t.Errorf("human = %s", got)
	}
}

// TestReadmeConfigParses keeps the README's configuration example true.
func TestReadmeConfigParses(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindSubmatch(data)
	if m == nil {
		t.Fatal("README has no yaml example")
	}
	env := map[string]string{"SF_CLIENT_ID": "3MVG9example"}
	if _, err := config.Parse(m[1], func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatalf("README's configuration does not parse:\n%v", err)
	}
}
