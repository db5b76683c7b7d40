package sfemu

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTokenGrants(t *testing.T) {
	o := newOrg(t, Options{})
	basic := func(id, secret string) http.Header {
		return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))}}
	}
	good := url.Values{"client_id": {defaultClientID}, "client_secret": {defaultClientSecret}}
	with := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	merge := func(a, b url.Values) url.Values {
		out := url.Values{}
		for k, v := range a {
			out[k] = v
		}
		for k, v := range b {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name      string
		form      url.Values
		header    http.Header
		wantError string // "" for success
		wantDesc  string
	}{
		{name: "password", form: merge(good, with("grant_type", "password", "username", defaultUsername, "password", defaultPassword))},
		{name: "password wrong", form: merge(good, with("grant_type", "password", "username", defaultUsername, "password", "nope")),
			wantError: "invalid_grant", wantDesc: "authentication failure"},
		{name: "password unknown user", form: merge(good, with("grant_type", "password", "username", "x@y.z", "password", defaultPassword)),
			wantError: "invalid_grant", wantDesc: "authentication failure"},
		{name: "password bad client id", form: with("grant_type", "password", "client_id", "other", "client_secret", defaultClientSecret,
			"username", defaultUsername, "password", defaultPassword), wantError: "invalid_client_id", wantDesc: "client identifier invalid"},
		{name: "password bad secret", form: with("grant_type", "password", "client_id", defaultClientID, "client_secret", "x",
			"username", defaultUsername, "password", defaultPassword), wantError: "invalid_client", wantDesc: "invalid client credentials"},
		{name: "client credentials form", form: merge(good, with("grant_type", "client_credentials"))},
		{name: "client credentials basic", form: with("grant_type", "client_credentials"), header: basic(defaultClientID, defaultClientSecret)},
		{name: "client credentials basic wrong", form: with("grant_type", "client_credentials"), header: basic(defaultClientID, "nope"),
			wantError: "invalid_client", wantDesc: "invalid client credentials"},
		{name: "refresh", form: merge(good, with("grant_type", "refresh_token", "refresh_token", defaultRefreshToken))},
		{name: "refresh without secret", form: with("grant_type", "refresh_token", "client_id", defaultClientID, "refresh_token", defaultRefreshToken)},
		{name: "refresh wrong token", form: merge(good, with("grant_type", "refresh_token", "refresh_token", "old")),
			wantError: "invalid_grant", wantDesc: "expired access/refresh token"},
		{name: "no grant", form: good, wantError: "invalid_request", wantDesc: "grant type is missing"},
		{name: "unknown grant", form: merge(good, with("grant_type", "authorization_code")),
			wantError: "unsupported_grant_type", wantDesc: "grant type not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := o.postForm("/services/oauth2/token", tt.form, tt.header)
			if tt.wantError != "" {
				var e oauthError
				decode(t, resp, http.StatusBadRequest, &e)
				if diff := cmp.Diff(oauthError{Error: tt.wantError, Description: tt.wantDesc}, e); diff != "" {
					t.Fatalf("error (-want +got):\n%s", diff)
				}
				return
			}
			checkToken(t, o, resp)
		})
	}
	// Token calls are not counted; each success made one /limits call.
	successes := 0
	for _, tt := range tests {
		if tt.wantError == "" {
			successes++
		}
	}
	if n := o.emu.RequestCount(); n != int64(successes) {
		t.Errorf("RequestCount = %d, want %d (the /limits calls only)", n, successes)
	}
}

// checkToken checks a successful token response against §2.1 and that the
// token works.
func checkToken(t *testing.T, o *org, resp *http.Response) {
	t.Helper()
	var body map[string]any
	decode(t, resp, http.StatusOK, &body)
	for _, absent := range []string{"expires_in", "refresh_token"} {
		if _, ok := body[absent]; ok {
			t.Errorf("token response has %s", absent)
		}
	}
	token, _ := body["access_token"].(string)
	orgID, userID := o.emu.orgID, o.emu.userID
	if !strings.HasPrefix(token, orgID[:15]+"!") {
		t.Errorf("access_token %q does not start with the org id and !", token)
	}
	idURL := o.url + "/id/" + orgID + "/" + userID
	want := map[string]any{
		"instance_url": o.url, "id": idURL, "token_type": "Bearer",
		"issued_at": strconv.FormatInt(o.clock.Now().UnixMilli(), 10), "scope": "api",
	}
	got := map[string]any{}
	for k := range want {
		got[k] = body[k]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("token response (-want +got):\n%s", diff)
	}
	mac := hmac.New(sha256.New, []byte(defaultClientSecret))
	mac.Write([]byte(idURL + want["issued_at"].(string)))
	if sig := base64.StdEncoding.EncodeToString(mac.Sum(nil)); body["signature"] != sig {
		t.Errorf("signature %v, want %s", body["signature"], sig)
	}
	user := &org{t: t, emu: o.emu, url: o.url, token: token}
	decode(t, user.get("/services/data/v62.0/limits"), http.StatusOK, nil)
}

