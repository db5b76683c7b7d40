package web

import (
	"context"
	"image/png"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/orchestrator"
	"github.com/sfsync/sfsync/replicate"
	"github.com/sfsync/sfsync/salesforce"
	"github.com/sfsync/sfsync/sfemu"
	"github.com/sfsync/sfsync/warehouse/duckdb"
)

// chromium finds the browser, or skips the test saying why (unless
// SFSYNC_TEST_CHROMIUM_REQUIRED=1 makes its absence a failure).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("SFSYNC_TEST_CHROMIUM_REQUIRED") == "1" {
		t.Fatal("chromium is not installed and SFSYNC_TEST_CHROMIUM_REQUIRED=1: install it (apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); skipping the browser test")
	return ""
}

// headless runs the browser on url with extra flags and returns stdout.
func headless(t *testing.T, bin, url string, flags ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--no-first-run", "--disable-extensions", "--user-data-dir=" + t.TempDir()}, flags...)
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	return string(out)
}

// TestPageInChromium replicates three objects with a real runner (one of
// them misconfigured), then loads the status page in headless Chromium and
// checks what a person would see: every object with its state, rows and
// error, the run history, and a chart point per run.
func TestPageInChromium(t *testing.T) {
	bin := chromium(t)
	emu, err := sfemu.New(sfemu.Options{Seed: 3, Records: map[string]int{"Account": 300, "Contact": 200}})
	if err != nil {
		t.Fatal(err)
	}
	sf := httptest.NewServer(emu)
	defer sf.Close()
	src, err := salesforce.New(salesforce.Options{
		Credentials: salesforce.Credentials{Method: "password", LoginURL: sf.URL, ClientID: "sfsync-emulator",
			ClientSecret: "emulator-secret", Username: "admin@emulator.example", Password: "emulator-password"},
		Retry: salesforce.RetryPolicy{MaxAttempts: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := orchestrator.New(orchestrator.Options{
		Source: src,
		Open:   duckdb.Opener(duckdb.Options{Path: filepath.Join(t.TempDir(), "replica.duckdb"), Threads: 2}, "page-test"),
		Objects: []orchestrator.Object{
			{Spec: replicate.ObjectSpec{Name: "Account"}},
			{Spec: replicate.ObjectSpec{Name: "Contact"}},
			{Spec: replicate.ObjectSpec{Name: "Lead", Filter: "Bogus__c = 1"}},
		},
		Parallelism: 3,
		Poll:        10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()
	deadline := time.Now().Add(90 * time.Second)
	for {
		finished := 0
		for _, v := range r.Objects() {
			if !v.Running && v.LastRun != nil {
				finished++
			}
		}
		if finished == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting for the runs")
		}
		time.Sleep(10 * time.Millisecond)
	}

	h, err := New(Options{Service: r})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	dom := headless(t, bin, srv.URL+"/", "--dump-dom")

	rowOf := func(object string) string {
		m := regexp.MustCompile(`(?s)<tr data-object="` + object + `" data-state="[^"]*"[^>]*>.*?</tr>`).FindString(dom)
		if m == "" {
			t.Fatalf("the page shows no row for %s:\n%s", object, dom)
		}
		return m
	}
	cells := func(row string) []string {
		var out []string
		for _, m := range regexp.MustCompile(`(?s)<td[^>]*>(.*?)</td>`).FindAllStringSubmatch(row, -1) {
			text := regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[1], " ")
			out = append(out, strings.Join(strings.Fields(text), " "))
		}
		return out
	}
	for _, tc := range []struct {
		object, state, outcome string
		rows                   int
		detail                 string
	}{
		{"Account", "done", "complete", len(emu.Truth("Account")), ""},
		{"Contact", "done", "complete", len(emu.Truth("Contact")), ""},
		{"Lead", "failed", "failed", 0, "Bogus__c"},
	} {
		c := cells(rowOf(tc.object))
		if len(c) < 10 {
			t.Fatalf("%s row has %d cells: %q", tc.object, len(c), c)
		}
		if c[0] != tc.object || c[1] != tc.state || c[2] != tc.outcome || c[3] != strconv.Itoa(tc.rows) {
			t.Errorf("%s row reads %q; want %s, %s, %s, %d rows", tc.object, c, tc.object, tc.state, tc.outcome, tc.rows)
		}
		if tc.detail != "" && !strings.Contains(c[9], tc.detail) {
			t.Errorf("%s row's detail %q does not show the error (%s)", tc.object, c[9], tc.detail)
		}
		if tc.state == "done" && (c[4] == "-" || c[5] == "-") {
			t.Errorf("%s row shows no cursor or lag: %q", tc.object, c)
		}
	}
	if n := strings.Count(dom, "<circle "); n != 3 {
		t.Errorf("the chart shows %d points, want one per run (3)", n)
	}
	for _, want := range []string{`<g class="series" data-object="Account">`, `<g class="series" data-object="Lead">`,
		`<table id="runs">`, "API usage:", "closed between runs"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, secret := range []sfsync.Secret{"emulator-secret", "emulator-password"} {
		if strings.Contains(dom, secret.Reveal()) {
			t.Error("the page shows a credential")
		}
	}

	// And a look: the screenshot is the page, not a blank or error tab.
	shot := filepath.Join(t.TempDir(), "status.png")
	headless(t, bin, srv.URL+"/", "--hide-scrollbars", "--window-size=1280,900", "--screenshot="+shot)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 900 {
		t.Errorf("screenshot is %v, want 1280x900", b)
	}
	colours := map[[3]uint32]bool{}
	for y := img.Bounds().Min.Y; y < img.Bounds().Max.Y; y += 7 {
		for x := img.Bounds().Min.X; x < img.Bounds().Max.X; x += 7 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[[3]uint32{r >> 8, g >> 8, b >> 8}] = true
		}
	}
	if len(colours) < 20 {
		t.Errorf("the screenshot has %d colours; the page did not render", len(colours))
	}
	if dir := os.Getenv("SFSYNC_TEST_SCREENSHOT_DIR"); dir != "" {
		data, _ := os.ReadFile(shot)
		_ = os.WriteFile(filepath.Join(dir, "status.png"), data, 0o644)
	}
}
