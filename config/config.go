// Package config reads sfsync's one configuration file, sfsync.yaml.
//
// Configuration lives only at the edge: the command loads it and maps it to
// the typed options of the libraries, which never read files, flags or the
// environment themselves.
//
// Values may refer to environment variables as ${NAME} or ${NAME:-default};
// $$ stands for a literal $. Expansion happens after YAML parsing, inside
// string values, so a secret holding YAML special characters cannot change
// the document's structure. Passwords, tokens, client secrets, keys and the
// PostgreSQL DSN are sfsync.Secret values: printing, logging or marshalling
// a Config redacts them, and no error from this package contains them.
package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sfsync/sfsync"
)

// Authentication methods (Salesforce.Auth).
const (
	AuthJWT               = "jwt"
	AuthPassword          = "password"
	AuthClientCredentials = "client_credentials"
	AuthRefreshToken      = "refresh_token"
)

// Warehouse types (Warehouse.Type).
const (
	WarehouseDuckDB   = "duckdb"
	WarehousePostgres = "postgres"
	WarehouseRedshift = "redshift"
)

// Defaults for settings the file leaves out.
const (
	DefaultLoginURL      = "https://login.salesforce.com"
	DefaultAPIVersion    = "62.0"
	DefaultDuckDBPath    = "sfsync.duckdb"
	DefaultFinalSchema   = "salesforce"
	DefaultStagingSchema = "salesforce_staging"
	DefaultControlSchema = "_sfsync"
	DefaultLookback      = 5 * time.Minute
	DefaultBatchRows     = 100_000
	DefaultPageSize      = 2000
	DefaultParallelism   = 2
	DefaultBulkThreshold = 50_000
	// DefaultBulkResultStreams downloads a Bulk job's result pages one
	// after the other.
	DefaultBulkResultStreams = 1
)

// Config is the whole configuration file.
type Config struct {
	Salesforce Salesforce `yaml:"salesforce" json:"salesforce"`
	Warehouse  Warehouse  `yaml:"warehouse" json:"warehouse"`
	Schemas    Schemas    `yaml:"schemas" json:"schemas"`
	Sync       Sync       `yaml:"sync" json:"sync"`
	// Objects are the objects to replicate, in the order given: exact API
	// names or globs over the org's queryable objects.
	Objects []ObjectConfig `yaml:"objects" json:"objects"`
	// Exclude holds globs removed from glob matches (never from objects
	// named exactly).
	Exclude []string `yaml:"exclude,omitempty" json:"exclude,omitempty"`
	// Serve configures the service (sfsync serve).
	Serve Serve `yaml:"serve" json:"serve"`
}

// Salesforce says how to reach and authenticate to the org.
type Salesforce struct {
	// LoginURL is the host the token request goes to: login.salesforce.com,
	// test.salesforce.com, a My Domain URL (required for client_credentials)
	// or, over plain http, a local emulator.
	LoginURL string `yaml:"login_url" json:"login_url"`
	// Auth is one of AuthJWT, AuthPassword, AuthClientCredentials and
	// AuthRefreshToken.
	Auth string `yaml:"auth" json:"auth"`
	// ClientID is the connected app's consumer key (every method).
	ClientID string `yaml:"client_id,omitempty" json:"client_id,omitempty"`
	// ClientSecret is the consumer secret (password, client_credentials;
	// optional for refresh_token).
	ClientSecret sfsync.Secret `yaml:"client_secret,omitempty" json:"client_secret,omitempty"`
	// Username is the integration user (password, jwt).
	Username string `yaml:"username,omitempty" json:"username,omitempty"`
	// Password is the user's password with the security token appended
	// (password).
	Password sfsync.Secret `yaml:"password,omitempty" json:"password,omitempty"`
	// PrivateKeyFile is a PEM file holding the key that signs the JWT
	// assertion (jwt). Load makes a relative path relative to the
	// configuration file's directory.
	PrivateKeyFile string `yaml:"private_key_file,omitempty" json:"private_key_file,omitempty"`
	// PrivateKey is the PEM key itself, typically ${SF_PRIVATE_KEY}; jwt
	// takes exactly one of PrivateKeyFile and PrivateKey.
	PrivateKey sfsync.Secret `yaml:"private_key,omitempty" json:"private_key,omitempty"`
	// RefreshToken is the token the refresh_token method exchanges.
	RefreshToken sfsync.Secret `yaml:"refresh_token,omitempty" json:"refresh_token,omitempty"`
	// APIVersion is the pinned REST API version, "62.0" form.
	APIVersion string `yaml:"api_version" json:"api_version"`
}

// Warehouse says where replicas are written.
type Warehouse struct {
	// Type is WarehouseDuckDB (the default), WarehousePostgres or
	// WarehouseRedshift.
	Type string `yaml:"type" json:"type"`
	// Path is the DuckDB database file (duckdb). Load makes a relative path
	// relative to the configuration file's directory.
	Path string `yaml:"path,omitempty" json:"path,omitempty"`
	// DSN is the PostgreSQL connection string (postgres); it may hold a
	// password, so it is a Secret.
	DSN sfsync.Secret `yaml:"dsn,omitempty" json:"dsn,omitempty"`
	// MemoryLimit caps the memory DuckDB manages ("512MB", "50%"); ""
	// is sfsync's default, duckdb.DefaultMemoryPerObject for each object
	// replicated at once (duckdb).
	MemoryLimit string `yaml:"memory_limit,omitempty" json:"memory_limit,omitempty"`
	// Threads caps DuckDB's worker threads; 0 means one per core (duckdb).
	Threads int `yaml:"threads,omitempty" json:"threads,omitempty"`
	// Text is what postgres and redshift do with text they cannot store
	// exactly (NUL bytes; over 65535 bytes in Redshift): "clean" (the
	// default) strips or cuts it and records it in _sfsync.altered_values,
	// "reject" fails the batch.
	Text string `yaml:"text,omitempty" json:"text,omitempty"`
}

