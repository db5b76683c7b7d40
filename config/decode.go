package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sfsync/sfsync"
	"gopkg.in/yaml.v3"
)

// decoder turns a parsed YAML document into a Config, collecting every
// problem (unknown or repeated keys, values of the wrong shape, environment
// variables not set) with its path and line instead of stopping at the
// first. It walks the node tree itself rather than using yaml.v3's struct
// decoding, which stops at the first error, cannot report unknown keys
// inside custom unmarshalers, and would quote values (possibly secrets from
// the environment) in its errors.
type decoder struct {
	// env looks variables up; nil turns expansion off (values are taken
	// literally).
	env      func(string) (string, bool)
	problems []Problem
	// lines maps each decoded path to its value's line, so that problems
	// found later by Validate can point into the file.
	lines map[string]int
}

// field is one key a mapping accepts.
type field struct {
	key    string
	decode func(v *yaml.Node, path string)
}

func (d *decoder) problem(line int, path, format string, args ...any) {
	d.problems = append(d.problems, Problem{Path: path, Line: line, Message: fmt.Sprintf(format, args...)})
}

// document decodes a whole file into c.
func (d *decoder) document(data []byte, c *Config) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("not valid YAML: %w", err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil // empty file: Validate says what is missing
	}
	d.mapping(doc.Content[0], "", []field{
		{"salesforce", func(v *yaml.Node, p string) { d.salesforce(v, p, &c.Salesforce) }},
		{"warehouse", func(v *yaml.Node, p string) { d.warehouse(v, p, &c.Warehouse) }},
		{"schemas", func(v *yaml.Node, p string) { d.schemas(v, p, &c.Schemas) }},
		{"sync", func(v *yaml.Node, p string) { d.sync(v, p, &c.Sync) }},
		{"objects", func(v *yaml.Node, p string) { d.objects(v, p, &c.Objects) }},
		{"exclude", func(v *yaml.Node, p string) { d.strings(v, p, &c.Exclude) }},
		{"serve", func(v *yaml.Node, p string) { d.serve(v, p, &c.Serve) }},
	})
	return nil
}

func (d *decoder) salesforce(n *yaml.Node, path string, s *Salesforce) {
	d.mapping(n, path, []field{
		{"login_url", func(v *yaml.Node, p string) { d.str(v, p, &s.LoginURL) }},
		{"auth", func(v *yaml.Node, p string) { d.str(v, p, &s.Auth) }},
		{"client_id", func(v *yaml.Node, p string) { d.str(v, p, &s.ClientID) }},
		{"client_secret", func(v *yaml.Node, p string) { d.secret(v, p, &s.ClientSecret) }},
		{"username", func(v *yaml.Node, p string) { d.str(v, p, &s.Username) }},
		{"password", func(v *yaml.Node, p string) { d.secret(v, p, &s.Password) }},
		{"private_key_file", func(v *yaml.Node, p string) { d.str(v, p, &s.PrivateKeyFile) }},
		{"private_key", func(v *yaml.Node, p string) { d.secret(v, p, &s.PrivateKey) }},
		{"refresh_token", func(v *yaml.Node, p string) { d.secret(v, p, &s.RefreshToken) }},
		{"api_version", func(v *yaml.Node, p string) {
			if d.str(v, p, &s.APIVersion) {
				s.APIVersion = normalizeAPIVersion(s.APIVersion)
			}
		}},
	})
	s.LoginURL = strings.TrimRight(s.LoginURL, "/")
}

// normalizeAPIVersion accepts "v62.0" and "62" for "62.0".
func normalizeAPIVersion(v string) string {
	v = strings.TrimPrefix(strings.TrimSpace(v), "v")
	if _, err := strconv.Atoi(v); err == nil {
		v += ".0"
	}
	return v
}

func (d *decoder) warehouse(n *yaml.Node, path string, w *Warehouse) {
	d.mapping(n, path, []field{
		{"type", func(v *yaml.Node, p string) { d.str(v, p, &w.Type) }},
		{"path", func(v *yaml.Node, p string) { d.str(v, p, &w.Path) }},
		{"dsn", func(v *yaml.Node, p string) { d.secret(v, p, &w.DSN) }},
		{"memory_limit", func(v *yaml.Node, p string) { d.str(v, p, &w.MemoryLimit) }},
		{"threads", func(v *yaml.Node, p string) { d.integer(v, p, &w.Threads) }},
		{"text", func(v *yaml.Node, p string) { d.str(v, p, &w.Text) }},
	})
}

