package salesforce

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
)

// rsaKey is generated once per test binary run.
var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// verifyJWT checks an RS256 assertion against pub and returns its header
// and claims.
func verifyJWT(assertion string, pub *rsa.PublicKey) (header, claims map[string]any, err error) {
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return nil, nil, fmt.Errorf("want 3 parts, got %d", len(parts))
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, nil, fmt.Errorf("signature encoding: %w", err)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		return nil, nil, fmt.Errorf("signature: %w", err)
	}
	for i, into := range []*map[string]any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return nil, nil, err
		}
		if err := json.Unmarshal(raw, into); err != nil {
			return nil, nil, err
		}
	}
	return header, claims, nil
}

func TestGrants(t *testing.T) {
	key := rsaKey()
	pkcs1 := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "server.key")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}

	jwtCheck := func(aud string) func(t *testing.T, r *http.Request) string {
		return func(t *testing.T, r *http.Request) string {
			if got := r.PostForm.Get("grant_type"); got != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
				return "grant_type " + got
			}
			if r.PostForm.Has("client_secret") || r.PostForm.Has("password") {
				return "jwt grant sent a secret"
			}
			header, claims, err := verifyJWT(r.PostForm.Get("assertion"), &key.PublicKey)
			if err != nil {
				return err.Error()
			}
			if header["alg"] != "RS256" {
				return fmt.Sprintf("alg %v", header["alg"])
			}
			if claims["iss"] != testClientID || claims["sub"] != testUsername || claims["aud"] != aud {
				return fmt.Sprintf("claims %v", claims)
			}
			exp, ok := claims["exp"].(float64)
			now := float64(time.Now().Unix())
			if !ok || exp <= now || exp > now+5*60 {
				return fmt.Sprintf("exp %v is not a few minutes ahead of %v", claims["exp"], now)
			}
			return ""
		}
	}
	form := func(want map[string]string) func(t *testing.T, r *http.Request) string {
		return func(t *testing.T, r *http.Request) string {
			got := map[string]string{}
			for k := range r.PostForm {
				got[k] = r.PostForm.Get(k)
			}
			if d := cmp.Diff(want, got); d != "" {
				return "form (-want +got):\n" + d
			}
			return ""
		}
	}

	tests := []struct {
		name  string
		creds func(o *org) Credentials
		check func(t *testing.T, r *http.Request) string
	}{
		{
			name: "password",
			creds: func(o *org) Credentials {
				return Credentials{Method: AuthPassword, LoginURL: o.srv.URL, ClientID: testClientID, ClientSecret: testClientSecret, Username: testUsername, Password: testPassword}
			},
			check: form(map[string]string{"grant_type": "password", "client_id": testClientID, "client_secret": testClientSecret, "username": testUsername, "password": testPassword}),
		},
		{
			name: "password without client secret",
			creds: func(o *org) Credentials {
				return Credentials{Method: AuthPassword, LoginURL: o.srv.URL + "/", ClientID: testClientID, Username: testUsername, Password: testPassword}
			},
			check: form(map[string]string{"grant_type": "password", "client_id": testClientID, "username": testUsername, "password": testPassword}),
		},
		{
			name: "client credentials",
			creds: func(o *org) Credentials {
				return Credentials{Method: AuthClientCredentials, LoginURL: o.srv.URL, ClientID: testClientID, ClientSecret: testClientSecret}
			},
			check: form(map[string]string{"grant_type": "client_credentials", "client_id": testClientID, "client_secret": testClientSecret}),
		},
		{
			name: "refresh token",
			creds: func(o *org) Credentials {
				return Credentials{Method: AuthRefreshToken, LoginURL: o.srv.URL, ClientID: testClientID, ClientSecret: testClientSecret, RefreshToken: testRefresh}
			},
			check: form(map[string]string{"grant_type": "refresh_token", "client_id": testClientID, "client_secret": testClientSecret, "refresh_token": testRefresh}),
		},
		{
			name: "jwt with inline PKCS#1 key",
			creds: func(o *org) Credentials {
				return Credentials{Method: AuthJWT, LoginURL: o.srv.URL, ClientID: testClientID, Username: testUsername, PrivateKey: sfsync.Secret(pkcs1)}
			},
			check: jwtCheck(ProductionLoginURL),
		},
		{
			name: "jwt with PKCS#8 key file and explicit audience",
			creds: func(o *org) Credentials {
				return Credentials{Method: AuthJWT, LoginURL: o.srv.URL, ClientID: testClientID, Username: testUsername, PrivateKeyFile: keyFile, Audience: "https://acme.my.site.com"}
			},
			check: jwtCheck("https://acme.my.site.com"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrg(t)
			var problem string
			o.checkToken = func(r *http.Request) (int, string) {
				if p := tt.check(t, r); p != "" {
					problem = p
					return http.StatusBadRequest, `{"error":"invalid_grant","error_description":"test check failed"}`
				}
				return 0, ""
			}
			o.handle("GET /limits", func(w http.ResponseWriter, r *http.Request) {
				writeJSON(w, 200, `{"DailyApiRequests":{"Max":15000,"Remaining":14990}}`)
			})
			opts := o.options(nil)
			opts.Credentials = tt.creds(o)
			c, err := New(opts)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if err := c.Login(t.Context()); err != nil {
				t.Fatalf("Login: %v (server saw: %s)", err, problem)
			}
			if c.InstanceURL() != o.srv.URL {
				t.Errorf("InstanceURL = %q, want %q", c.InstanceURL(), o.srv.URL)
			}
			lim, err := c.Limits(t.Context())
			if err != nil {
				t.Fatalf("Limits: %v", err)
			}
			if d := cmp.Diff(map[string]Limit{"DailyApiRequests": {Max: 15000, Remaining: 14990}}, lim); d != "" {
				t.Errorf("Limits (-want +got):\n%s", d)
			}
		})
	}
}

