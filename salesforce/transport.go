package salesforce

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sfsync/sfsync"
)

// call is one logical request; do sends it as many times as retries and
// one re-login need.
type call struct {
	method string
	// url is an absolute URL; when empty, path (and query) are resolved
	// against the session's instance_url at every attempt.
	url   string
	path  string
	query string
	// what names the call in errors and logs ("query Account").
	what string
	// object is the object the call is about, for *APIError.Object.
	object string
	oauth  bool // token endpoint: no bearer token, OAuth error bodies
	noAuth bool // no bearer token
	header map[string]string
	body   func() io.Reader // request body, rebuilt per attempt
	ctype  string
	// decoder reads a 2xx body. It runs inside the retry loop: a body that
	// ends early is fetched again, so it must not have side effects beyond
	// its own result.
	decoder func(io.Reader) error
	// onHeader, when set, sees the headers of a 2xx answer before decoder
	// reads its body.
	onHeader func(http.Header)
}

// maxErrorBody caps how much of an error answer is read.
const maxErrorBody = 1 << 20

// do sends cl, retrying transient faults with backoff and logging in again
// once on an expired session. The error names the call, never a token.
func (c *Client) do(ctx context.Context, cl *call) error {
	reauthed := false
	for attempt := 1; ; attempt++ {
		var gen uint64
		var token, instance string
		if !cl.oauth && !cl.noAuth {
			s, err := c.session(ctx)
			if err != nil {
				return fmt.Errorf("%s: %w", cl.what, err)
			}
			gen, token, instance = s.gen, s.token, s.instance
		}
		retryAfter, err := c.attempt(ctx, cl, token, instance)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", cl.what, ctx.Err())
		}
		switch Classify(err) {
		case Reauthenticate:
			if cl.oauth || cl.noAuth {
				return fmt.Errorf("%s: %w", cl.what, err)
			}
			if reauthed {
				return fmt.Errorf("%s: %w (still rejected after logging in again: %w)", cl.what, err, sfsync.ErrPermanent)
			}
			reauthed = true
			attempt--
			c.log.Info("session expired; logging in again", "call", cl.what)
			if err := c.relogin(ctx, gen); err != nil {
				return fmt.Errorf("%s: %w", cl.what, err)
			}
		case Retryable:
			if attempt >= c.retry.MaxAttempts {
				return fmt.Errorf("%s: giving up after %d attempts: %w", cl.what, attempt, err)
			}
			delay := c.backoff(attempt, retryAfter)
			c.log.Warn("retrying", "call", cl.what, "attempt", attempt, "delay", delay, "err", err.Error())
			if err := sleep(ctx, delay); err != nil {
				return fmt.Errorf("%s: %w", cl.what, err)
			}
		default:
			return fmt.Errorf("%s: %w", cl.what, err)
		}
	}
}

// session returns the current session, logging in when there is none.
func (c *Client) session(ctx context.Context) (session, error) {
	c.mu.RLock()
	s := c.sess
	c.mu.RUnlock()
	if s.token != "" {
		return s, nil
	}
	if err := c.relogin(ctx, s.gen); err != nil {
		return session{}, err
	}
	c.mu.RLock()
	s = c.sess
	c.mu.RUnlock()
	if s.token == "" {
		return session{}, errors.New("no session after login")
	}
	return s, nil
}

// attempt sends cl once. It returns the server's Retry-After hint with the
// error, if any.
func (c *Client) attempt(ctx context.Context, cl *call, token, instance string) (time.Duration, error) {
	target := cl.url
	if target == "" {
		target = instance + cl.path
		if cl.query != "" {
			target += "?" + cl.query
		}
	}
	var body io.Reader
	if cl.body != nil {
		body = cl.body()
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, target, body)
	if err != nil {
		return 0, fmt.Errorf("build request for %s: %w", redactURL(target), err)
	}
	h := req.Header
	h.Set("Accept", "application/json")
	h.Set("Accept-Encoding", "gzip")
	h.Set("User-Agent", c.userAgent)
	if cl.ctype != "" {
		h.Set("Content-Type", cl.ctype)
	}
	if !cl.oauth {
		h.Set("Sforce-Call-Options", c.callOptions)
	}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	for k, v := range cl.header {
		h.Set(k, v)
	}
	c.countCall(ctx)
	resp, err := c.hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, &transportError{op: cl.method + " " + redactURL(target), err: err}
	}
	defer resp.Body.Close()
	c.observe(resp.Header)
	c.log.Debug("api call", "call", cl.what, "method", cl.method, "path", req.URL.Path, "status", resp.StatusCode)

	rd, err := decompressed(resp)
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	switch {
	case err != nil && ok:
		return 0, err
	case err != nil:
		// A broken encoding on an error answer: the status still counts.
		rd = io.LimitReader(resp.Body, 0)
	}
	if ok {
		if cl.onHeader != nil {
			cl.onHeader(resp.Header)
		}
		if cl.decoder == nil {
			_, err = io.Copy(io.Discard, rd)
			return 0, err
		}
		if err := cl.decoder(rd); err != nil {
			return 0, err
		}
		return 0, nil
	}
	// An error answer: read a bounded amount, tolerating a body cut short
	// (the status alone is enough to classify).
	raw, _ := io.ReadAll(io.LimitReader(rd, maxErrorBody))
	var apiErr *APIError
	if cl.oauth {
		apiErr = parseTokenError(resp.StatusCode, resp.Header, raw)
	} else {
		apiErr = parseAPIError(resp.StatusCode, resp.Header, raw, cl.object)
	}
	apiErr.Message = c.scrub(apiErr.Message)
	return retryAfterHint(resp.Header), apiErr
}

