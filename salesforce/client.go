// Package salesforce is the Salesforce API client: OAuth 2.0 logins, REST
// describe, query and queryAll paging with a streaming typed record decoder,
// Bulk API 2.0 query jobs with a streaming CSV decoder for large windows,
// the replication resources (updated/deleted), limits, and a typed error
// model with one classifier deciding what is retried.
//
// It talks plain net/http to the documented wire formats, so it works
// against a real org and against any emulator that follows them. *Client
// implements sfsync.Source.
package salesforce

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sfsync/sfsync"
)

// DefaultAPIVersion is the REST API version used when Options.APIVersion is
// empty.
const DefaultAPIVersion = "62.0"

// Page size bounds of the REST query batchSize option.
const (
	MinPageSize     = 200
	MaxPageSize     = 2000
	DefaultPageSize = 2000
)

// Options configure a Client. Only Credentials are required.
type Options struct {
	Credentials Credentials
	// APIVersion is "62.0" (the default) or "v62.0".
	APIVersion string
	// HTTPClient sends every request; nil for a client with sane timeouts.
	HTTPClient *http.Client
	// Logger receives debug lines per request and warnings per retry;
	// nil discards. Tokens, secrets and request bodies are never logged.
	Logger *slog.Logger
	// PageSize is the REST query batchSize hint, 200..2000; 0 for 2000.
	PageSize int
	// Retry bounds the retries of transient faults.
	Retry RetryPolicy
	// UserAgent is sent as User-Agent; default "sfsync".
	UserAgent string
	// ClientName is sent as Sforce-Call-Options: client=<name>; default
	// "sfsync". It shows up as the change origin of records this client
	// writes.
	ClientName string
	// BulkThreshold chooses how Extract reads a window: one whose COUNT()
	// exceeds it goes through Bulk API 2.0 query jobs, a smaller one
	// through REST queryAll. 0 never uses Bulk; a negative value uses Bulk
	// for every window whose object and fields Bulk supports.
	BulkThreshold int64
	// Bulk tunes Bulk API 2.0 extraction; zero fields take defaults.
	Bulk BulkOptions
}

// RetryPolicy bounds the retries of transient faults (5xx, connection
// resets, timeouts, truncated bodies): exponential backoff from BaseDelay,
// capped at MaxDelay, with jitter, for at most MaxAttempts tries in all.
type RetryPolicy struct {
	MaxAttempts int           // default 5; 1 disables retries
	BaseDelay   time.Duration // default 500ms
	MaxDelay    time.Duration // default 30s
}

// Client is a Salesforce API client. It logs in on first use and again,
// once per failing request, when the session expires. It is safe for
// concurrent use.
type Client struct {
	auth        *authConfig
	hc          *http.Client
	log         *slog.Logger
	apiPath     string // "/services/data/v62.0"
	pageSize    int
	retry       RetryPolicy
	userAgent   string
	callOptions string

	// loginSem serialises logins: a one-slot semaphore that a waiter can
	// abandon when its context ends.
	loginSem chan struct{}

	mu           sync.RWMutex
	sess         session
	refreshToken sfsync.Secret

	calls atomic.Int64

	bulkThreshold int64
	bulk          BulkOptions // with defaults filled in
	bulkJobs      atomic.Int64
	noBulkMu      sync.Mutex
	noBulk        map[string]bool // queries Bulk refused, by object and fields (see refusalKey)
	estimateMu    sync.Mutex
	counts        map[string]countMemo // recent COUNT() answers, by resource and statement
	noResultPages atomic.Bool          // the server answered 404 to resultPages
	jobRate       float64              // records per second of the latest complete job; 0 before one
	liveMu        sync.Mutex
	live          map[string]bool // jobs of extractions under way, which sweeps leave alone

	stateMu    sync.Mutex
	used, max  int64
	serverDate time.Time // Date header of the latest response
	seenAt     time.Time // local (monotonic) time it arrived
}

// session is the current login.
type session struct {
	token    string
	instance string // instance_url without a trailing slash
	identity string // identity URL
	gen      uint64 // increments with every login
}

var _ sfsync.Source = (*Client)(nil)

var versionRE = regexp.MustCompile(`^v?([0-9]{2,3}\.[0-9])$`)
var clientNameRE = regexp.MustCompile(`^[A-Za-z0-9_.\-]+$`)

