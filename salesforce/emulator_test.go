package salesforce_test

// The client against the project's emulator over real HTTP: every grant,
// endpoint and fault. The client was written from the API reference, not
// from the emulator; these tests check that the two agree.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/salesforce"
	"github.com/sfsync/sfsync/sfemu"
)

func emulator(t *testing.T, opts sfemu.Options) (*sfemu.Server, string) {
	t.Helper()
	emu, err := sfemu.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return emu, srv.URL
}

func passwordClient(t *testing.T, url string, pageSize int) *salesforce.Client {
	t.Helper()
	c, err := salesforce.New(salesforce.Options{
		Credentials: salesforce.Credentials{Method: salesforce.AuthPassword, LoginURL: url, ClientID: "sfsync-emulator",
			ClientSecret: "emulator-secret", Username: "admin@emulator.example", Password: "emulator-password"},
		PageSize: pageSize,
		Retry:    salesforce.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEmulatorGrants(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(t.TempDir(), "jwt.key")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(keyFile, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	_, url := emulator(t, sfemu.Options{Seed: 1, Records: map[string]int{"Account": 5}, JWTPublicKey: &key.PublicKey, RefreshToken: "rt-123"})
	base := salesforce.Credentials{LoginURL: url, ClientID: "sfsync-emulator"}
	for _, tc := range []struct {
		name string
		mod  func(*salesforce.Credentials)
		ok   bool
	}{
		{"password", func(c *salesforce.Credentials) {
			c.Method, c.ClientSecret, c.Username, c.Password = salesforce.AuthPassword, "emulator-secret", "admin@emulator.example", "emulator-password"
		}, true},
		{"password wrong", func(c *salesforce.Credentials) {
			c.Method, c.ClientSecret, c.Username, c.Password = salesforce.AuthPassword, "emulator-secret", "admin@emulator.example", "nope-secret-value"
		}, false},
		{"client credentials", func(c *salesforce.Credentials) {
			c.Method, c.ClientSecret = salesforce.AuthClientCredentials, "emulator-secret"
		}, true},
		{"jwt", func(c *salesforce.Credentials) {
			c.Method, c.Username, c.PrivateKeyFile = salesforce.AuthJWT, "admin@emulator.example", keyFile
		}, true},
		{"jwt unknown user", func(c *salesforce.Credentials) {
			c.Method, c.Username, c.PrivateKeyFile = salesforce.AuthJWT, "someone@else.example", keyFile
		}, false},
		{"refresh token", func(c *salesforce.Credentials) {
			c.Method, c.RefreshToken, c.ClientSecret = salesforce.AuthRefreshToken, "rt-123", "emulator-secret"
		}, true},
		{"refresh token revoked", func(c *salesforce.Credentials) {
			c.Method, c.RefreshToken, c.ClientSecret = salesforce.AuthRefreshToken, "rt-revoked-value", "emulator-secret"
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cr := base
			tc.mod(&cr)
			c, err := salesforce.New(salesforce.Options{Credentials: cr})
			if err != nil {
				t.Fatal(err)
			}
			err = c.Login(t.Context())
			if tc.ok != (err == nil) {
				t.Fatalf("login: %v", err)
			}
			if err != nil {
				for _, secret := range []string{"nope-secret-value", "rt-revoked-value", "emulator-secret"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error shows a secret: %v", err)
					}
				}
				return
			}
			if _, err := c.Limits(t.Context()); err != nil {
				t.Fatalf("an API call with the token: %v", err)
			}
		})
	}
}

// shiftClock is the wall clock moved by an adjustable offset.
type shiftClock struct{ offset atomic.Int64 }

func (c *shiftClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func TestEmulatorEndpoints(t *testing.T) {
	clock := &shiftClock{}
	emu, url := emulator(t, sfemu.Options{Seed: 2, Clock: clock, Records: map[string]int{"Account": 450, "Contact": 30}})
	c := passwordClient(t, url, 200)
	ctx := t.Context()
	if err := c.Login(ctx); err != nil {
		t.Fatal(err)
	}
	versions, err := c.Versions(ctx)
	if err != nil || len(versions) == 0 {
		t.Fatalf("versions: %v %v", versions, err)
	}
	objs, err := c.Objects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]sfsync.ObjectInfo{}
	for _, o := range objs {
		found[o.Name] = o
	}
	if a := found["Account"]; !a.Queryable || !a.Replicateable || a.KeyPrefix != "001" {
		t.Errorf("describe global Account: %+v", a)
	}
	acc, err := c.Describe(ctx, "Account")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[sfsync.Kind]bool{}
	for _, f := range acc.Fields {
		kinds[f.Kind()] = true
	}
	for _, k := range []sfsync.Kind{sfsync.KindString, sfsync.KindBool, sfsync.KindInt, sfsync.KindDecimal, sfsync.KindDate, sfsync.KindTime, sfsync.KindDateTime, sfsync.KindCompound} {
		if !kinds[k] {
			t.Errorf("Account describe has no %s field", k)
		}
	}
	if f, ok := acc.Field("BillingCity"); !ok || f.CompoundName != "BillingAddress" {
		t.Errorf("BillingCity: %+v", f)
	}
	if f, ok := acc.Field("Revenue_Per_Employee__c"); !ok || !f.Calculated {
		t.Errorf("formula field: %+v", f)
	}
	limits, err := c.Limits(ctx)
	if err != nil || limits["DailyApiRequests"].Max == 0 {
		t.Fatalf("limits: %v %v", limits, err)
	}
	if u := c.Usage(); u.Max == 0 || u.Used == 0 || u.Calls == 0 {
		t.Errorf("usage from Sforce-Limit-Info: %+v", u)
	}

	// query and queryAll with paging; a soft-deleted record only in queryAll.
	ids := sortedIDs(emu.Truth("Account"))
	if err := emu.Delete("Account", ids[0]); err != nil {
		t.Fatal(err)
	}
	count := func(all bool) (records, pages int) {
		err := c.Query(ctx, "SELECT Id FROM Account", all, func(_ context.Context, p *salesforce.RawPage) error {
			records += len(p.Records)
			pages++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	if n, pages := count(false); n != 449 || pages != 3 {
		t.Errorf("query: %d records in %d pages, want 449 in 3", n, pages)
	}
	if n, _ := count(true); n != 450 {
		t.Errorf("queryAll: %d records, want 450", n)
	}

	// Extract decodes every replicated field; Count agrees.
	w := sfsync.Window{Object: acc, Fields: acc.ReplicatedFields(nil, nil), CursorField: "SystemModstamp", IncludeDeleted: true}
	n, err := c.Count(ctx, w)
	if err != nil || n != 450 {
		t.Fatalf("count = %d, %v", n, err)
	}
	var got int
	var last time.Time
	err = c.Extract(ctx, w, func(_ context.Context, p *sfsync.Page) error {
		got += len(p.Records)
		if p.Checkpoint.Before(last) {
			t.Errorf("checkpoint went back: %v < %v", p.Checkpoint, last)
		}
		last = p.Checkpoint
		return nil
	})
	if err != nil || got != 450 {
		t.Fatalf("extract: %d records, %v", got, err)
	}

	// updated / deleted cover whole minutes up to the source's now.
	start := time.Now().Add(-10 * time.Minute)
	if err := emu.Update("Account", ids[1], map[string]any{"Name": "changed"}); err != nil {
		t.Fatal(err)
	}
	clock.offset.Store(int64(2 * time.Minute))
	end := time.Now().Add(2 * time.Minute)
	up, err := c.Updated(ctx, "Account", start, end)
	if err != nil || !contains(up.IDs, ids[1]) {
		t.Errorf("updated: %+v %v", up, err)
	}
	del, err := c.Deleted(ctx, "Account", start, end)
	if err != nil || len(del.Records) != 1 || del.Records[0].ID != ids[0] {
		t.Errorf("deleted: %+v %v", del, err)
	}
}

func TestEmulatorFaults(t *testing.T) {
	emu, url := emulator(t, sfemu.Options{Seed: 3, Records: map[string]int{"Account": 1000}})
	c := passwordClient(t, url, 200)
	ctx := t.Context()
	acc, err := c.Describe(ctx, "Account")
	if err != nil {
		t.Fatal(err)
	}
	w := sfsync.Window{Object: acc, Fields: acc.ReplicatedFields(nil, nil), CursorField: "SystemModstamp", IncludeDeleted: true}
	extract := func() ([]string, error) {
		var ids []string
		err := c.Extract(ctx, w, func(_ context.Context, p *sfsync.Page) error {
			for _, r := range p.Records {
				ids = append(ids, r[0].(string))
			}
			return nil
		})
		return ids, err
	}
	want, err := extract()
	if err != nil || len(want) != 1000 {
		t.Fatalf("clean extract: %d, %v", len(want), err)
	}
	for _, tc := range []struct {
		fault    sfemu.Fault
		sentinel error // nil: the extract must succeed after retries
	}{
		{sfemu.Fault{Kind: sfemu.FaultUnavailable, Route: "querymore", After: 1, Times: 2}, nil},
		{sfemu.Fault{Kind: "html500", Route: "querymore", After: 2}, nil},
		{sfemu.Fault{Kind: "reset", Route: "querymore", After: 3}, nil},
		{sfemu.Fault{Kind: "slow", Route: "querymore", Delay: 30 * time.Millisecond, Times: 2}, nil},
		{sfemu.Fault{Kind: "session", Route: "querymore", After: 2}, nil},
		{sfemu.Fault{Kind: "limit", Route: "querymore", After: 1}, sfsync.ErrAPILimit},
		{sfemu.Fault{Kind: "locator", Route: "querymore", After: 1}, sfsync.ErrInvalidLocator},
		{sfemu.Fault{Kind: "timeout", Route: "query"}, sfsync.ErrQueryTimeout},
	} {
		t.Run(fmt.Sprintf("%s@%s", tc.fault.Kind, tc.fault.Route), func(t *testing.T) {
			emu.ClearFaults()
			emu.InjectFault(tc.fault)
			got, err := extract()
			if tc.sentinel == nil {
				if err != nil {
					t.Fatalf("extract under %s: %v", tc.fault.Kind, err)
				}
				if strings.Join(got, ",") != strings.Join(want, ",") {
					t.Fatalf("extract under %s: %d records, pages lost or repeated", tc.fault.Kind, len(got))
				}
				return
			}
			if !errors.Is(err, tc.sentinel) {
				t.Fatalf("extract under %s: %v, want %v", tc.fault.Kind, err, tc.sentinel)
			}
		})
	}
	emu.ClearFaults()

	// Tokens that expire mid-paging: one re-login, every page once.
	before := emu.RequestCount()
	var got []string
	pages := 0
	err = c.Extract(ctx, w, func(_ context.Context, p *sfsync.Page) error {
		pages++
		if pages == 2 {
			emu.ExpireTokens()
		}
		for _, r := range p.Records {
			got = append(got, r[0].(string))
		}
		return nil
	})
	if err != nil || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("extract across an expired session: %d records, %v", len(got), err)
	}
	if calls := emu.RequestCount() - before; calls > 7 {
		t.Errorf("%d API calls for 5 pages and one re-login", calls)
	}

	// Permanent errors name the object and field.
	err = c.Query(ctx, "SELECT Nope__c FROM Account", false, func(context.Context, *salesforce.RawPage) error { return nil })
	if !errors.Is(err, sfsync.ErrPermanent) || !strings.Contains(err.Error(), "Nope__c") {
		t.Errorf("invalid field: %v", err)
	}
	if _, err := c.Describe(ctx, "Nope__c"); !errors.Is(err, sfsync.ErrPermanent) || !strings.Contains(err.Error(), "Nope__c") {
		t.Errorf("unknown object: %v", err)
	}
}

func sortedIDs(m map[string]map[string]any) []string {
	out := make([]string, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