// decompressed returns the response body, gunzipped when the server says
// so (setting Accept-Encoding by hand turns off net/http's own handling).
func decompressed(resp *http.Response) (io.Reader, error) {
	if !strings.EqualFold(strings.TrimSpace(resp.Header.Get("Content-Encoding")), "gzip") {
		return resp.Body, nil
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("gzip body: %w", err)
	}
	return zr, nil
}

// observe records the API usage and server clock carried by every response.
func (c *Client) observe(h http.Header) {
	used, max, okUsage := parseLimitInfo(h.Values("Sforce-Limit-Info"))
	date, errDate := http.ParseTime(h.Get("Date"))
	if !okUsage && errDate != nil {
		return
	}
	c.stateMu.Lock()
	defer c.stateMu.Unlock()
	if okUsage {
		c.used, c.max = used, max
	}
	if errDate == nil {
		c.serverDate, c.seenAt = date.UTC(), time.Now()
	}
}

// parseLimitInfo reads "api-usage=18/5000", tolerating other parts such as
// "; per-app-api-usage=17/250(appName=x)".
func parseLimitInfo(values []string) (used, max int64, ok bool) {
	for _, v := range values {
		for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == ',' }) {
			part = strings.TrimSpace(part)
			rest, found := strings.CutPrefix(part, "api-usage=")
			if !found {
				continue
			}
			a, b, found := strings.Cut(rest, "/")
			if !found {
				continue
			}
			if i := strings.IndexFunc(b, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
				b = b[:i]
			}
			u, err1 := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
			m, err2 := strconv.ParseInt(b, 10, 64)
			if err1 == nil && err2 == nil {
				return u, m, true
			}
		}
	}
	return 0, 0, false
}

// retryAfterHint reads a Retry-After header in seconds.
func retryAfterHint(h http.Header) time.Duration {
	s, err := strconv.Atoi(strings.TrimSpace(h.Get("Retry-After")))
	if err != nil || s <= 0 {
		return 0
	}
	return time.Duration(s) * time.Second
}

// backoff is the delay before attempt+1: BaseDelay doubled per attempt,
// capped at MaxDelay, half of it jittered; a server hint raises it (still
// capped).
func (c *Client) backoff(attempt int, hint time.Duration) time.Duration {
	d := c.retry.BaseDelay
	for i := 1; i < attempt && d < c.retry.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, c.retry.MaxDelay)
	if half := d / 2; half > 0 {
		d = half + rand.N(half+1)
	}
	if hint > d {
		d = min(hint, c.retry.MaxDelay)
	}
	return d
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// transportError is a request that got no response. It names the method and
// path, never the query string or the host's credentials.
type transportError struct {
	op  string
	err error
}

func (e *transportError) Error() string { return e.op + ": " + e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

// redactURL keeps scheme, host and path: query strings can be long and user
// info must never show.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Scheme + "://" + u.Host + u.Path
}

// loginOrigin returns the login URL the token URL was built from.
func loginOrigin(tokenURL string) string {
	return strings.TrimSuffix(tokenURL, "/services/oauth2/token")
}

// scrub replaces any secret this client holds with a placeholder, for
// messages that came from the server.
func (c *Client) scrub(s string) string {
	if s == "" {
		return s
	}
	c.mu.RLock()
	secrets := []string{c.sess.token, c.refreshToken.Reveal()}
	c.mu.RUnlock()
	secrets = append(secrets, c.auth.Password.Reveal(), c.auth.ClientSecret.Reveal(), c.auth.RefreshToken.Reveal())
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

// jsonInto returns a decoder that unmarshals a whole body into v. A body
// that ends early is io.ErrUnexpectedEOF (retried); other bad JSON is
// permanent.
func jsonInto(v any) func(io.Reader) error {
	return func(r io.Reader) error {
		data, err := io.ReadAll(r)
		if err != nil {
			return fmt.Errorf("read body: %w", err)
		}
		if len(bytes.TrimSpace(data)) == 0 {
			return fmt.Errorf("empty body: %w", io.ErrUnexpectedEOF)
		}
		if err := json.Unmarshal(data, v); err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) && se.Offset >= int64(len(data)) {
				return fmt.Errorf("body ends early: %w", io.ErrUnexpectedEOF)
			}
			return fmt.Errorf("decode body: %v: %w", err, sfsync.ErrPermanent)
		}
		return nil
	}
}
