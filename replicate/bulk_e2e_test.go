package replicate_test

import (
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/replicate"
	"github.com/sfsync/sfsync/salesforce"
	"github.com/sfsync/sfsync/sfemu"
	"github.com/sfsync/sfsync/warehouse/duckdb"
)

// The same org replicated through REST and through Bulk API 2.0 must give
// the same final tables, and both must equal the source.

// propObject has a field of every type the emulator stores.
var propObject = sfemu.ObjectDef{Name: "Prop__c", Label: "Prop", Fields: []sfemu.FieldDef{
	{Name: "Text__c", Type: "string", Length: 255, Nillable: true},
	{Name: "Area__c", Type: "textarea", Length: 131072, Nillable: true},
	{Name: "Pick__c", Type: "picklist", PicklistValues: []string{"Red", "Green", "Blue, \"dark\""}, Nillable: true},
	{Name: "Multi__c", Type: "multipicklist", PicklistValues: []string{"A", "B", "C"}, Nillable: true},
	{Name: "Combo__c", Type: "combobox", Nillable: true},
	{Name: "Phone__c", Type: "phone", Nillable: true},
	{Name: "Email__c", Type: "email", Nillable: true},
	{Name: "Url__c", Type: "url", Nillable: true},
	{Name: "Secret__c", Type: "encryptedstring", Nillable: true},
	{Name: "Any__c", Type: "anyType", Nillable: true},
	{Name: "Flag__c", Type: "boolean"},
	{Name: "Int__c", Type: "int", Digits: 9, Nillable: true},
	{Name: "Long__c", Type: "long", Digits: 18, Nillable: true},
	{Name: "Dbl__c", Type: "double", Precision: 18, Scale: 6, Nillable: true},
	{Name: "Cur__c", Type: "currency", Precision: 16, Scale: 2, Nillable: true},
	{Name: "Pct__c", Type: "percent", Precision: 5, Scale: 2, Nillable: true},
	{Name: "Day__c", Type: "date", Nillable: true},
	{Name: "Stamp__c", Type: "datetime", Nillable: true},
	{Name: "Clock__c", Type: "time", Nillable: true},
	{Name: "Loc__c", Type: "location", Nillable: true},
	{Name: "Addr__c", Type: "address", Nillable: true},
	{Name: "Ref__c", Type: "reference", ReferenceTo: []string{"Account"}, Nillable: true},
	{Name: "Calc__c", Type: "double", Precision: 18, Scale: 2, Formula: "Int__c * 2 + Cur__c"},
}}

// hostile are text values that break naive CSV and JSON handling.
var hostile = []string{
	"NUL \x00 inside", `quotes " and "" and '' and \" \\`, "new\nlines\r\nand\ttabs\r", "commas, semicolons; pipes | carets ^ backquotes `",
	"emoji 🚀🎉 Ünïcödé 中文 עברית \u2028\u2029", "  spaces  ", "null", "NA", "N/A", `"`, ",", "\n", "\r\n", `""`, "\\N", "true", "0",
	"=cmd|' /C calc'!A0", "<html>&amp;</html>", "\ufeffBOM",
}

// randomText is hostile text, random unicode, or null.
func randomText(r *rand.Rand, maxRunes int) any {
	switch r.IntN(4) {
	case 0:
		return nil
	case 1:
		h := []rune(hostile[r.IntN(len(hostile))])
		return string(h[:min(len(h), maxRunes)])
	}
	runes := []rune{'a', 'Z', '"', ',', '\n', '\r', '\t', ' ', '\'', '\\', 'é', '中', '🚀', '|', ';', '^', '`', 0}
	n := 1 + r.IntN(maxRunes)
	var b strings.Builder
	for range n {
		b.WriteRune(runes[r.IntN(len(runes))])
	}
	s := b.String()
	if strings.Trim(s, " ") == "" {
		return nil
	}
	return s
}