func (d *decoder) schemas(n *yaml.Node, path string, s *Schemas) {
	d.mapping(n, path, []field{
		{"final", func(v *yaml.Node, p string) { d.str(v, p, &s.Final) }},
		{"staging", func(v *yaml.Node, p string) { d.str(v, p, &s.Staging) }},
		{"control", func(v *yaml.Node, p string) { d.str(v, p, &s.Control) }},
	})
}

func (d *decoder) sync(n *yaml.Node, path string, s *Sync) {
	d.mapping(n, path, []field{
		{"lookback", func(v *yaml.Node, p string) { d.duration(v, p, &s.Lookback) }},
		{"batch_rows", func(v *yaml.Node, p string) { d.integer(v, p, &s.BatchRows) }},
		{"page_size", func(v *yaml.Node, p string) { d.integer(v, p, &s.PageSize) }},
		{"parallelism", func(v *yaml.Node, p string) { d.integer(v, p, &s.Parallelism) }},
		{"delete_mode", func(v *yaml.Node, p string) { d.deleteMode(v, p, &s.DeleteMode) }},
		{"staging_retention", func(v *yaml.Node, p string) { d.duration(v, p, &s.StagingRetention) }},
		{"bulk_threshold", func(v *yaml.Node, p string) { d.integer(v, p, &s.BulkThreshold) }},
		{"bulk_result_streams", func(v *yaml.Node, p string) { d.integer(v, p, &s.BulkResultStreams) }},
	})
}

func (d *decoder) objects(n *yaml.Node, path string, out *[]ObjectConfig) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.problem(n.Line, path, "must be a list of object names or mappings")
		return
	}
	objs := make([]ObjectConfig, len(n.Content))
	for i, item := range n.Content {
		d.object(item, fmt.Sprintf("%s[%d]", path, i), &objs[i])
	}
	*out = objs
}

// object decodes one objects entry: a name, or a mapping with options.
func (d *decoder) object(n *yaml.Node, path string, o *ObjectConfig) {
	n = resolve(n)
	d.lines[path] = n.Line
	switch n.Kind {
	case yaml.ScalarNode:
		d.lines[path+".name"] = n.Line
		d.str(n, path+".name", &o.Name)
	case yaml.MappingNode:
		d.mapping(n, path, []field{
			{"name", func(v *yaml.Node, p string) { d.str(v, p, &o.Name) }},
			{"fields", func(v *yaml.Node, p string) {
				d.mapping(v, p, []field{
					{"include", func(v *yaml.Node, p string) { d.strings(v, p, &o.Fields.Include) }},
					{"exclude", func(v *yaml.Node, p string) { d.strings(v, p, &o.Fields.Exclude) }},
				})
			}},
			{"filter", func(v *yaml.Node, p string) { d.str(v, p, &o.Filter) }},
			{"delete_mode", func(v *yaml.Node, p string) { d.deleteMode(v, p, &o.DeleteMode) }},
			{"full_refresh_only", func(v *yaml.Node, p string) { d.boolean(v, p, &o.FullRefreshOnly) }},
		})
	default:
		d.problem(n.Line, path, "must be an object name or a mapping with a name")
	}
}

// mapping decodes a mapping node by its keys, reporting unknown and repeated
// keys. A null node (a key with nothing after it) leaves everything as is.
func (d *decoder) mapping(n *yaml.Node, path string, fields []field) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.problem(n.Line, orRoot(path), "must be a mapping of keys to values")
		return
	}
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := join(path, k.Value)
		if line, dup := first[k.Value]; dup {
			d.problem(k.Line, p, "repeated key (first at line %d)", line)
			continue
		}
		first[k.Value] = k.Line
		f, ok := lookupField(fields, k.Value)
		if !ok {
			d.problem(k.Line, p, "unknown key%s", suggestKey(k.Value, fields))
			continue
		}
		d.lines[p] = resolve(v).Line
		f.decode(v, p)
	}
}

func lookupField(fields []field, key string) (field, bool) {
	for _, f := range fields {
		if f.key == key {
			return f, true
		}
	}
	return field{}, false
}

