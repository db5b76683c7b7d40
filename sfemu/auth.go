package sfemu

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// tokenResponse is the success body of every grant. It never carries
// expires_in or a refresh_token.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	InstanceURL string `json:"instance_url"`
	ID          string `json:"id"`
	TokenType   string `json:"token_type"`
	IssuedAt    string `json:"issued_at"`
	Signature   string `json:"signature"`
	Scope       string `json:"scope"`
}

type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

func writeOAuthError(w http.ResponseWriter, code, description string) {
	writeJSON(w, http.StatusBadRequest, oauthError{Error: code, Description: description})
}

const grantJWT = "urn:ietf:params:oauth:grant-type:jwt-bearer"

// baseURL is the emulator's own URL as the client reached it.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request, _ *call) {
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, "invalid_request", "request body is not a form")
		return
	}
	form := r.Form
	grant := form.Get("grant_type")
	clientID, clientSecret := form.Get("client_id"), form.Get("client_secret")
	if id, secret, ok := r.BasicAuth(); ok {
		clientID, clientSecret = id, secret
	}
	switch grant {
	case "":
		writeOAuthError(w, "invalid_request", "grant type is missing")
		return
	case "password":
		if !s.checkClient(w, clientID, clientSecret, true) {
			return
		}
		if form.Get("username") != s.opts.Username || !equal(form.Get("password"), s.opts.Password) {
			writeOAuthError(w, "invalid_grant", "authentication failure")
			return
		}
	case "client_credentials":
		if !s.checkClient(w, clientID, clientSecret, true) {
			return
		}
	case "refresh_token":
		if !s.checkClient(w, clientID, clientSecret, clientSecret != "") {
			return
		}
		if !equal(form.Get("refresh_token"), s.opts.RefreshToken) {
			writeOAuthError(w, "invalid_grant", "expired access/refresh token")
			return
		}
	case grantJWT:
		if code, desc := s.checkJWT(r, form.Get("assertion")); code != "" {
			writeOAuthError(w, code, desc)
			return
		}
	default:
		writeOAuthError(w, "unsupported_grant_type", "grant type not supported")
		return
	}
	s.issueToken(w, r)
}

// checkClient validates the connected app's credentials, answering the
// error itself when they are wrong.
func (s *Server) checkClient(w http.ResponseWriter, id, secret string, needSecret bool) bool {
	if id != s.opts.ClientID {
		writeOAuthError(w, "invalid_client_id", "client identifier invalid")
		return false
	}
	if needSecret && !equal(secret, s.opts.ClientSecret) {
		writeOAuthError(w, "invalid_client", "invalid client credentials")
		return false
	}
	return true
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func (s *Server) issueToken(w http.ResponseWriter, r *http.Request) {
	token := s.orgID[:15] + "!" + randomToken()
	s.tokenMu.Lock()
	s.tokens[token] = true
	s.tokenMu.Unlock()
	base := baseURL(r)
	idURL := base + "/id/" + s.orgID + "/" + s.userID
	issued := strconv.FormatInt(s.now().UnixMilli(), 10)
	mac := hmac.New(sha256.New, []byte(s.opts.ClientSecret))
	mac.Write([]byte(idURL + issued))
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken: token,
		InstanceURL: base,
		ID:          idURL,
		TokenType:   "Bearer",
		IssuedAt:    issued,
		Signature:   base64.StdEncoding.EncodeToString(mac.Sum(nil)),
		Scope:       "api",
	})
}

// randomToken returns 64 random base-62 characters.
func randomToken() string {
	b := make([]byte, 64)
	max := big.NewInt(62)
	for i := range b {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
		b[i] = base62Digits[n.Int64()]
	}
	return string(b)
}

