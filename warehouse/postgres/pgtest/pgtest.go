// Package pgtest gives tests a PostgreSQL database of their own on the
// server SFSYNC_TEST_PG_DSN names (default: the local server,
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable).
//
// Each call creates a uniquely named database and drops it when the test
// ends. When the server cannot be reached the test is skipped with a
// message saying so, unless SFSYNC_TEST_PG_REQUIRED=1 (as CI sets it),
// which fails it instead.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sfsync/sfsync"
)

// DefaultDSN is the server tests use when SFSYNC_TEST_PG_DSN is unset.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

var counter atomic.Int64

// ServerDSN returns the connection string of the test server's
// maintenance database.
func ServerDSN() string {
	if s := os.Getenv("SFSYNC_TEST_PG_DSN"); s != "" {
		return s
	}
	return DefaultDSN
}

// Database creates a new, empty database and returns its connection
// string; the database is dropped when the test ends.
func Database(t testing.TB) sfsync.Secret {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, ServerDSN())
	if err != nil {
		unreachable(t, err)
	}
	defer admin.Close(context.Background())
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	name := fmt.Sprintf("sfsync_t_%d_%d_%s", os.Getpid(), counter.Add(1), hex.EncodeToString(b))
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		admin, err := pgx.Connect(ctx, ServerDSN())
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer admin.Close(context.Background())
		if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	return sfsync.Secret(WithDatabase(ServerDSN(), name))
}

// WithDatabase returns dsn with its database replaced by name.
func WithDatabase(dsn, name string) string {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err == nil {
			u.Path = "/" + name
			return u.String()
		}
	}
	return dsn + " dbname=" + name
}

// Admin connects to the test server's maintenance database, for tests
// that act on the server itself (terminating sessions, say).
func Admin(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, ServerDSN())
	if err != nil {
		unreachable(t, err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func unreachable(t testing.TB, err error) {
	t.Helper()
	msg := fmt.Sprintf("PostgreSQL test server unreachable (SFSYNC_TEST_PG_DSN, default %s): %v", DefaultDSN, err)
	if os.Getenv("SFSYNC_TEST_PG_REQUIRED") == "1" {
		t.Fatalf("%s; SFSYNC_TEST_PG_REQUIRED=1, so this fails instead of skipping", msg)
	}
	t.Skipf("%s; skipping (set SFSYNC_TEST_PG_REQUIRED=1 to fail instead)", msg)
}