// suggestKey names the closest known key, or lists them all.
func suggestKey(key string, fields []field) string {
	keys := make([]string, len(fields))
	for i, f := range fields {
		keys[i] = f.key
	}
	if best, ok := closest(key, keys); ok {
		return fmt.Sprintf(" (did you mean %s?)", best)
	}
	return " (known keys: " + strings.Join(keys, ", ") + ")"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orRoot(path string) string {
	if path == "" {
		return "(top level)"
	}
	return path
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// scalar returns a scalar value with environment references expanded. ok is
// false when the value is null (keep the default) or could not be used (a
// problem was recorded). fromEnv reports whether any of the value came from
// the environment, in which case it must not be quoted in messages.
func (d *decoder) scalar(n *yaml.Node, path string) (value string, fromEnv, ok bool) {
	n = resolve(n)
	if isNull(n) {
		return "", false, false
	}
	if n.Kind != yaml.ScalarNode {
		what := "a list"
		if n.Kind == yaml.MappingNode {
			what = "a mapping"
		}
		d.problem(n.Line, path, "must be a single value, not %s", what)
		return "", false, false
	}
	if d.env == nil {
		return n.Value, false, true
	}
	value, fromEnv, problems := expand(n.Value, d.env)
	for _, msg := range problems {
		d.problem(n.Line, path, "%s", msg)
	}
	return value, fromEnv, len(problems) == 0
}

func (d *decoder) str(n *yaml.Node, path string, dst *string) bool {
	v, _, ok := d.scalar(n, path)
	if ok {
		*dst = v
	}
	return ok
}

func (d *decoder) secret(n *yaml.Node, path string, dst *sfsync.Secret) {
	if v, _, ok := d.scalar(n, path); ok {
		*dst = sfsync.Secret(v)
	}
}

func (d *decoder) deleteMode(n *yaml.Node, path string, dst *sfsync.DeleteMode) {
	if v, _, ok := d.scalar(n, path); ok {
		*dst = sfsync.DeleteMode(v)
	}
}

// quote shows a bad value, unless it came from the environment.
func quote(v string, fromEnv bool) string {
	if fromEnv {
		return "a value from the environment"
	}
	return strconv.Quote(v)
}

func (d *decoder) integer(n *yaml.Node, path string, dst *int) {
	v, fromEnv, ok := d.scalar(n, path)
	if !ok {
		return
	}
	i, err := strconv.Atoi(strings.ReplaceAll(strings.TrimSpace(v), "_", ""))
	if err != nil {
		d.problem(resolve(n).Line, path, "must be a whole number (got %s)", quote(v, fromEnv))
		return
	}
	*dst = i
}

func (d *decoder) duration(n *yaml.Node, path string, dst *time.Duration) {
	v, fromEnv, ok := d.scalar(n, path)
	if !ok {
		return
	}
	dur, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil {
		d.problem(resolve(n).Line, path, `must be a duration such as "90s", "5m" or "1h30m" (got %s)`, quote(v, fromEnv))
		return
	}
	*dst = dur
}

func (d *decoder) boolean(n *yaml.Node, path string, dst *bool) {
	v, fromEnv, ok := d.scalar(n, path)
	if !ok {
		return
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true":
		*dst = true
	case "false":
		*dst = false
	default:
		d.problem(resolve(n).Line, path, "must be true or false (got %s)", quote(v, fromEnv))
	}
}

// strings decodes a list of strings; a single value is not taken for a
// one-element list, since `exclude: Foo` is as likely a mistake as not.
func (d *decoder) strings(n *yaml.Node, path string, dst *[]string) {
	n = resolve(n)
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.problem(n.Line, path, "must be a list, such as [A, B]")
		return
	}
	out := make([]string, 0, len(n.Content))
	for i, item := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		d.lines[p] = resolve(item).Line
		if v, _, ok := d.scalar(item, p); ok {
			out = append(out, v)
		} else if isNull(resolve(item)) {
			d.problem(resolve(item).Line, p, "must not be empty")
		}
	}
	*dst = out
}

// expand replaces ${NAME} and ${NAME:-default} in s with environment values
// (the default when NAME is unset or empty) and $$ with $. A $ followed by
// anything else is kept. Problem messages name variables, never values.
func expand(s string, env func(string) (string, bool)) (out string, fromEnv bool, problems []string) {
	if !strings.Contains(s, "$") {
		return s, false, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '$' || i+1 == len(s) {
			b.WriteByte(s[i])
			i++
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i += 2
			continue
		case '{':
		default:
			b.WriteByte('$')
			i++
			continue
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			problems = append(problems, `has "${" without a closing "}" (write $$ for a literal $)`)
			return s, fromEnv, problems
		}
		name, def, hasDef := strings.Cut(s[i+2:i+2+end], ":-")
		i += 2 + end + 1
		if !validEnvName(name) {
			problems = append(problems, "has an invalid ${...} reference: a variable name is letters, digits and _, not starting with a digit (write $$ for a literal $)")
			continue
		}
		fromEnv = true
		v, set := env(name)
		switch {
		case hasDef && v == "":
			v = def
		case !set:
			problems = append(problems, fmt.Sprintf("environment variable %s is not set", name))
		}
		b.WriteString(v)
	}
	return b.String(), fromEnv, problems
}

func validEnvName(name string) bool {
	if name == "" || (name[0] >= '0' && name[0] <= '9') {
		return false
	}
	for _, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