func TestRefreshTokenRotation(t *testing.T) {
	o := newOrg(t)
	var mu sync.Mutex
	var seen []string
	o.checkToken = func(r *http.Request) (int, string) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, r.PostForm.Get("refresh_token"))
		return 0, ""
	}
	// The first refresh answers with a rotated refresh token.
	rotated := false
	o.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/services/oauth2/token" && !rotated {
			rotated = true
			rec := httptest.NewRecorder()
			o.serve(rec, r)
			var body map[string]string
			_ = json.Unmarshal(rec.Body.Bytes(), &body)
			body["refresh_token"] = "RT-rotated-secret-2"
			b, _ := json.Marshal(body)
			writeJSON(w, rec.Code, string(b))
			return
		}
		o.serve(w, r)
	})
	opts := o.options(nil)
	opts.Credentials = Credentials{Method: AuthRefreshToken, LoginURL: o.srv.URL, ClientID: testClientID, RefreshToken: testRefresh}
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := c.Login(t.Context()); err != nil {
			t.Fatalf("Login: %v", err)
		}
	}
	if d := cmp.Diff([]string{testRefresh, "RT-rotated-secret-2"}, seen); d != "" {
		t.Errorf("refresh tokens sent (-want +got):\n%s", d)
	}
}

func TestInstanceURLFromTokenResponse(t *testing.T) {
	api := newOrg(t) // the instance
	api.handle("GET /limits", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"DailyApiRequests":{"Max":1,"Remaining":1}}`)
	})
	login := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Log in at the instance (so it knows the token) but answer from
		// the login host.
		api.tokenEndpoint(w, r)
	}))
	t.Cleanup(login.Close)
	opts := api.options(nil)
	opts.Credentials.LoginURL = login.URL
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Limits(t.Context()); err != nil {
		t.Fatalf("Limits: %v", err)
	}
	if got := api.requestLog(); len(got) != 1 || !strings.HasPrefix(got[0], "/services/data/v62.0/limits") {
		t.Errorf("instance saw %v, want the limits call", got)
	}
}

func TestTokenErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		wantIn    []string
		wantClass Class
		wantCalls int
	}{
		{"invalid grant", 400, `{"error":"invalid_grant","error_description":"authentication failure"}`, []string{"invalid_grant", "authentication failure", "HTTP 400"}, Permanent, 1},
		{"no description", 400, `{"error":"unsupported_grant_type"}`, []string{"unsupported_grant_type"}, Permanent, 1},
		{"invalid client 401", 401, `{"error":"invalid_client","error_description":"invalid client credentials"}`, []string{"invalid_client", "HTTP 401"}, Permanent, 1},
		{"html", 400, `<html><body>Bad Request</body></html>`, []string{"Bad Request", "HTTP 400"}, Permanent, 1},
		{"empty 503", 503, ``, []string{"Service Unavailable", "giving up after 4 attempts"}, Retryable, 4},
		{"rate limited", 400, `{"error":"rate_limit_exceeded","error_description":"rate limit exceeded"}`, []string{"API limit reached"}, APILimit, 1},
		{"echoes the password", 400, `{"error":"invalid_grant","error_description":"bad password ` + testPassword + `"}`, []string{"bad password [redacted]"}, Permanent, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOrg(t)
			o.checkToken = func(r *http.Request) (int, string) { return tt.status, tt.body }
			logs := &logBuffer{}
			c := o.client(logs)
			err := c.Login(t.Context())
			if err == nil {
				t.Fatal("Login succeeded")
			}
			for _, w := range tt.wantIn {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if got := Classify(err); got != tt.wantClass {
				t.Errorf("Classify = %v, want %v", got, tt.wantClass)
			}
			if tt.wantClass == Permanent && !errors.Is(err, sfsync.ErrPermanent) {
				t.Errorf("errors.Is(%v, ErrPermanent) = false", err)
			}
			if tt.wantClass == APILimit && !errors.Is(err, sfsync.ErrAPILimit) {
				t.Errorf("errors.Is(%v, ErrAPILimit) = false", err)
			}
			o.mu.Lock()
			calls := len(o.forms)
			o.mu.Unlock()
			if calls != tt.wantCalls {
				t.Errorf("token endpoint called %d times, want %d", calls, tt.wantCalls)
			}
			if s := secretsIn(err.Error() + logs.String()); len(s) > 0 {
				t.Errorf("secrets %v leaked:\nerr: %v\nlogs: %s", s, err, logs)
			}
		})
	}
}

func TestNewValidation(t *testing.T) {
	valid := Credentials{Method: AuthPassword, ClientID: "id", Username: "u", Password: "p"}
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{"no method", Options{Credentials: Credentials{ClientID: "id"}}, []string{"method is required"}},
		{"unknown method", Options{Credentials: Credentials{Method: "saml", ClientID: "id"}}, []string{`method "saml" is unknown`}},
		{"password: everything missing", Options{Credentials: Credentials{Method: AuthPassword}}, []string{"client ID is required", "username is required", "password is required"}},
		{"client credentials on login host", Options{Credentials: Credentials{Method: AuthClientCredentials, ClientID: "id", ClientSecret: "s", LoginURL: "https://login.salesforce.com"}}, []string{"My Domain"}},
		{"client credentials without secret", Options{Credentials: Credentials{Method: AuthClientCredentials, ClientID: "id", LoginURL: "https://acme.my.salesforce.com"}}, []string{"client secret is required"}},
		{"jwt without key", Options{Credentials: Credentials{Method: AuthJWT, ClientID: "id", Username: "u"}}, []string{"private key"}},
		{"jwt with garbage key", Options{Credentials: Credentials{Method: AuthJWT, ClientID: "id", Username: "u", PrivateKey: "not a pem SECRETKEYTEXT"}}, []string{"not PEM"}},
		{"jwt with missing file", Options{Credentials: Credentials{Method: AuthJWT, ClientID: "id", Username: "u", PrivateKeyFile: "/nonexistent/key.pem"}}, []string{"read private key file"}},
		{"refresh without token", Options{Credentials: Credentials{Method: AuthRefreshToken, ClientID: "id"}}, []string{"refresh token is required"}},
		{"bad login URL", Options{Credentials: Credentials{Method: AuthPassword, ClientID: "id", Username: "u", Password: "p", LoginURL: "login.salesforce.com"}}, []string{"want https://host"}},
		{"bad version", Options{Credentials: valid, APIVersion: "latest"}, []string{`API version "latest"`}},
		{"bad page size", Options{Credentials: valid, PageSize: 5000}, []string{"page size 5000"}},
		{"bad client name", Options{Credentials: valid, ClientName: "a;b"}, []string{"client name"}},
		{"negative retry", Options{Credentials: valid, Retry: RetryPolicy{MaxAttempts: -1}}, []string{"retry policy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts)
			if err == nil {
				t.Fatal("New succeeded")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "SECRETKEYTEXT") {
				t.Errorf("error quotes the key: %v", err)
			}
		})
	}
	for _, v := range []string{"62.0", "v62.0", "58.0"} {
		c, err := New(Options{Credentials: valid, APIVersion: v})
		if err != nil {
			t.Fatalf("New with version %q: %v", v, err)
		}
		if c.APIVersion() != strings.TrimPrefix(v, "v") {
			t.Errorf("APIVersion = %q for %q", c.APIVersion(), v)
		}
	}
}

func TestDefaultAudience(t *testing.T) {
	for host, want := range map[string]string{
		"login.salesforce.com":                     ProductionLoginURL,
		"test.salesforce.com":                      SandboxLoginURL,
		"acme--uat.sandbox.my.salesforce.com":      SandboxLoginURL,
		"acme.my.salesforce.com":                   ProductionLoginURL,
		"127.0.0.1:8080":                           ProductionLoginURL,
		"ACME--DEV.SANDBOX.MY.SALESFORCE.COM:443x": ProductionLoginURL,
	} {
		if got := defaultAudience(host); got != want {
			t.Errorf("defaultAudience(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestConcurrentReauthLogsInOnce(t *testing.T) {
	o := newOrg(t)
	o.handle("GET /limits", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"DailyApiRequests":{"Max":1,"Remaining":1}}`)
	})
	c := o.client(nil)
	if err := c.Login(t.Context()); err != nil {
		t.Fatal(err)
	}
	o.expire()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			if _, err := c.Limits(t.Context()); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Limits: %v", err)
	}
	if n := o.loginCount(); n != 2 {
		t.Errorf("logins = %d, want 2 (the first and one after expiry)", n)
	}
}

func TestSessionRejectedAfterReloginIsPermanent(t *testing.T) {
	o := newOrg(t)
	o.handle("GET /limits", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 401, `[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]`)
	})
	c := o.client(nil)
	_, err := c.Limits(t.Context())
	if err == nil {
		t.Fatal("Limits succeeded")
	}
	if !errors.Is(err, sfsync.ErrPermanent) || !strings.Contains(err.Error(), "INVALID_SESSION_ID") {
		t.Errorf("err = %v, want a permanent INVALID_SESSION_ID", err)
	}
	if n := o.loginCount(); n != 2 {
		t.Errorf("logins = %d, want 2", n)
	}
	if s := secretsIn(err.Error()); len(s) > 0 {
		t.Errorf("error leaks %v: %v", s, err)
	}
}