// signJWT builds an RS256 assertion with the given claims.
func signJWT(t *testing.T, key *rsa.PrivateKey, alg string, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := enc(map[string]string{"alg": alg, "typ": "JWT"}) + "." + enc(claims)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func TestJWTGrant(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	o := newOrg(t, Options{JWTPublicKey: &key.PublicKey})
	exp := o.clock.Now().Add(3 * 60e9).Unix()
	claims := func(kv ...any) map[string]any {
		c := map[string]any{"iss": defaultClientID, "sub": defaultUsername, "aud": "https://login.salesforce.com", "exp": exp}
		for i := 0; i < len(kv); i += 2 {
			c[kv[i].(string)] = kv[i+1]
		}
		return c
	}
	tests := []struct {
		name      string
		assertion string
		wantError string
		wantDesc  string
	}{
		{name: "numeric exp", assertion: signJWT(t, key, "RS256", claims())},
		{name: "string exp", assertion: signJWT(t, key, "RS256", claims("exp", strconv.FormatInt(exp, 10)))},
		{name: "sandbox audience", assertion: signJWT(t, key, "RS256", claims("aud", "https://test.salesforce.com"))},
		{name: "own audience", assertion: signJWT(t, key, "RS256", claims("aud", o.url))},
		{name: "audience list", assertion: signJWT(t, key, "RS256", claims("aud", []string{"https://example.com", o.url + "/"}))},
		{name: "wrong issuer", assertion: signJWT(t, key, "RS256", claims("iss", "someone")), wantError: "invalid_client_id", wantDesc: "client identifier invalid"},
		{name: "wrong subject", assertion: signJWT(t, key, "RS256", claims("sub", "x@y.z")), wantError: "invalid_grant", wantDesc: "user hasn't approved this consumer"},
		{name: "wrong audience", assertion: signJWT(t, key, "RS256", claims("aud", "https://example.com")), wantError: "invalid_grant", wantDesc: "audience is invalid"},
		{name: "expired", assertion: signJWT(t, key, "RS256", claims("exp", o.clock.Now().Unix()-1)), wantError: "invalid_grant", wantDesc: "expired authorization code"},
		{name: "no exp", assertion: signJWT(t, key, "RS256", claims("exp", nil)), wantError: "invalid_grant", wantDesc: "invalid assertion"},
		{name: "other key", assertion: signJWT(t, other, "RS256", claims()), wantError: "invalid_grant", wantDesc: "invalid assertion"},
		{name: "other alg", assertion: signJWT(t, key, "HS256", claims()), wantError: "invalid_grant", wantDesc: "invalid assertion"},
		{name: "garbage", assertion: "not.a.jwt", wantError: "invalid_grant", wantDesc: "invalid assertion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := o.postForm("/services/oauth2/token", url.Values{"grant_type": {grantJWT}, "assertion": {tt.assertion}}, nil)
			if tt.wantError == "" {
				checkToken(t, o, resp)
				return
			}
			var e oauthError
			decode(t, resp, http.StatusBadRequest, &e)
			if diff := cmp.Diff(oauthError{Error: tt.wantError, Description: tt.wantDesc}, e); diff != "" {
				t.Fatalf("error (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("not configured", func(t *testing.T) {
		plain := newOrg(t, Options{})
		resp := plain.postForm("/services/oauth2/token", url.Values{"grant_type": {grantJWT}, "assertion": {signJWT(t, key, "RS256", claims())}}, nil)
		var e oauthError
		decode(t, resp, http.StatusBadRequest, &e)
		if e.Error != "invalid_grant" {
			t.Fatalf("error %+v, want invalid_grant", e)
		}
	})
}

func TestExpireTokens(t *testing.T) {
	o := newOrg(t, Options{})
	decode(t, o.get("/services/data/v62.0/limits"), http.StatusOK, nil)
	o.emu.ExpireTokens()
	resp := o.get("/services/data/v62.0/limits")
	if msg := wantError(t, resp, http.StatusUnauthorized, "INVALID_SESSION_ID"); msg != "Session expired or invalid" {
		t.Errorf("message %q", msg)
	}
	o.token = o.login()
	decode(t, o.get("/services/data/v62.0/limits"), http.StatusOK, nil)
}

func TestAuthRequired(t *testing.T) {
	o := newOrg(t, Options{})
	o.token = ""
	resp := o.get("/services/data/v62.0/sobjects")
	wantError(t, resp, http.StatusUnauthorized, "INVALID_SESSION_ID")
	if h := resp.Header.Get("Sforce-Limit-Info"); h != "api-usage=0/100000" {
		t.Errorf("Sforce-Limit-Info %q on a 401", h)
	}
	o.token = "00D5g0000004C93!forged"
	wantError(t, o.get("/services/data/v62.0/sobjects"), http.StatusUnauthorized, "INVALID_SESSION_ID")
	if n := o.emu.RequestCount(); n != 0 {
		t.Errorf("RequestCount = %d, want 0: unauthenticated requests are not counted", n)
	}
}

func TestUserInfo(t *testing.T) {
	o := newOrg(t, Options{Username: "integration@acme.example"})
	var info map[string]any
	decode(t, o.get("/services/oauth2/userinfo"), http.StatusOK, &info)
	want := map[string]any{
		"user_id": o.emu.userID, "organization_id": o.emu.orgID,
		"preferred_username": "integration@acme.example", "email": "integration@acme.example",
	}
	got := map[string]any{}
	for k := range want {
		got[k] = info[k]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("userinfo (-want +got):\n%s", diff)
	}
	o.token = "bad"
	wantError(t, o.get("/services/oauth2/userinfo"), http.StatusUnauthorized, "INVALID_SESSION_ID")
}
