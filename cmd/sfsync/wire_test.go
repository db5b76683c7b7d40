package main

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/sfsync/sfsync/config"
)

func TestObjectsAtOnce(t *testing.T) {
	objs := func(names ...string) []config.ObjectConfig {
		var out []config.ObjectConfig
		for _, n := range names {
			out = append(out, config.ObjectConfig{Name: n})
		}
		return out
	}
	for _, tt := range []struct {
		parallelism int
		objects     []config.ObjectConfig
		want        int
	}{
		{2, objs("Account"), 1},
		{2, objs("Account", "Contact", "Lead"), 2},
		{4, objs("Account", "Contact"), 2},
		{3, objs("Account", "*__c"), 3},
		{2, nil, 2},
		{0, objs("Account"), 1},
	} {
		cfg := &config.Config{Objects: tt.objects}
		cfg.Sync.Parallelism = tt.parallelism
		if got := objectsAtOnce(cfg); got != tt.want {
			t.Errorf("parallelism %d, objects %v: %d, want %d", tt.parallelism, tt.objects, got, tt.want)
		}
	}
}

// TestCPUProfile checks that --cpu-profile writes a profile pprof reads,
// also when the command fails.
func TestCPUProfile(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		args []string
		fail bool
	}{
		{"ok", []string{"init", "--config", filepath.Join(dir, "sfsync.yaml")}, false},
		{"failed", []string{"check", "--config", filepath.Join(dir, "missing.yaml")}, true},
	} {
		prof := filepath.Join(dir, tt.name+".prof")
		_, _, err := execute(t, append(tt.args, "--cpu-profile", prof)...)
		if (err != nil) != tt.fail {
			t.Fatalf("%s: %v", tt.name, err)
		}
		// A profile is a gzipped protocol buffer, complete once stopped.
		f, err := os.Open(prof)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		z, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			t.Fatalf("%s: not a profile: %v", tt.name, err)
		}
		body, err := io.ReadAll(z)
		f.Close()
		if err != nil || len(body) == 0 {
			t.Errorf("%s: the profile is cut short or empty (%d bytes): %v", tt.name, len(body), err)
		}
	}
}
