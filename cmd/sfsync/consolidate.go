package main

import (
	"database/sql"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/landed"
	"github.com/sfsync/sfsync/sqlgen"
	"github.com/sfsync/sfsync/warehouse/duckdb"
	"github.com/sfsync/sfsync/warehouse/postgres"
	"github.com/spf13/cobra"
)

// landedFlags are the flags `consolidate` and `sql consolidate` share.
type landedFlags struct {
	stagingSchema, finalSchema string
	objects                    []string
	deleteMode                 string
	lookback                   time.Duration
}

func (f *landedFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.stagingSchema, "staging-schema", "", "schema holding the landed tables (required)")
	cmd.Flags().StringVar(&f.finalSchema, "final-schema", "", "schema receiving the consolidated tables (required)")
	cmd.Flags().StringSliceVar(&f.objects, "objects", nil, "tables to consolidate, comma-separated")
	cmd.Flags().StringVar(&f.deleteMode, "delete-mode", "soft", "what a deleted latest version does: soft keeps the row (IsDeleted true), hard removes it")
	cmd.Flags().DurationVar(&f.lookback, "lookback", 0, "consider only versions at most this much older than the final table's latest (0: all)")
	_ = cmd.MarkFlagRequired("staging-schema")
	_ = cmd.MarkFlagRequired("final-schema")
}

func (f *landedFlags) mode() (sfsync.DeleteMode, error) {
	switch m := sfsync.DeleteMode(f.deleteMode); m {
	case sfsync.DeleteSoft, sfsync.DeleteHard:
		return m, nil
	}
	return "", fmt.Errorf("--delete-mode %q: want soft or hard", f.deleteMode)
}

func newConsolidateCmd(g *globals) *cobra.Command {
	var f landedFlags
	var wait bool
	cmd := &cobra.Command{
		Use:   "consolidate --staging-schema SCHEMA --final-schema SCHEMA [--objects A,B]",
		Short: "Dedupe staging tables another tool landed into final tables",
		Long: `Dedupe staging tables that another tool landed, insert-only (every change of a
record is one more row), into final tables of the same shape with one row per Id:
the version with the latest SystemModstamp (else LastModifiedDate). When the
table has IsDeleted, a deleted latest version stays as it is (--delete-mode
soft) or removes the final row (hard). Final tables are created when missing
and gain the columns their staging tables gain. Running it again changes
nothing until newer versions land.

It works in the configured warehouse (warehouse: in the configuration file),
one transaction per table, and takes the warehouse's run lock. To run the same
work from another scheduler, print it with "sfsync sql consolidate".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			mode, err := f.mode()
			if err != nil {
				return err
			}
			cfg, err := loadConfig(g)
			if err != nil {
				return err
			}
			log := g.logger()
			wh, err := openWarehouseWait(ctx, cfg, log, wait)
			if err != nil {
				return busyAware(err)
			}
			defer wh.Close()
			release, err := wh.Lock(ctx, wait)
			if err != nil {
				return busyAware(err)
			}
			defer release()
			db, dialect, err := sqlTarget(wh)
			if err != nil {
				return err
			}
			results, err := landed.Consolidate(ctx, db, landed.Options{
				Dialect:       dialect,
				StagingSchema: f.stagingSchema,
				FinalSchema:   f.finalSchema,
				Objects:       f.objects,
				Mode:          mode,
				Lookback:      f.lookback,
				Logger:        log,
			})
			printLanded(g, results)
			return err
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&wait, "wait", false, "when another run holds the warehouse, wait for it instead of exiting")
	return cmd
}

// sqlTarget returns a warehouse's database handle and SQL dialect.
func sqlTarget(wh sfsync.Warehouse) (*sql.DB, sqlgen.Dialect, error) {
	switch w := wh.(type) {
	case *duckdb.Warehouse:
		return w.DB(), sqlgen.DuckDB(), nil
	case *postgres.Warehouse:
		return w.DB(), w.Dialect(), nil
	}
	return nil, sqlgen.Dialect{}, fmt.Errorf("the %T warehouse cannot consolidate landed tables", wh)
}

func printLanded(g *globals, results []landed.Result) {
	if len(results) == 0 {
		return
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tBY\tNEWER VERSIONS\tWRITTEN\tREMOVED\tNOTES")
	for _, r := range results {
		by := r.Cursor
		if r.Deleted != "" {
			by += ", " + r.Deleted
		}
		var notes []string
		if r.Created {
			notes = append(notes, "created")
		}
		if len(r.AddedColumns) > 0 {
			notes = append(notes, "added "+strings.Join(r.AddedColumns, ", "))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", r.Table, by, r.Versions, r.Written, r.Removed, strings.Join(notes, "; "))
	}
	tw.Flush()
}