// Schemas name the warehouse schemas sfsync writes to.
type Schemas struct {
	Final   string `yaml:"final" json:"final"`     // replicated tables
	Staging string `yaml:"staging" json:"staging"` // staged batches
	Control string `yaml:"control" json:"control"` // cursors, runs, object state
}

// Sync holds the replication settings shared by every object.
type Sync struct {
	// Lookback is re-read before the cursor each run, to catch records
	// committed late with an earlier timestamp.
	Lookback time.Duration `yaml:"lookback" json:"lookback"`
	// BatchRows is how many rows are staged per consolidation (checkpoint).
	BatchRows int `yaml:"batch_rows" json:"batch_rows"`
	// PageSize is the REST query batchSize hint, 200 to 2000.
	PageSize int `yaml:"page_size" json:"page_size"`
	// Parallelism is how many objects are replicated at once.
	Parallelism int `yaml:"parallelism" json:"parallelism"`
	// DeleteMode is the default for objects that do not set their own.
	DeleteMode sfsync.DeleteMode `yaml:"delete_mode" json:"delete_mode"`
	// StagingRetention keeps consolidated staging rows this long, so that a
	// batch can be replayed; zero drops them at once.
	StagingRetention time.Duration `yaml:"staging_retention" json:"staging_retention"`
	// BulkThreshold: windows with more records than this use Bulk API 2.0.
	BulkThreshold int `yaml:"bulk_threshold" json:"bulk_threshold"`
	// BulkResultStreams is how many result pages of one Bulk job are
	// downloaded at once, 1 to MaxBulkResultStreams; above 1 it needs API
	// version 58.0 or later (the resultPages resource).
	BulkResultStreams int `yaml:"bulk_result_streams" json:"bulk_result_streams"`
}

// Default returns the configuration an empty file stands for, before
// Salesforce credentials and objects are added. It does not validate.
func Default() *Config {
	c := base()
	c.applyDefaults()
	return c
}

// base holds the defaults a file's values are decoded over: the numeric and
// duration settings, for which zero is a value the user may write (and
// Validate may reject), not "unset".
func base() *Config {
	return &Config{
		Sync: Sync{
			Lookback:          DefaultLookback,
			BatchRows:         DefaultBatchRows,
			PageSize:          DefaultPageSize,
			Parallelism:       DefaultParallelism,
			BulkThreshold:     DefaultBulkThreshold,
			BulkResultStreams: DefaultBulkResultStreams,
		},
		Serve: defaultServe(),
	}
}

// applyDefaults fills the string settings left empty, for which "" is never
// a valid value. The DuckDB path is filled only for a DuckDB warehouse.
func (c *Config) applyDefaults() {
	setDefault(&c.Salesforce.LoginURL, DefaultLoginURL)
	setDefault(&c.Salesforce.APIVersion, DefaultAPIVersion)
	setDefault(&c.Warehouse.Type, WarehouseDuckDB)
	if c.Warehouse.Type == WarehouseDuckDB {
		setDefault(&c.Warehouse.Path, DefaultDuckDBPath)
	}
	setDefault(&c.Schemas.Final, DefaultFinalSchema)
	setDefault(&c.Schemas.Staging, DefaultStagingSchema)
	setDefault(&c.Schemas.Control, DefaultControlSchema)
	if c.Sync.DeleteMode == "" {
		c.Sync.DeleteMode = sfsync.DeleteSoft
	}
}

func setDefault(s *string, def string) {
	if *s == "" {
		*s = def
	}
}

// Load reads the configuration file at path, expands ${ENV} references from
// the process environment, decodes it, applies defaults and validates it.
// Relative warehouse.path and salesforce.private_key_file values are made
// relative to the file's directory. Problems in the file come back as one
// *ValidationError listing all of them.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	c, err := Parse(data, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	c.Salesforce.PrivateKeyFile = relativeTo(dir, c.Salesforce.PrivateKeyFile)
	if c.Warehouse.Type == WarehouseDuckDB && !isMemoryPath(c.Warehouse.Path) {
		c.Warehouse.Path = relativeTo(dir, c.Warehouse.Path)
	}
	return c, nil
}

// relativeTo joins a relative path p onto dir.
func relativeTo(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// isMemoryPath reports whether p names an in-memory DuckDB database.
func isMemoryPath(p string) bool {
	return p == "" || p[0] == ':'
}

// Parse is Load without the file: it decodes data, looking environment
// variables up with env (nil: none is set), applies defaults and validates.
// Paths are left as written.
func Parse(data []byte, env func(string) (string, bool)) (*Config, error) {
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	d := &decoder{env: env, lines: map[string]int{}}
	c := base()
	if err := d.document(data, c); err != nil {
		return nil, err
	}
	c.applyDefaults()
	problems := d.problems
	// A value that could not be decoded was left as it was; what Validate
	// says about it, or about anything inside it, would only repeat or
	// contradict the first problem.
	for _, p := range c.problems() {
		if underAny(p.Path, d.problems) {
			continue
		}
		if p.Line == 0 {
			p.Line = d.lines[p.Path]
		}
		problems = append(problems, p)
	}
	if len(problems) > 0 {
		return nil, &ValidationError{Problems: problems}
	}
	return c, nil
}

// underAny reports whether path is, or lies inside, the path of one of
// problems.
func underAny(path string, problems []Problem) bool {
	for _, p := range problems {
		if rest, ok := strings.CutPrefix(path, p.Path); ok && (rest == "" || rest[0] == '.' || rest[0] == '[') {
			return true
		}
	}
	return false
}
