package duckdb

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/sqlgen"
)

// benchTable is an Account-like object with 30 fields.
func benchTable() sfsync.Table {
	f := func(name string, typ sfsync.FieldType) sfsync.Field { return sfsync.Field{Name: name, Type: typ} }
	return sfsync.Table{
		Object: "Account",
		Fields: []sfsync.Field{
			f("Id", sfsync.TypeID), f("Name", sfsync.TypeString), f("Type", sfsync.TypePicklist),
			f("ParentId", sfsync.TypeReference), f("BillingStreet", sfsync.TypeTextArea), f("BillingCity", sfsync.TypeString),
			f("BillingState", sfsync.TypeString), f("BillingPostalCode", sfsync.TypeString), f("BillingCountry", sfsync.TypeString),
			{Name: "BillingLatitude", Type: sfsync.TypeDouble, Precision: 18, Scale: 15},
			f("Phone", sfsync.TypePhone), f("Fax", sfsync.TypePhone), f("AccountNumber", sfsync.TypeString),
			f("Website", sfsync.TypeURL), f("Sic", sfsync.TypeString), f("Industry", sfsync.TypePicklist),
			{Name: "AnnualRevenue", Type: sfsync.TypeCurrency, Precision: 18, Scale: 2},
			f("NumberOfEmployees", sfsync.TypeInt), f("Ownership", sfsync.TypePicklist), f("TickerSymbol", sfsync.TypeString),
			f("Description", sfsync.TypeTextArea), f("Rating", sfsync.TypePicklist), f("Site", sfsync.TypeString),
			f("OwnerId", sfsync.TypeReference), f("CreatedDate", sfsync.TypeDateTime), f("CreatedById", sfsync.TypeReference),
			f("LastModifiedDate", sfsync.TypeDateTime), f("LastActivityDate", sfsync.TypeDate),
			f("IsDeleted", sfsync.TypeBoolean), f("SystemModstamp", sfsync.TypeDateTime),
		},
		CursorField:  "SystemModstamp",
		DeletedField: "IsDeleted",
	}
}

func benchRecord(i int, mod time.Time) sfsync.Record {
	id := fmt.Sprintf("001%015d", i)
	return sfsync.Record{
		id, fmt.Sprintf("Account %d", i), "Customer", nil, fmt.Sprintf("%d Main Street\nSuite %d", i, i%100), "Springfield",
		"CA", "94105", "United States", 37.7749295 + float64(i%1000)/1e6,
		"+1 415 555 0100", nil, fmt.Sprintf("AN-%d", i), "https://example.com", "7372", "Technology",
		sfsync.Decimal(fmt.Sprintf("%d.%02d", i*10, i%100)), int64(i % 5000), "Public", "ACME",
		"A customer account used for benchmarking the staging and consolidation paths.", "Hot", "HQ",
		"005000000000001AAA", mod.Add(-time.Hour), "005000000000001AAA",
		mod, time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC),
		false, mod,
	}
}

func benchOpen(b *testing.B) *Warehouse {
	b.Helper()
	w, err := Open(context.Background(), Options{Path: filepath.Join(b.TempDir(), "bench.duckdb")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Close() })
	if err := w.Setup(context.Background()); err != nil {
		b.Fatal(err)
	}
	if err := w.EnsureTable(context.Background(), benchTable()); err != nil {
		b.Fatal(err)
	}
	return w
}

func benchRecords(from, n int, mod time.Time) []sfsync.Record {
	out := make([]sfsync.Record, n)
	for i := range out {
		out[i] = benchRecord(from+i, mod)
	}
	return out
}

