package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"text/tabwriter"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/replicate"
	"github.com/sfsync/sfsync/salesforce"
	"github.com/sfsync/sfsync/sfemu"
	"github.com/sfsync/sfsync/verify"
	"github.com/sfsync/sfsync/warehouse/duckdb"
	"github.com/spf13/cobra"
)

var quickstartObjects = []string{"Account", "Contact", "Opportunity", "Lead", "User"}

func newQuickstartCmd(g *globals) *cobra.Command {
	var path, records string
	var seed int64
	cmd := &cobra.Command{
		Use:   "quickstart",
		Short: "Replicate a generated org from the built-in emulator into quickstart.duckdb, change it, and prove the replica equals it",
		Long: `quickstart needs no Salesforce account and no network. It starts the built-in
Salesforce API emulator in this process with a generated org, replicates it
into a DuckDB file, applies a round of changes at the source (updates,
deletes, an undelete, a merge, late commits), replicates again, and compares
every row and field of the replica with the source.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			counts, err := sfemu.ParseRecordsFlag(records)
			if err != nil {
				return fmt.Errorf("--records: %w", err)
			}
			if !cmd.Flags().Changed("log-level") {
				g.logLevel = "warn" // the proof is the output; keep it clean
			}
			return quickstart(cmd.Context(), g, path, counts, seed)
		},
	}
	cmd.Flags().StringVar(&path, "path", "quickstart.duckdb", "DuckDB file to create (replaced if it exists)")
	cmd.Flags().StringVar(&records, "records", "Account=5000,Contact=10000,Opportunity=5000,Lead=2000,User=50", "records per object in the generated org")
	cmd.Flags().Int64Var(&seed, "seed", 1, "data generation seed")
	return cmd
}

func quickstart(ctx context.Context, g *globals, path string, counts map[string]int, seed int64) error {
	log := g.logger()
	out := g.stdout
	emu, err := sfemu.New(sfemu.Options{Seed: seed, Records: counts})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	serveCtx, stopServing := context.WithCancel(context.WithoutCancel(ctx))
	served := make(chan error, 1)
	go func() { served <- serveUntilDone(serveCtx, ln, emu) }()
	defer func() { stopServing(); <-served }()
	base := "http://" + ln.Addr().String()
	fmt.Fprintf(out, "1. Started the Salesforce API emulator on %s with a generated org.\n", base)

	for _, suffix := range []string{"", ".wal", ".lock"} {
		_ = os.Remove(path + suffix)
	}
	wh, err := duckdb.Open(ctx, duckdb.Options{Path: path, Logger: log})
	if err != nil {
		return err
	}
	defer wh.Close()
	release, err := wh.Lock(ctx, false)
	if err != nil {
		return busyAware(err)
	}
	defer release()
	if err := wh.Setup(ctx); err != nil {
		return err
	}
	src, err := salesforce.New(salesforce.Options{
		Credentials: salesforce.Credentials{
			Method:       salesforce.AuthMethod("password"),
			LoginURL:     base,
			ClientID:     "sfsync-emulator",
			ClientSecret: sfsync.Secret("emulator-secret"),
			Username:     "admin@emulator.example",
			Password:     sfsync.Secret("emulator-password"),
		},
		Logger: log,
	})
	if err != nil {
		return err
	}
	if err := src.Login(ctx); err != nil {
		return err
	}
	var specs []replicate.ObjectSpec
	for _, name := range quickstartObjects {
		if counts[name] > 0 {
			specs = append(specs, replicate.ObjectSpec{Name: name, DeleteMode: sfsync.DeleteSoft})
		}
	}
	rep, err := replicate.New(replicate.Options{Source: src, Warehouse: wh, Logger: log, Lookback: 5 * time.Minute})
	if err != nil {
		return err
	}

	start := time.Now()
	runs := rep.Run(ctx, specs, false)
	fmt.Fprintf(out, "2. Initial sync into %s took %s.\n", path, time.Since(start).Round(time.Millisecond))
	if err := exitFor(runs); err != nil {
		printRuns(g, runs)
		return err
	}
	before, err := proofs(ctx, wh, src, emu, specs)
	if err != nil {
		return err
	}

	changes, err := applyChanges(emu, seed)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "3. Changed the source: %s.\n", changes)

	start = time.Now()
	runs = rep.Run(ctx, specs, false)
	fmt.Fprintf(out, "4. Incremental sync took %s.\n\n", time.Since(start).Round(time.Millisecond))
	if err := exitFor(runs); err != nil {
		printRuns(g, runs)
		return err
	}
	after, err := proofs(ctx, wh, src, emu, specs)
	if err != nil {
		return err
	}

	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "OBJECT\tSOURCE BEFORE\tREPLICA BEFORE\tSOURCE AFTER\tREPLICA AFTER\tFLAGGED DELETED\tDUPLICATE IDS\tFIELD VALUES COMPARED\tEQUAL")
	allOK := true
	for i, b := range before {
		a := after[i]
		ok := a.OK() && b.OK()
		allOK = allOK && ok
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%v\n", a.Object, b.TruthRows, b.ReplicaRows, a.TruthRows, a.ReplicaRows, a.FlaggedRows, a.DuplicateIDs, a.Compared, ok)
	}
	_ = tw.Flush()
	if !allOK {
		for _, r := range append(before, after...) {
			if !r.OK() {
				fmt.Fprintln(out, r.String())
			}
		}
		return fmt.Errorf("the replica does not equal the source")
	}
	fmt.Fprintf(out, `
The replica equals the source: every live record, every field, no duplicate
Ids, deleted records flagged (_sfsync_deleted = true), the late commits caught
by the lookback window.

Query it with any DuckDB client, for example:
  duckdb %s "SELECT Name, AnnualRevenue FROM salesforce.Account WHERE NOT _sfsync_deleted ORDER BY AnnualRevenue DESC NULLS LAST LIMIT 5"
or from Python: duckdb.connect("%s").sql("SELECT count(*) FROM salesforce.Contact").show()
Control tables (cursors, runs, batches) are in the _sfsync schema.
`, path, path)
	return nil
}

// applyChanges makes a round of source changes of every kind the replica
// must follow, and describes them.
func applyChanges(emu *sfemu.Server, seed int64) (string, error) {
	rnd := rand.New(rand.NewPCG(uint64(seed), 7))
	updated, err := emu.UpdateRandom("Account", 200, rnd)
	if err != nil {
		return "", err
	}
	if _, err := emu.UpdateRandom("Contact", 200, rnd); err != nil {
		return "", err
	}
	accounts := sortedNames(emu.Truth("Account"))
	contacts := sortedNames(emu.Truth("Contact"))
	if len(accounts) < 40 || len(contacts) < 20 {
		return "updated 400 records", nil
	}
	deleted := 0
	for _, id := range contacts[:10] {
		if err := emu.Delete("Contact", id); err != nil {
			return "", err
		}
		deleted++
	}
	for _, id := range accounts[:10] {
		if err := emu.Delete("Account", id); err != nil {
			return "", err
		}
		deleted++
	}
	if err := emu.Undelete("Account", accounts[0]); err != nil {
		return "", err
	}
	if err := emu.Merge("Account", accounts[20], accounts[21], accounts[22]); err != nil {
		return "", err
	}
	for i, id := range accounts[30:33] {
		if err := emu.LateCommit("Account", id, map[string]any{"Name": fmt.Sprintf("Late commit %d", i)}, 2*time.Minute); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("updated %d records, deleted %d, undeleted 1, merged 2 Accounts into a third, and committed 3 updates stamped 2 minutes in the past", len(updated)+200, deleted), nil
}

// proofs compares every replicated object with the emulator's truth.
func proofs(ctx context.Context, wh *duckdb.Warehouse, src *salesforce.Client, emu *sfemu.Server, specs []replicate.ObjectSpec) ([]*verify.Report, error) {
	var reports []*verify.Report
	for _, s := range specs {
		obj, err := src.Describe(ctx, s.Name)
		if err != nil {
			return nil, err
		}
		rep, err := verify.Compare(ctx, wh.DB(), s.Name, emu.Truth(s.Name), verify.Options{
			Schema: "salesforce",
			Fields: obj.ReplicatedFields(nil, nil),
		})
		if err != nil {
			return nil, err
		}
		reports = append(reports, rep)
	}
	return reports, nil
}