// New checks opts and returns a Client. It does not contact Salesforce; a
// JWT key file is read here, so a bad key fails early.
func New(opts Options) (*Client, error) {
	var errs []error
	auth, err := opts.Credentials.check()
	if err != nil {
		errs = append(errs, err)
	}
	version := DefaultAPIVersion
	if opts.APIVersion != "" {
		m := versionRE.FindStringSubmatch(opts.APIVersion)
		if m == nil {
			errs = append(errs, fmt.Errorf("API version %q: want a version such as %s", opts.APIVersion, DefaultAPIVersion))
		} else {
			version = m[1]
		}
	}
	pageSize := opts.PageSize
	switch {
	case pageSize == 0:
		pageSize = DefaultPageSize
	case pageSize < MinPageSize || pageSize > MaxPageSize:
		errs = append(errs, fmt.Errorf("page size %d: want %d to %d", pageSize, MinPageSize, MaxPageSize))
	}
	retry := opts.Retry
	if retry.MaxAttempts < 0 || retry.BaseDelay < 0 || retry.MaxDelay < 0 {
		errs = append(errs, errors.New("retry policy: attempts and delays must not be negative"))
	}
	if retry.MaxAttempts == 0 {
		retry.MaxAttempts = 5
	}
	if retry.BaseDelay == 0 {
		retry.BaseDelay = 500 * time.Millisecond
	}
	if retry.MaxDelay == 0 {
		retry.MaxDelay = 30 * time.Second
	}
	if retry.MaxDelay < retry.BaseDelay {
		retry.MaxDelay = retry.BaseDelay
	}
	clientName := opts.ClientName
	if clientName == "" {
		clientName = "sfsync"
	}
	if !clientNameRE.MatchString(clientName) {
		errs = append(errs, fmt.Errorf("client name %q: use letters, digits, '_', '.' and '-' only", clientName))
	}
	userAgent := opts.UserAgent
	if userAgent == "" {
		userAgent = "sfsync"
	}
	bulk, err := opts.Bulk.withDefaults()
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = defaultHTTPClient()
	}
	return &Client{
		auth:         auth,
		hc:           hc,
		log:          log,
		apiPath:      "/services/data/v" + version,
		pageSize:     pageSize,
		retry:        retry,
		userAgent:    userAgent,
		callOptions:  "client=" + clientName,
		loginSem:     make(chan struct{}, 1),
		refreshToken: opts.Credentials.RefreshToken,

		bulkThreshold: opts.BulkThreshold,
		bulk:          bulk,
		noBulk:        map[string]bool{},
		counts:        map[string]countMemo{},
		live:          map[string]bool{},
	}, nil
}

// defaultHTTPClient bounds every phase of a request: connecting, the TLS
// handshake, waiting for headers (a query may run up to two minutes before
// Salesforce answers), and the whole exchange.
func defaultHTTPClient() *http.Client {
	return &http.Client{
		Timeout: 10 * time.Minute,
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          32,
			MaxIdleConnsPerHost:   8,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   15 * time.Second,
			ResponseHeaderTimeout: 5 * time.Minute,
			ExpectContinueTimeout: time.Second,
		},
	}
}

// APIVersion returns the REST API version in use ("62.0").
func (c *Client) APIVersion() string { return c.apiPath[len("/services/data/v"):] }

// InstanceURL returns the instance_url of the current session, or "" before
// the first login.
func (c *Client) InstanceURL() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.sess.instance
}

// Usage reports the org's API consumption from the latest Sforce-Limit-Info
// header, and the HTTP calls this client made.
func (c *Client) Usage() sfsync.APIUsage {
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	return sfsync.APIUsage{Used: c.used, Max: c.max, Calls: c.calls.Load()}
}

// Now returns the server's clock: the Date header of the latest response
// plus the (monotonic) time elapsed since it arrived. The header has whole
// seconds and is stamped before the response travels, so the estimate errs
// early, never late: a window ending at Now cannot end after the server's
// present. Before any response it makes a cheap call (limits); an error
// answer to it still carries the clock.
func (c *Client) Now(ctx context.Context) (time.Time, error) {
	c.stateMu.Lock()
	d, at := c.serverDate, c.seenAt
	c.stateMu.Unlock()
	if d.IsZero() {
		// Any answer carries a Date header, an error answer too (the user
		// may lack the permission limits needs).
		_, err := c.Limits(ctx)
		c.stateMu.Lock()
		d, at = c.serverDate, c.seenAt
		c.stateMu.Unlock()
		switch {
		case d.IsZero() && err != nil:
			return time.Time{}, fmt.Errorf("read server clock: %w", err)
		case d.IsZero():
			return time.Time{}, errors.New("read server clock: the server sends no Date header")
		}
	}
	return d.Add(time.Since(at)).UTC(), nil
}

// Version is one entry of the API versions list.
type Version struct {
	Label   string `json:"label"`   // release name, "Winter '25"
	URL     string `json:"url"`     // "/services/data/v62.0"
	Version string `json:"version"` // "62.0"
}

// Versions lists the API versions the server offers. It needs no login.
func (c *Client) Versions(ctx context.Context) ([]Version, error) {
	base := c.InstanceURL()
	if base == "" {
		base = loginOrigin(c.auth.tokenURL)
	}
	var out []Version
	err := c.do(ctx, &call{
		method:  http.MethodGet,
		url:     base + "/services/data/",
		what:    "list API versions",
		noAuth:  true,
		decoder: jsonInto(&out),
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Limit is one org limit.
type Limit struct {
	Max       int64 `json:"Max"`
	Remaining int64 `json:"Remaining"`
}

// Limits returns the org's limits by name ("DailyApiRequests", ...).
// Per-app breakdowns are left out.
func (c *Client) Limits(ctx context.Context) (map[string]Limit, error) {
	out := map[string]Limit{}
	err := c.do(ctx, &call{
		method:  http.MethodGet,
		path:    c.apiPath + "/limits",
		what:    "read limits",
		decoder: jsonInto(&out),
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
