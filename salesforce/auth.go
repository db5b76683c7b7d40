package salesforce

import (
	"context"
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
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sfsync/sfsync"
)

// AuthMethod is an OAuth 2.0 grant.
type AuthMethod string

// Supported grants.
const (
	AuthPassword          AuthMethod = "password"
	AuthClientCredentials AuthMethod = "client_credentials"
	AuthJWT               AuthMethod = "jwt"
	AuthRefreshToken      AuthMethod = "refresh_token"
)

// Default login hosts.
const (
	ProductionLoginURL = "https://login.salesforce.com"
	SandboxLoginURL    = "https://test.salesforce.com"
)

// Credentials say how to obtain an access token. Which fields are needed
// depends on Method:
//
//	password            ClientID, Username, Password (ClientSecret if the app has one)
//	client_credentials  ClientID, ClientSecret; LoginURL must be the org's My Domain
//	jwt                 ClientID, Username, PrivateKey or PrivateKeyFile
//	refresh_token       ClientID, RefreshToken (ClientSecret if the app has one)
type Credentials struct {
	Method AuthMethod
	// LoginURL is https://login.salesforce.com (the default),
	// https://test.salesforce.com, a My Domain URL, or an emulator URL. The
	// token endpoint is LoginURL + /services/oauth2/token.
	LoginURL     string
	ClientID     string
	ClientSecret sfsync.Secret
	Username     string
	// Password is the user's password with the security token appended, if
	// any.
	Password sfsync.Secret
	// PrivateKey is a PEM RSA key (PKCS#1 or PKCS#8) for the JWT grant; or
	// PrivateKeyFile names a file holding one.
	PrivateKey     sfsync.Secret
	PrivateKeyFile string
	// Audience is the JWT aud claim. Default: https://test.salesforce.com
	// for sandbox login URLs, else https://login.salesforce.com.
	Audience     string
	RefreshToken sfsync.Secret
}

// authConfig is the checked form of Credentials.
type authConfig struct {
	Credentials
	tokenURL string
	key      *rsa.PrivateKey
	audience string
}

// check validates c and reports every problem at once.
func (c Credentials) check() (*authConfig, error) {
	var errs []error
	missing := func(field, why string) {
		errs = append(errs, fmt.Errorf("credentials: %s is required %s", field, why))
	}
	ac := &authConfig{Credentials: c}
	if ac.LoginURL == "" {
		ac.LoginURL = ProductionLoginURL
	}
	u, err := url.Parse(ac.LoginURL)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("credentials: login URL %q: %w", ac.LoginURL, err))
	case u.Scheme != "https" && u.Scheme != "http" || u.Host == "":
		errs = append(errs, fmt.Errorf("credentials: login URL %q: want https://host", ac.LoginURL))
	case u.User != nil:
		errs = append(errs, errors.New("credentials: login URL must not carry a user or password"))
	default:
		ac.tokenURL = strings.TrimRight(u.Scheme+"://"+u.Host+u.Path, "/") + "/services/oauth2/token"
	}
	if c.ClientID == "" {
		missing("client ID", "for every login method")
	}
	switch c.Method {
	case AuthPassword:
		if c.Username == "" {
			missing("username", "for the password method")
		}
		if c.Password.IsZero() {
			missing("password", "for the password method")
		}
	case AuthClientCredentials:
		if c.ClientSecret.IsZero() {
			missing("client secret", "for the client_credentials method")
		}
		if u != nil && (strings.EqualFold(u.Host, "login.salesforce.com") || strings.EqualFold(u.Host, "test.salesforce.com")) {
			errs = append(errs, fmt.Errorf("credentials: the client_credentials method needs the org's My Domain URL as login URL, not %s", u.Host))
		}
	case AuthJWT:
		if c.Username == "" {
			missing("username", "for the jwt method")
		}
		key, err := c.loadKey()
		if err != nil {
			errs = append(errs, err)
		}
		ac.key = key
		ac.audience = c.Audience
		if ac.audience == "" && u != nil {
			ac.audience = defaultAudience(u.Host)
		}
	case AuthRefreshToken:
		if c.RefreshToken.IsZero() {
			missing("refresh token", "for the refresh_token method")
		}
	case "":
		errs = append(errs, errors.New("credentials: method is required: password, client_credentials, jwt or refresh_token"))
	default:
		errs = append(errs, fmt.Errorf("credentials: method %q is unknown: want password, client_credentials, jwt or refresh_token", string(c.Method)))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return ac, nil
}

