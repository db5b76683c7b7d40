package sfsync

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("hunter2-token")
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("login", "password", s)
	js, _ := json.Marshal(struct{ P Secret }{s})
	for name, out := range map[string]string{
		"%v":   fmt.Sprintf("%v", s),
		"%q":   fmt.Sprintf("%q", s),
		"%+v":  fmt.Sprintf("%+v", struct{ P Secret }{s}),
		"%#v":  fmt.Sprintf("%#v", s),
		"slog": logs.String(),
		"json": string(js),
	} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("%s shows the secret: %s", name, out)
		}
		if !strings.Contains(out, "redacted") {
			t.Errorf("%s does not say redacted: %s", name, out)
		}
	}
	if s.Reveal() != "hunter2-token" {
		t.Fatalf("Reveal = %q", s.Reveal())
	}
}