// checkJWT validates a JWT bearer assertion; it returns an OAuth error
// code and description, or "" when the assertion is good.
func (s *Server) checkJWT(r *http.Request, assertion string) (string, string) {
	key := s.opts.JWTPublicKey
	if key == nil {
		return "invalid_grant", "user hasn't approved this consumer"
	}
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return "invalid_grant", "invalid assertion"
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if err := decodeSegment(parts[0], &header); err != nil || header.Alg != "RS256" {
		return "invalid_grant", "invalid assertion"
	}
	sig, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[2], "="))
	if err != nil {
		return "invalid_grant", "invalid assertion"
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig) != nil {
		return "invalid_grant", "invalid assertion"
	}
	var claims struct {
		Iss string          `json:"iss"`
		Sub string          `json:"sub"`
		Aud json.RawMessage `json:"aud"`
		Exp json.RawMessage `json:"exp"`
	}
	if err := decodeSegment(parts[1], &claims); err != nil {
		return "invalid_grant", "invalid assertion"
	}
	if claims.Iss != s.opts.ClientID {
		return "invalid_client_id", "client identifier invalid"
	}
	if claims.Sub != s.opts.Username {
		return "invalid_grant", "user hasn't approved this consumer"
	}
	if !s.audienceOK(r, claims.Aud) {
		return "invalid_grant", "audience is invalid"
	}
	exp, ok := parseExp(claims.Exp)
	if !ok {
		return "invalid_grant", "invalid assertion"
	}
	if !time.Unix(exp, 0).After(s.now()) {
		return "invalid_grant", "expired authorization code"
	}
	return "", ""
}

func decodeSegment(seg string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	return d.Decode(v)
}

// audienceOK accepts the production and sandbox login hosts and the
// emulator's own base URL, as a string or an array of strings.
func (s *Server) audienceOK(r *http.Request, raw json.RawMessage) bool {
	var auds []string
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		auds = []string{one}
	} else if err := json.Unmarshal(raw, &auds); err != nil {
		return false
	}
	own := baseURL(r)
	for _, a := range auds {
		a = strings.TrimSuffix(a, "/")
		if a == "https://login.salesforce.com" || a == "https://test.salesforce.com" || a == own {
			return true
		}
	}
	return false
}

// parseExp reads exp as a JSON number or a numeric string.
func parseExp(raw json.RawMessage) (int64, bool) {
	text := strings.TrimSpace(string(raw))
	if strings.HasPrefix(text, `"`) {
		if err := json.Unmarshal(raw, &text); err != nil {
			return 0, false
		}
	}
	if text == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return 0, false
	}
	return int64(f), true
}

// bearer returns the access token of r, or "".
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	for _, scheme := range []string{"Bearer ", "OAuth "} {
		if len(h) > len(scheme) && strings.EqualFold(h[:len(scheme)], scheme) {
			return strings.TrimSpace(h[len(scheme):])
		}
	}
	return ""
}

func (s *Server) authorized(r *http.Request) bool {
	t := bearer(r)
	if t == "" {
		return false
	}
	s.tokenMu.Lock()
	defer s.tokenMu.Unlock()
	return s.tokens[t]
}

// ExpireTokens invalidates every access token issued so far: requests
// using them get 401 INVALID_SESSION_ID until the client runs a grant
// again.
func (s *Server) ExpireTokens() {
	s.tokenMu.Lock()
	defer s.tokenMu.Unlock()
	clear(s.tokens)
}

func (s *Server) handleUserInfo(w http.ResponseWriter, r *http.Request, _ *call) {
	if !s.authorized(r) {
		writeError(w, http.StatusUnauthorized, "INVALID_SESSION_ID", "Session expired or invalid")
		return
	}
	base := baseURL(r)
	s.mu.RLock()
	users := s.objects["user"]
	row := users.rowOf(0)
	get := func(name string) string {
		f, _ := users.field(name)
		return users.cols[f.col].str(row)
	}
	info := map[string]any{
		"sub":                base + "/id/" + s.orgID + "/" + s.userID,
		"user_id":            s.userID,
		"organization_id":    s.orgID,
		"preferred_username": s.opts.Username,
		"nickname":           get("CommunityNickname"),
		"name":               get("Name"),
		"given_name":         get("FirstName"),
		"family_name":        get("LastName"),
		"email":              get("Email"),
		"email_verified":     true,
		"zoneinfo":           get("TimeZoneSidKey"),
		"locale":             get("LocaleSidKey"),
		"language":           get("LanguageLocaleKey"),
		"active":             true,
		"user_type":          "STANDARD",
		"updated_at":         time.UnixMilli(s.created).UTC().Format("2006-01-02T15:04:05Z"),
		"urls": map[string]string{
			"rest":     base + "/services/data/v{version}/",
			"sobjects": base + "/services/data/v{version}/sobjects/",
			"query":    base + "/services/data/v{version}/query/",
		},
	}
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, info)
}