// defaultAudience derives the JWT audience from the login host: sandboxes
// (test.salesforce.com and *.sandbox.my.salesforce.com) use the test host.
func defaultAudience(host string) string {
	h := strings.ToLower(host)
	if h == "test.salesforce.com" || strings.HasSuffix(h, ".sandbox.my.salesforce.com") {
		return SandboxLoginURL
	}
	return ProductionLoginURL
}

// loadKey reads the JWT signing key. Errors never quote the key.
func (c Credentials) loadKey() (*rsa.PrivateKey, error) {
	pemText := []byte(c.PrivateKey.Reveal())
	source := "private key"
	switch {
	case len(pemText) > 0 && c.PrivateKeyFile != "":
		return nil, errors.New("credentials: give either a private key or a private key file, not both")
	case c.PrivateKeyFile != "":
		b, err := os.ReadFile(c.PrivateKeyFile)
		if err != nil {
			return nil, fmt.Errorf("credentials: read private key file: %w", err)
		}
		pemText, source = b, "private key file "+c.PrivateKeyFile
	case len(pemText) == 0:
		return nil, errors.New("credentials: a private key or private key file is required for the jwt method")
	}
	block, _ := pem.Decode(pemText)
	if block == nil {
		return nil, fmt.Errorf("credentials: %s is not PEM", source)
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("credentials: %s: not a valid PKCS#1 RSA key", source)
		}
		return k, nil
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("credentials: %s: not a valid PKCS#8 key", source)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("credentials: %s is a %T key; the jwt method needs RSA", source, k)
		}
		return rk, nil
	case "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("credentials: %s is encrypted; give an unencrypted key", source)
	}
	return nil, fmt.Errorf("credentials: %s holds a %q block, want RSA PRIVATE KEY or PRIVATE KEY", source, block.Type)
}

// jwtLifetime is how far ahead the assertion's exp lies; Salesforce accepts
// up to about three minutes.
const jwtLifetime = 3 * time.Minute

// jwtAssertion signs the RS256 bearer assertion.
func (ac *authConfig) jwtAssertion(now time.Time) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": "RS256"})
	if err != nil {
		return "", err
	}
	claims, err := json.Marshal(struct {
		Iss string `json:"iss"`
		Sub string `json:"sub"`
		Aud string `json:"aud"`
		Exp int64  `json:"exp"`
	}{ac.ClientID, ac.Username, ac.audience, now.Add(jwtLifetime).Unix()})
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, ac.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("sign jwt: %w", err)
	}
	return signing + "." + enc.EncodeToString(sig), nil
}

// form builds the token request body for the configured grant.
func (ac *authConfig) form(now time.Time, refreshToken string) (url.Values, error) {
	f := url.Values{}
	switch ac.Method {
	case AuthPassword:
		f.Set("grant_type", "password")
		f.Set("client_id", ac.ClientID)
		if !ac.ClientSecret.IsZero() {
			f.Set("client_secret", ac.ClientSecret.Reveal())
		}
		f.Set("username", ac.Username)
		f.Set("password", ac.Password.Reveal())
	case AuthClientCredentials:
		f.Set("grant_type", "client_credentials")
		f.Set("client_id", ac.ClientID)
		f.Set("client_secret", ac.ClientSecret.Reveal())
	case AuthJWT:
		a, err := ac.jwtAssertion(now)
		if err != nil {
			return nil, err
		}
		f.Set("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
		f.Set("assertion", a)
	case AuthRefreshToken:
		f.Set("grant_type", "refresh_token")
		f.Set("refresh_token", refreshToken)
		f.Set("client_id", ac.ClientID)
		if !ac.ClientSecret.IsZero() {
			f.Set("client_secret", ac.ClientSecret.Reveal())
		}
	default:
		return nil, fmt.Errorf("login method %q is unknown", string(ac.Method))
	}
	return f, nil
}

// tokenResponse is the token endpoint's success answer.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	InstanceURL  string `json:"instance_url"`
	ID           string `json:"id"`
	TokenType    string `json:"token_type"`
	IssuedAt     string `json:"issued_at"`
	Scope        string `json:"scope"`
	RefreshToken string `json:"refresh_token"`
}

