package sfsync

import "log/slog"

// Secret holds a password, client secret, token or key. Its String, GoString,
// LogValue and MarshalText forms are redacted, so a secret that reaches a log
// line, an error, a status page or a JSON document shows as "[redacted]".
// Reveal returns the real value, for the one place that sends it.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s == "" }

// String redacts.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString redacts, for %#v.
func (s Secret) GoString() string { return s.String() }

// LogValue redacts, for log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText redacts, for encoding/json and YAML output.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