// benchStage stages records as one batch, in pages of 2000.
func benchStage(b *testing.B, w *Warehouse, id string, records []sfsync.Record, mod time.Time) sfsync.Batch {
	b.Helper()
	ctx := context.Background()
	batch := sfsync.Batch{ID: id, RunID: "bench", Object: "Account", ExtractedAt: mod}
	s, err := w.Stage(ctx, benchTable(), batch)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < len(records); i += 2000 {
		if err := s.Write(ctx, records[i:min(i+2000, len(records))]); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Close(ctx); err != nil {
		b.Fatal(err)
	}
	return batch
}

// BenchmarkStage measures staging 100k rows of a 30-field Account per
// op: writing them (conversion and the spool, in Go) and closing the
// batch (DuckDB's read_csv of the spool into staging, and the commit),
// also reported apart.
func BenchmarkStage(b *testing.B) {
	w := benchOpen(b)
	ctx := context.Background()
	const rows = 100_000
	mod := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	records := benchRecords(0, rows, mod)
	var writing, closing time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		s, err := w.Stage(ctx, benchTable(), sfsync.Batch{ID: fmt.Sprintf("stage-%d", i), RunID: "bench", Object: "Account", ExtractedAt: mod})
		if err != nil {
			b.Fatal(err)
		}
		for j := 0; j < rows; j += 2000 {
			if err := s.Write(ctx, records[j:j+2000]); err != nil {
				b.Fatal(err)
			}
		}
		mid := time.Now()
		if err := s.Close(ctx); err != nil {
			b.Fatal(err)
		}
		writing += mid.Sub(start)
		closing += time.Since(mid)
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(writing.Seconds()/float64(b.N), "write-s/op")
	b.ReportMetric(closing.Seconds()/float64(b.N), "close-s/op")
}

// BenchmarkConsolidate measures consolidating 100k staged rows (half
// updates, half new) into a final table of 1M rows, and into an empty one,
// with each upsert strategy DuckDB supports.
func BenchmarkConsolidate(b *testing.B) {
	const staged, existing = 100_000, 1_000_000
	for _, upsert := range []sqlgen.Upsert{sqlgen.UpsertMerge, sqlgen.UpsertDeleteInsert} {
		for _, initial := range []bool{true, false} {
			name := fmt.Sprintf("%s/incremental", upsert)
			if initial {
				name = fmt.Sprintf("%s/initial", upsert)
			}
			b.Run(name, func(b *testing.B) {
				ctx := context.Background()
				base := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
				mod := base.Add(time.Hour)
				seedRecords := benchRecords(0, existing, base)
				batchRecords := benchRecords(existing-staged/2, staged, mod)
				var total time.Duration
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					w := benchOpen(b)
					w.dialect.Upsert = upsert
					tbl := benchTable()
					if !initial {
						seed := benchStage(b, w, "seed", seedRecords, base)
						if _, err := w.Consolidate(ctx, tbl, sfsync.Consolidation{Batch: seed, Mode: sfsync.DeleteSoft}); err != nil {
							b.Fatal(err)
						}
					}
					batch := benchStage(b, w, "batch", batchRecords, mod)
					last, prev := time.Now(), "begin"
					var steps []string
					w.failAt = func(step string) error {
						steps = append(steps, fmt.Sprintf("%s=%v", prev, time.Since(last).Round(time.Millisecond)))
						last, prev = time.Now(), step
						return nil
					}
					b.StartTimer()
					start := time.Now()
					res, err := w.Consolidate(ctx, tbl, sfsync.Consolidation{Batch: batch, Mode: sfsync.DeleteSoft,
						Cursor: sfsync.Cursor{Field: "SystemModstamp", Time: mod}})
					total += time.Since(start)
					steps = append(steps, fmt.Sprintf("%s=%v", prev, time.Since(last).Round(time.Millisecond)))
					b.Logf("steps: %v", steps)
					if err != nil {
						b.Fatal(err)
					}
					if res.Upserted != staged {
						b.Fatalf("upserted %d, want %d", res.Upserted, staged)
					}
				}
				b.ReportMetric(float64(staged*b.N)/total.Seconds(), "rows/s")
			})
		}
	}
}