// Login runs the configured OAuth grant and replaces the session, whether or
// not one exists. API calls log in by themselves when needed; calling Login
// first checks the credentials early.
func (c *Client) Login(ctx context.Context) error {
	if err := c.acquireLogin(ctx); err != nil {
		return err
	}
	defer c.releaseLogin()
	return c.login(ctx)
}

// relogin logs in again unless another caller already replaced the session
// the caller saw (stale), so concurrent 401s cause one login, not many.
func (c *Client) relogin(ctx context.Context, stale uint64) error {
	if err := c.acquireLogin(ctx); err != nil {
		return err
	}
	defer c.releaseLogin()
	c.mu.RLock()
	current := c.sess
	c.mu.RUnlock()
	if current.gen != stale && current.token != "" {
		return nil
	}
	return c.login(ctx)
}

func (c *Client) acquireLogin(ctx context.Context) error {
	select {
	case c.loginSem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) releaseLogin() { <-c.loginSem }

// login runs the grant; the caller holds the login semaphore.
func (c *Client) login(ctx context.Context) error {
	c.mu.RLock()
	refresh := c.refreshToken
	c.mu.RUnlock()
	form, err := c.auth.form(time.Now(), refresh.Reveal())
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	body := form.Encode()
	var tr tokenResponse
	err = c.do(ctx, &call{
		method:  http.MethodPost,
		url:     c.auth.tokenURL,
		what:    "login",
		oauth:   true,
		body:    func() io.Reader { return strings.NewReader(body) },
		ctype:   "application/x-www-form-urlencoded",
		decoder: jsonInto(&tr),
	})
	if err != nil {
		return err
	}
	if tr.AccessToken == "" || tr.InstanceURL == "" {
		return fmt.Errorf("login: the token endpoint answered without %s", missingTokenFields(tr))
	}
	inst, err := url.Parse(tr.InstanceURL)
	if err != nil || (inst.Scheme != "https" && inst.Scheme != "http") || inst.Host == "" {
		return fmt.Errorf("login: the token endpoint answered with an unusable instance_url %q", tr.InstanceURL)
	}
	c.mu.Lock()
	c.sess = session{
		token:    tr.AccessToken,
		instance: strings.TrimRight(tr.InstanceURL, "/"),
		identity: tr.ID,
		gen:      c.sess.gen + 1,
	}
	if tr.RefreshToken != "" {
		c.refreshToken = sfsync.Secret(tr.RefreshToken)
	}
	c.mu.Unlock()
	c.log.Debug("logged in", "method", string(c.auth.Method), "instance_url", tr.InstanceURL, "issued_at", issuedAt(tr.IssuedAt))
	return nil
}

func missingTokenFields(tr tokenResponse) string {
	var m []string
	if tr.AccessToken == "" {
		m = append(m, "access_token")
	}
	if tr.InstanceURL == "" {
		m = append(m, "instance_url")
	}
	return strings.Join(m, " and ")
}

// issuedAt renders the token's issued_at (epoch milliseconds as a string)
// for a log line; "" when absent or unparsable.
func issuedAt(s string) string {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return ""
	}
	return time.UnixMilli(ms).UTC().Format(time.RFC3339)
}
