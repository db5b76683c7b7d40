package redshift

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/warehouse/postgres"
	"github.com/sfsync/sfsync/warehouse/postgres/pgtest"
	"github.com/sfsync/sfsync/warehousetest"
)

// TestConformanceOnPostgreSQL runs the conformance suite with the
// Redshift flavor against PostgreSQL: every statement the flavor sends
// (DELETE+INSERT consolidation, INSERT staging, the lease lock, column
// replacement) is one PostgreSQL accepts too.
func TestConformanceOnPostgreSQL(t *testing.T) {
	warehousetest.Run(t, func(t *testing.T) sfsync.Warehouse {
		w, err := Open(t.Context(), Options{DSN: pgtest.Database(t), MaxConns: 6})
		if err != nil {
			t.Fatal(err)
		}
		return w
	})
}

// TestConformanceOnRedshift runs the suite against a real Redshift
// database when SFSYNC_TEST_REDSHIFT_DSN names one. Each subtest uses
// schemas of its own in that database and drops them afterwards.
func TestConformanceOnRedshift(t *testing.T) {
	dsn := os.Getenv("SFSYNC_TEST_REDSHIFT_DSN")
	if dsn == "" {
		t.Skip("SFSYNC_TEST_REDSHIFT_DSN is not set; skipping the Redshift integration test (set it to postgres://user:password@cluster:5439/db?sslmode=require to run it)")
	}
	warehousetest.Run(t, func(t *testing.T) sfsync.Warehouse {
		return openScratch(t, sfsync.Secret(dsn))
	})
}

// openScratch opens a warehouse on schemas of its own, dropped when the
// test ends.
func openScratch(t *testing.T, dsn sfsync.Secret) sfsync.Warehouse {
	t.Helper()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	prefix := "sfsync_t_" + hex.EncodeToString(b)
	opts := Options{DSN: dsn, FinalSchema: prefix + "_final", StagingSchema: prefix + "_staging", ControlSchema: prefix + "_ctl", MaxConns: 4}
	w, err := Open(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := pgx.Connect(ctx, dsn.Reveal())
		if err != nil {
			t.Errorf("drop scratch schemas: %v", err)
			return
		}
		defer c.Close(ctx)
		for _, s := range []string{opts.FinalSchema, opts.StagingSchema, opts.ControlSchema} {
			if _, err := c.Exec(ctx, "DROP SCHEMA IF EXISTS "+s+" CASCADE"); err != nil {
				t.Errorf("drop scratch schema %s: %v", s, err)
			}
		}
	})
	return w
}

func accountTable() sfsync.Table {
	return sfsync.Table{
		Object: "Account",
		Fields: []sfsync.Field{
			{Name: "Id", Type: sfsync.TypeID},
			{Name: "Description", Type: sfsync.TypeTextArea},
			{Name: "SystemModstamp", Type: sfsync.TypeDateTime},
		},
		CursorField: "SystemModstamp",
	}
}

func openOnPostgres(t *testing.T, dsn sfsync.Secret, text postgres.TextPolicy) *postgres.Warehouse {
	t.Helper()
	w, err := Open(t.Context(), Options{DSN: dsn, Text: text, MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	if err := w.Setup(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := w.EnsureTable(t.Context(), accountTable()); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestLongText: text longer than a VARCHAR(65535) holds is cut at a
// character boundary and recorded, or rejected.
func TestLongText(t *testing.T) {
	long := strings.Repeat("é", 35000) // 70,000 bytes
	rec := sfsync.Record{"001LONG", long, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	tbl := accountTable()

	w := openOnPostgres(t, pgtest.Database(t), "")
	b := sfsync.Batch{ID: "b", Object: "Account"}
	s, err := w.Stage(t.Context(), tbl, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Write(t.Context(), []sfsync.Record{rec}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Consolidate(t.Context(), tbl, sfsync.Consolidation{Batch: b, Mode: sfsync.DeleteSoft}); err != nil {
		t.Fatal(err)
	}
	rows, err := w.Rows(t.Context(), "Account")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := rows[0]["Description"].(string)
	if want := strings.Repeat("é", 32767); got != want {
		t.Errorf("stored %d bytes, want %d (cut at a character boundary)", len(got), len(want))
	}
	altered, err := w.AlteredValues(t.Context(), "b")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]postgres.AlteredValue{{ID: "001LONG", Column: "Description", Change: "cut from 70000 to 65534 bytes"}}, altered); diff != "" {
		t.Errorf("altered values (-want +got):\n%s", diff)
	}

	w = openOnPostgres(t, pgtest.Database(t), postgres.TextReject)
	s, err = w.Stage(t.Context(), tbl, sfsync.Batch{ID: "b", Object: "Account"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Abort()
	err = s.Write(t.Context(), []sfsync.Record{rec})
	for _, want := range []string{"table Account", "column Description", "Id 001LONG", "cut from 70000"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("rejecting long text: got %v, want it to say %q", err, want)
		}
	}
}

// TestLeaseTakeover: the lease lock excludes a second warehouse, names
// its holder, is taken over once its holder stops renewing it, and a
// stale holder's release leaves the new holder's lease alone.
func TestLeaseTakeover(t *testing.T) {
	dsn := pgtest.Database(t)
	a := openOnPostgres(t, dsn, "")
	b := openOnPostgres(t, dsn, "")
	releaseA, err := a.Lock(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Lock(t.Context(), false)
	if !errors.Is(err, sfsync.ErrBusy) || !strings.Contains(err.Error(), "sfsync on ") || !strings.Contains(err.Error(), "lease taken") {
		t.Fatalf("second Lock: %v", err)
	}
	// The holder dies: its lease is no longer renewed.
	if _, err := a.DB().ExecContext(t.Context(), `UPDATE _sfsync.run_lock SET renewed_at = renewed_at - INTERVAL '3 minutes'`); err != nil {
		t.Fatal(err)
	}
	releaseB, err := b.Lock(t.Context(), false)
	if err != nil {
		t.Fatalf("Lock after the lease expired: %v", err)
	}
	releaseA() // the old holder's release must not free b's lease
	if _, err := a.Lock(t.Context(), false); !errors.Is(err, sfsync.ErrBusy) {
		t.Errorf("Lock while b holds the lease: %v", err)
	}
	releaseB()
	r, err := a.Lock(t.Context(), false)
	if err != nil {
		t.Fatalf("Lock after b released: %v", err)
	}
	r()
}
