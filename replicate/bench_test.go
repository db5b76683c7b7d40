package replicate_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/replicate"
	"github.com/sfsync/sfsync/salesforce"
	"github.com/sfsync/sfsync/sfemu"
)

// BenchmarkInitialSync replicates 100,000 Accounts from the in-process
// emulator into a DuckDB file. The documented end-to-end figures run the
// emulator as a separate process (bench/rest.sh); this one is for profiles.
func BenchmarkInitialSync(b *testing.B) {
	for range b.N {
		b.StopTimer()
		e := newEnv(b, sfemu.Options{Seed: 1, Records: map[string]int{"Account": 100_000, "User": 20}})
		r := e.replicator(b, replicate.Options{Lookback: 5 * time.Minute, BatchRows: 25_000})
		b.StartTimer()
		runs := r.Run(b.Context(), []replicate.ObjectSpec{spec("Account")}, false)
		if runs[0].Status != sfsync.RunComplete {
			b.Fatalf("%+v", runs[0])
		}
		b.ReportMetric(float64(runs[0].RowsExtracted)/b.Elapsed().Seconds(), "records/s")
	}
}

// BenchmarkInitialSyncBulk replicates 200,000 Accounts through Bulk API 2.0
// (one job, 50,000-record result pages) into a DuckDB file, with result
// pages fetched one after the other (streams=1) or several at once through
// resultPages, to see whether parallel downloads pay on this machine.
func BenchmarkInitialSyncBulk(b *testing.B) {
	for _, streams := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("streams=%d", streams), func(b *testing.B) {
			var rows int64
			for range b.N {
				b.StopTimer()
				e := newEnv(b, sfemu.Options{Seed: 1, Records: map[string]int{"Account": 200_000, "User": 20}, BulkJobPolls: 1})
				c, err := salesforce.New(salesforce.Options{
					Credentials: salesforce.Credentials{Method: salesforce.AuthPassword, LoginURL: e.srv.URL,
						ClientID: "sfsync-emulator", ClientSecret: "emulator-secret",
						Username: "admin@emulator.example", Password: "emulator-password"},
					BulkThreshold: -1,
					Bulk:          salesforce.BulkOptions{PollInterval: time.Millisecond, ResultStreams: streams},
				})
				if err != nil {
					b.Fatal(err)
				}
				r := e.replicator(b, replicate.Options{Source: c, Lookback: 5 * time.Minute, BatchRows: 100_000})
				b.StartTimer()
				runs := r.Run(b.Context(), []replicate.ObjectSpec{spec("Account")}, false)
				if runs[0].Status != sfsync.RunComplete {
					b.Fatalf("%+v", runs[0])
				}
				rows += runs[0].RowsExtracted
			}
			b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