// randomProp returns random field values for a Prop__c record, nulls
// included.
func randomProp(r *rand.Rand, accounts []string) map[string]any {
	maybe := func(v any) any {
		if r.IntN(5) == 0 {
			return nil
		}
		return v
	}
	round := func(x float64, scale int) float64 {
		p := math.Pow10(scale)
		return math.Round(x*p) / p
	}
	base := time.Date(2000+r.IntN(30), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
	area := randomText(r, 40)
	if r.IntN(30) == 0 {
		area = strings.Repeat("🚀\"\n,", 20_000)
	}
	return map[string]any{
		"Name":      fmt.Sprintf("prop %d", r.IntN(1_000_000)),
		"Text__c":   randomText(r, 40),
		"Area__c":   area,
		"Pick__c":   maybe([]string{"Red", "Green", "Blue, \"dark\""}[r.IntN(3)]),
		"Multi__c":  maybe([]string{"A", "A;B", "B;C", "A;B;C"}[r.IntN(4)]),
		"Combo__c":  randomText(r, 40),
		"Phone__c":  maybe(fmt.Sprintf("+1 (555) %03d-%04d", r.IntN(1000), r.IntN(10000))),
		"Email__c":  maybe(fmt.Sprintf("a.%d@example.com", r.IntN(1000))),
		"Url__c":    maybe(fmt.Sprintf("https://example.com/?q=%d&x=\"y\"", r.IntN(1000))),
		"Secret__c": randomText(r, 40),
		"Any__c":    randomText(r, 40),
		"Flag__c":   r.IntN(2) == 0,
		"Int__c":    maybe(r.Int64N(2_000_000_000) - 1_000_000_000),
		"Long__c":   maybe(r.Int64N(1<<53) - 1<<52),
		"Dbl__c":    maybe(round((r.Float64()-0.5)*math.Pow10(r.IntN(12)), 6)),
		"Cur__c":    maybe(round((r.Float64()-0.5)*math.Pow10(r.IntN(14)), 2)),
		"Pct__c":    maybe(round((r.Float64()-0.5)*1000, 2)),
		"Day__c":    maybe(base.Format("2006-01-02")),
		"Stamp__c":  maybe(base.Add(time.Duration(r.Int64N(86_400_000)) * time.Millisecond)),
		"Clock__c":  maybe(time.Date(1970, 1, 1, r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(1000)*1e6, time.UTC).Format("15:04:05.000Z")),
		// Components of the compound fields.
		"Loc__Latitude__s":    maybe(round((r.Float64()-0.5)*180, 15)),
		"Loc__Longitude__s":   maybe(round((r.Float64()-0.5)*360, 15)),
		"Addr__Street__s":     randomText(r, 40),
		"Addr__City__s":       randomText(r, 40),
		"Addr__PostalCode__s": maybe("12345"),
		"Ref__c":              maybe(accounts[r.IntN(len(accounts))]),
	}
}

// newBulkClient is a client that extracts every window with Bulk, in jobs
// of about 100 records, concurrency of them at once.
func newBulkClient(t testing.TB, url string, concurrency int) *salesforce.Client {
	t.Helper()
	c, err := salesforce.New(salesforce.Options{
		Credentials: salesforce.Credentials{
			Method:       salesforce.AuthMethod("password"),
			LoginURL:     url,
			ClientID:     "sfsync-emulator",
			ClientSecret: sfsync.Secret("emulator-secret"),
			Username:     "admin@emulator.example",
			Password:     sfsync.Secret("emulator-password"),
		},
		Retry:         salesforce.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond},
		BulkThreshold: -1,
		Bulk: salesforce.BulkOptions{
			JobRecords: 100, Concurrency: concurrency, ResultRecords: 120, PageRecords: 90,
			PollInterval: time.Millisecond, MaxPollInterval: 2 * time.Millisecond, JobTimeout: 2 * time.Second,
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// twin is a second replica of e's org, in its own DuckDB file, fed by src.
func (e *env) twin(t testing.TB, src *salesforce.Client) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "twin.duckdb")
	wh, err := duckdb.Open(t.Context(), duckdb.Options{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wh.Close() })
	if err := wh.Setup(t.Context()); err != nil {
		t.Fatal(err)
	}
	return &env{emu: e.emu, srv: e.srv, src: src, wh: wh, path: path}
}

// finalRows reads a final table as text, every column but
// _sfsync_synced_at, ordered by Id.
func finalRows(t testing.TB, db *sql.DB, object string) (cols []string, rows [][]sql.NullString) {
	t.Helper()
	ctx := t.Context()
	cr, err := db.QueryContext(ctx, `SELECT column_name FROM information_schema.columns
		WHERE table_schema = 'salesforce' AND table_name = ? ORDER BY column_name`, object)
	if err != nil {
		t.Fatal(err)
	}
	defer cr.Close()
	var exprs []string
	for cr.Next() {
		var c string
		if err := cr.Scan(&c); err != nil {
			t.Fatal(err)
		}
		if c == sfsync.ColSyncedAt {
			continue
		}
		cols = append(cols, c)
		exprs = append(exprs, fmt.Sprintf(`CAST(%q AS VARCHAR)`, c))
	}
	if err := cr.Err(); err != nil {
		t.Fatal(err)
	}
	if len(cols) == 0 {
		t.Fatalf("no final table for %s", object)
	}
	q := fmt.Sprintf(`SELECT %s FROM salesforce.%q ORDER BY "Id"`, strings.Join(exprs, ", "), object)
	rs, err := db.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	for rs.Next() {
		row := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		rows = append(rows, row)
	}
	if err := rs.Err(); err != nil {
		t.Fatal(err)
	}
	return cols, rows
}

// sameTables fails the test unless both replicas hold the same final rows.
func sameTables(t testing.TB, a, b *env, objects ...string) {
	t.Helper()
	for _, o := range objects {
		colsA, rowsA := finalRows(t, a.wh.DB(), o)
		colsB, rowsB := finalRows(t, b.wh.DB(), o)
		if diff := cmp.Diff(colsA, colsB); diff != "" {
			t.Fatalf("%s: columns differ (-rest +bulk):\n%s", o, diff)
		}
		if len(rowsA) == 0 {
			t.Fatalf("%s: no rows", o)
		}
		if diff := cmp.Diff(rowsA, rowsB); diff != "" {
			t.Fatalf("%s: REST and Bulk replicas differ (-rest +bulk); columns %v:\n%s", o, colsA, diff)
		}
	}
}

func TestRESTAndBulkReplicasAreIdentical(t *testing.T) {
	for _, seed := range []uint64{1, 2} {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			if seed > 1 && testing.Short() {
				t.Skip("one seed in short mode")
			}
			e := newEnv(t, sfemu.Options{
				Seed:            int64(seed),
				Records:         map[string]int{"Account": 220, "Prop__c": 160, "AccountHistory": 40, "User": 5},
				Custom:          []sfemu.ObjectDef{propObject},
				BulkUnsupported: []string{"AccountHistory"},
			})
			bulkSrc := newBulkClient(t, e.srv.URL, 2)
			b := e.twin(t, bulkSrc)
			opts := replicate.Options{Lookback: 5 * time.Minute, BatchRows: 1000, PageSize: 200}
			restRep, bulkRep := e.replicator(t, opts), b.replicator(t, opts)
			objects := []string{"Account", "Prop__c", "AccountHistory", "User"}
			var specs []replicate.ObjectSpec
			for _, o := range objects {
				specs = append(specs, spec(o))
			}
			rnd := rand.New(rand.NewPCG(seed, 99))
			accounts := ids(e.emu.Truth("Account"))
			for range 40 {
				if _, err := e.emu.Create("Prop__c", randomProp(rnd, accounts)); err != nil {
					t.Fatal(err)
				}
			}
			for i, v := range hostile {
				if _, err := e.emu.Create("Account", map[string]any{"Name": fmt.Sprintf("hostile %d", i), "Description": v}); err != nil {
					t.Fatal(err)
				}
			}

			for round := range 3 {
				e.runAll(t, restRep, sfsync.RunComplete, false, specs...)
				b.runAll(t, bulkRep, sfsync.RunComplete, false, specs...)
				sameTables(t, e, b, objects...)
				b.mustEqual(t, objects...)
				if left := e.emu.BulkJobs(); len(left) != 0 {
					t.Fatalf("round %d: jobs left behind: %+v", round, left)
				}

				// Changes for the next round: updates with random values
				// and nulls, deletes, an undelete, new records.
				props := ids(e.emu.Truth("Prop__c"))
				for range 60 {
					if err := e.emu.Update("Prop__c", props[rnd.IntN(len(props))], randomProp(rnd, accounts)); err != nil {
						t.Fatal(err)
					}
				}
				for _, id := range props[len(props)-5:] {
					if err := e.emu.Delete("Prop__c", id); err != nil {
						t.Fatal(err)
					}
				}
				if round == 1 {
					if err := e.emu.Undelete("Prop__c", props[len(props)-1]); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := e.emu.UpdateRandom("Account", 50, rnd); err != nil {
					t.Fatal(err)
				}
				for range 10 {
					if _, err := e.emu.Create("Prop__c", randomProp(rnd, accounts)); err != nil {
						t.Fatal(err)
					}
				}
			}
			if bulkSrc.BulkJobs() < 4 {
				t.Errorf("the Bulk replica used %d jobs", bulkSrc.BulkJobs())
			}
		})
	}
}

func TestBulkFaultsEndInReplicaOrHonestStatus(t *testing.T) {
	e := newEnv(t, sfemu.Options{Seed: 21, Records: map[string]int{"Account": 700, "User": 5}})
	// One job at a time, so which job a fault hits is deterministic.
	b := e.twin(t, newBulkClient(t, e.srv.URL, 1))
	r := b.replicator(t, replicate.Options{Lookback: 5 * time.Minute, BatchRows: 100})
	rnd := rand.New(rand.NewPCG(21, 1))
	for _, tc := range []struct {
		name   string
		faults []sfemu.Fault
		status sfsync.RunStatus
		reason string
	}{
		{"job fails once", []sfemu.Fault{{Kind: sfemu.FaultJobFail, Route: "bulkcreate"}}, sfsync.RunComplete, ""},
		{"job stuck once", []sfemu.Fault{{Kind: sfemu.FaultJobStuck, Route: "bulkcreate"}}, sfsync.RunComplete, ""},
		{"slow result pages", []sfemu.Fault{{Kind: sfemu.FaultSlow, Route: "bulkresults", Delay: 2 * time.Millisecond, Times: -1}}, sfsync.RunComplete, ""},
		{"reset mid-download", []sfemu.Fault{{Kind: sfemu.FaultReset, Route: "bulkresults", After: 1}, {Kind: sfemu.FaultReset, Route: "bulkresults", After: 3}}, sfsync.RunComplete, ""},
		{"later jobs always fail", []sfemu.Fault{{Kind: sfemu.FaultJobFail, After: 1, Times: -1, Message: "InternalServerError: try again"}}, sfsync.RunPartial, "InternalServerError: try again"},
		{"every job fails", []sfemu.Fault{{Kind: sfemu.FaultJobFail, Times: -1, Message: "InternalServerError: try again"}}, sfsync.RunFailed, "InternalServerError: try again"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := e.emu.UpdateRandom("Account", 300, rnd); err != nil {
				t.Fatal(err)
			}
			for _, f := range tc.faults {
				e.emu.InjectFault(f)
			}
			runs := r.Run(t.Context(), []replicate.ObjectSpec{spec("Account")}, false)
			e.emu.ClearFaults()
			run := runs[0]
			if run.Status != tc.status || !strings.Contains(run.Reason+run.Error, tc.reason) {
				t.Fatalf("run: status %s (reason %q, error %q), want %s with %q", run.Status, run.Reason, run.Error, tc.status, tc.reason)
			}
			if left := e.emu.BulkJobs(); len(left) != 0 {
				t.Fatalf("jobs left behind: %+v", left)
			}
			if tc.status != sfsync.RunComplete {
				// The next clean run heals the replica.
				b.runAll(t, r, sfsync.RunComplete, false, spec("Account"))
			}
			b.mustEqual(t, "Account")
		})
	}
}
