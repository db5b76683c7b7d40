package config

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/sfsync/sfsync"
)

// Problem is one thing wrong with a configuration.
type Problem struct {
	// Path locates the setting: "sync.page_size", "objects[2].delete_mode".
	Path string
	// Line is the line in the file, when known (0 otherwise).
	Line int
	// Message says what is wrong and, where it helps, what to write.
	Message string
}

// String renders the problem as "path (line N): message".
func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s (line %d): %s", p.Path, p.Line, p.Message)
	}
	return p.Path + ": " + p.Message
}

// ValidationError lists every problem found in a configuration.
type ValidationError struct {
	Problems []Problem
}

// Error lists the problems one per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Validate reports every problem in c at once, as a *ValidationError; nil
// when there is none. It checks c as it is: defaults are applied by Load and
// Parse (or start from Default), not here.
func (c *Config) Validate() error {
	if p := c.problems(); len(p) > 0 {
		return &ValidationError{Problems: p}
	}
	return nil
}

// checker collects problems.
type checker struct{ problems []Problem }

func (v *checker) add(path, format string, args ...any) {
	v.problems = append(v.problems, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (c *Config) problems() []Problem {
	v := &checker{}
	c.Salesforce.check(v)
	c.Warehouse.check(v)
	c.Schemas.check(v)
	c.Sync.check(v)
	c.Sync.checkResultStreams(v, c.Salesforce.APIVersion)
	checkObjects(v, c.Objects)
	c.Serve.check(v)
	for i, g := range c.Exclude {
		if msg := patternProblem(g); msg != "" {
			v.add(fmt.Sprintf("exclude[%d]", i), "%s", msg)
		}
	}
	return v.problems
}

var authMethods = []string{AuthJWT, AuthPassword, AuthClientCredentials, AuthRefreshToken}

// credential is one setting whose use depends on the auth method.
type credential struct {
	key string
	set bool
	// need says, per method, whether the setting is required ('r'),
	// optional ('o') or not used (absent).
	need map[string]byte
}

func (s *Salesforce) check(v *checker) {
	checkLoginURL(v, s.LoginURL, s.Auth)
	known := false
	for _, m := range authMethods {
		known = known || s.Auth == m
	}
	switch {
	case s.Auth == "":
		v.add("salesforce.auth", "required: one of %s", strings.Join(authMethods, ", "))
	case !known:
		v.add("salesforce.auth", "must be one of %s (got %q)", strings.Join(authMethods, ", "), s.Auth)
	}
	if s.ClientID == "" {
		v.add("salesforce.client_id", "required: the connected app's consumer key")
	}
	if known {
		creds := []credential{
			{"client_secret", !s.ClientSecret.IsZero(), map[string]byte{AuthPassword: 'r', AuthClientCredentials: 'r', AuthRefreshToken: 'o'}},
			{"username", s.Username != "", map[string]byte{AuthJWT: 'r', AuthPassword: 'r'}},
			{"password", !s.Password.IsZero(), map[string]byte{AuthPassword: 'r'}},
			{"private_key_file", s.PrivateKeyFile != "", map[string]byte{AuthJWT: 'o'}},
			{"private_key", !s.PrivateKey.IsZero(), map[string]byte{AuthJWT: 'o'}},
			{"refresh_token", !s.RefreshToken.IsZero(), map[string]byte{AuthRefreshToken: 'r'}},
		}
		for _, cr := range creds {
			p := "salesforce." + cr.key
			switch need := cr.need[s.Auth]; {
			case need == 'r' && !cr.set:
				v.add(p, "required when auth is %s", s.Auth)
			case need == 0 && cr.set:
				v.add(p, "not used when auth is %s; remove it", s.Auth)
			}
		}
		if s.Auth == AuthJWT {
			switch {
			case s.PrivateKeyFile == "" && s.PrivateKey.IsZero():
				v.add("salesforce.private_key_file", "required when auth is jwt (or give the PEM key itself in salesforce.private_key)")
			case s.PrivateKeyFile != "" && !s.PrivateKey.IsZero():
				v.add("salesforce.private_key", "set private_key_file or private_key, not both")
			}
		}
	}
	checkAPIVersion(v, s.APIVersion)
}

// checkLoginURL never quotes the URL: it could carry credentials.
func checkLoginURL(v *checker, raw, auth string) {
	const p = "salesforce.login_url"
	if raw == "" {
		v.add(p, "required, such as %s", DefaultLoginURL)
		return
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		v.add(p, "must be an http(s) URL such as %s", DefaultLoginURL)
		return
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		v.add(p, "must be an http(s) URL such as %s", DefaultLoginURL)
	case u.User != nil:
		v.add(p, "must not hold a user name or password; use the credential settings")
	case u.RawQuery != "" || u.Fragment != "":
		v.add(p, "must not have a query or fragment")
	case u.Scheme == "http" && !isLoopback(u.Hostname()):
		v.add(p, "must use https; plain http is allowed only for a local emulator (localhost, 127.0.0.1, ::1)")
	case auth == AuthClientCredentials && isLoginHost(u.Hostname()):
		v.add(p, "client_credentials needs the org's My Domain URL (https://<domain>.my.salesforce.com), not %s", u.Hostname())
	}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func isLoginHost(host string) bool {
	return strings.EqualFold(host, "login.salesforce.com") || strings.EqualFold(host, "test.salesforce.com")
}

// minAPIVersion is the oldest REST API version Salesforce still serves.
const minAPIVersion = 31

func checkAPIVersion(v *checker, version string) {
	major, minor, ok := strings.Cut(version, ".")
	n, err := strconv.Atoi(major)
	if !ok || err != nil || minor != "0" || major[0] == '+' || major[0] == '-' {
		v.add("salesforce.api_version", `must be a version such as "%s" (got %q)`, DefaultAPIVersion, version)
		return
	}
	if n < minAPIVersion {
		v.add("salesforce.api_version", "must be at least %d.0 (got %q)", minAPIVersion, version)
	}
}

func (w *Warehouse) check(v *checker) {
	switch w.Type {
	case WarehouseDuckDB:
		if w.Path == "" {
			v.add("warehouse.path", "required when type is duckdb")
		}
		if !w.DSN.IsZero() {
			v.add("warehouse.dsn", "not used when type is duckdb; remove it")
		}
	case WarehousePostgres, WarehouseRedshift:
		if w.DSN.IsZero() {
			v.add("warehouse.dsn", "required when type is %s, such as ${SFSYNC_PG_DSN}", w.Type)
		}
		if w.Path != "" {
			v.add("warehouse.path", "not used when type is postgres; remove it")
		}
		if w.MemoryLimit != "" {
			v.add("warehouse.memory_limit", "not used when type is postgres; remove it")
		}
		if w.Threads != 0 {
			v.add("warehouse.threads", "not used when type is postgres; remove it")
		}
	default:
		v.add("warehouse.type", "must be %s, %s or %s (got %q)", WarehouseDuckDB, WarehousePostgres, WarehouseRedshift, w.Type)
	}
	switch w.Text {
	case "", "clean", "reject":
		if w.Text != "" && w.Type == WarehouseDuckDB {
			v.add("warehouse.text", "not used when type is duckdb (it stores any text); remove it")
		}
	default:
		v.add("warehouse.text", "must be clean or reject (got %q)", w.Text)
	}
	if w.Threads < 0 {
		v.add("warehouse.threads", "must be 0 (one per core) or more")
	}
	if w.MemoryLimit != "" && !memoryLimitPattern.MatchString(w.MemoryLimit) {
		v.add("warehouse.memory_limit", "must be a size such as 512MB or 4GB, or a share of RAM such as 50%%")
	}
}

var memoryLimitPattern = regexp.MustCompile(`^(?i)\s*[0-9]+(\.[0-9]+)?\s*(b|kb|mb|gb|tb|kib|mib|gib|tib|%)\s*$`)

// maxIdentifier is PostgreSQL's identifier limit, the tightest of the
// supported warehouses.
const maxIdentifier = 63

func (s *Schemas) check(v *checker) {
	names := []struct{ key, value string }{{"final", s.Final}, {"staging", s.Staging}, {"control", s.Control}}
	for i, n := range names {
		p := "schemas." + n.key
		if !isIdentifier(n.value) {
			v.add(p, "must be a schema name of letters, digits and _, not starting with a digit, at most %d characters (got %q)", maxIdentifier, n.value)
			continue
		}
		for _, earlier := range names[:i] {
			if strings.EqualFold(n.value, earlier.value) {
				v.add(p, "must differ from schemas.%s", earlier.key)
			}
		}
	}
}

func isIdentifier(s string) bool {
	if s == "" || len(s) > maxIdentifier || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, r := range s {
		if !isWordRune(r) {
			return false
		}
	}
	return true
}

func isWordRune(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// Page size bounds of the REST query batchSize hint.
const (
	minPageSize = 200
	maxPageSize = 2000
)

func (s *Sync) check(v *checker) {
	if s.Lookback < 0 {
		v.add("sync.lookback", "must not be negative")
	}
	if s.BatchRows < 1 {
		v.add("sync.batch_rows", "must be at least 1")
	}
	if s.PageSize < minPageSize || s.PageSize > maxPageSize {
		v.add("sync.page_size", "must be between %d and %d", minPageSize, maxPageSize)
	}
	if s.Parallelism < 1 {
		v.add("sync.parallelism", "must be at least 1")
	}
	if s.DeleteMode != sfsync.DeleteSoft && s.DeleteMode != sfsync.DeleteHard {
		v.add("sync.delete_mode", `must be "soft" or "hard"`)
	}
	if s.StagingRetention < 0 {
		v.add("sync.staging_retention", "must not be negative")
	}
	if s.BulkThreshold < 0 {
		v.add("sync.bulk_threshold", "must not be negative")
	}
}

// MaxBulkResultStreams caps sync.bulk_result_streams: each stream is a
// long request, and an org allows only a few dozen long requests at once
// for all its integrations.
const MaxBulkResultStreams = 10

// minResultPagesVersion is the first API version with a Bulk job's
// resultPages resource, which parallel result downloads need.
const minResultPagesVersion = 58.0

// checkResultStreams checks sync.bulk_result_streams, which above 1 needs
// salesforce.api_version 58.0 or later.
func (s *Sync) checkResultStreams(v *checker, apiVersion string) {
	n := s.BulkResultStreams
	if n < 1 || n > MaxBulkResultStreams {
		v.add("sync.bulk_result_streams", "must be between 1 (result pages one after the other) and %d (pages downloaded at once per Bulk job) (got %d)", MaxBulkResultStreams, n)
		return
	}
	if ver, err := strconv.ParseFloat(strings.TrimPrefix(apiVersion, "v"), 64); n > 1 && err == nil && ver < minResultPagesVersion {
		v.add("sync.bulk_result_streams", "above 1 needs salesforce.api_version %.1f or later (got %s); set it to 1 or raise api_version", minResultPagesVersion, apiVersion)
	}
}

// alwaysReplicated are fields every replica keeps, whatever exclude says.
var alwaysReplicated = []string{"Id", "IsDeleted", "SystemModstamp"}

func checkObjects(v *checker, objs []ObjectConfig) {
	if len(objs) == 0 {
		v.add("objects", "list at least one object to replicate, such as [Account, Contact]")
		return
	}
	first := map[string]int{}
	for i, o := range objs {
		p := fmt.Sprintf("objects[%d]", i)
		switch {
		case o.Name == "":
			v.add(p+".name", "required: an object API name or a glob such as \"*__c\"")
		case o.IsGlob():
			if msg := patternProblem(o.Name); msg != "" {
				v.add(p+".name", "%s", msg)
			}
		case !isName(o.Name):
			v.add(p+".name", "%q is not an object API name (letters, digits and _, starting with a letter)", o.Name)
		}
		if o.Name != "" {
			key := strings.ToLower(o.Name)
			if j, dup := first[key]; dup {
				v.add(p+".name", "duplicate %q (first at objects[%d])", o.Name, j)
			} else {
				first[key] = i
			}
		}
		checkFields(v, p+".fields", o.Fields)
		if msg := filterProblem(o.Filter); msg != "" {
			v.add(p+".filter", "%s", msg)
		}
		if o.DeleteMode != "" && o.DeleteMode != sfsync.DeleteSoft && o.DeleteMode != sfsync.DeleteHard {
			v.add(p+".delete_mode", `must be "soft" or "hard"`)
		}
	}
}

func checkFields(v *checker, path string, f FieldSelection) {
	included := map[string]bool{}
	for i, name := range f.Include {
		if !isName(name) {
			v.add(fmt.Sprintf("%s.include[%d]", path, i), "%q is not a field API name", name)
		}
		included[strings.ToLower(name)] = true
	}
	for i, name := range f.Exclude {
		p := fmt.Sprintf("%s.exclude[%d]", path, i)
		switch {
		case !isName(name):
			v.add(p, "%q is not a field API name", name)
		case included[strings.ToLower(name)]:
			v.add(p, "%s is also in include", name)
		default:
			for _, keep := range alwaysReplicated {
				if strings.EqualFold(name, keep) {
					v.add(p, "%s is always replicated and cannot be excluded", keep)
				}
			}
		}
	}
}

// isName reports whether s is shaped like a Salesforce API name.
func isName(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for _, r := range s {
		if !isWordRune(r) {
			return false
		}
	}
	return true
}

// globMeta are the characters that make an objects entry a glob.
const globMeta = "*?["

// patternProblem checks an objects glob or an exclude entry: path.Match
// syntax over name characters. It returns "" when the pattern is good.
func patternProblem(p string) string {
	if p == "" {
		return "must not be empty"
	}
	if _, err := path.Match(p, ""); err != nil {
		return fmt.Sprintf("%q is not a valid glob (use * for any run of characters, ? for one, [abc] for a set)", p)
	}
	for _, r := range p {
		if !isWordRune(r) && !strings.ContainsRune(globMeta+"]^-\\", r) {
			return fmt.Sprintf("%q has %q, which no object name contains", p, r)
		}
	}
	return ""
}

// filterProblem catches filters that could never be a SOQL condition:
// unbalanced quotes or parentheses. Salesforce judges the rest.
func filterProblem(f string) string {
	if f == "" {
		return ""
	}
	if strings.TrimSpace(f) == "" {
		return "must not be blank"
	}
	depth := 0
	inString := false
	for i := 0; i < len(f); i++ {
		switch c := f[i]; {
		case inString && c == '\\':
			i++
		case c == '\'':
			inString = !inString
		case inString:
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth < 0 {
				return "has a ) without a matching ("
			}
		}
	}
	switch {
	case inString:
		return "has an unterminated 'string'"
	case depth > 0:
		return "has a ( without a matching )"
	}
	return ""
}
