package replicate_test

import (
	"testing"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/replicate"
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
