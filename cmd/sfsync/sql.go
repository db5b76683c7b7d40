package main

import (
	"errors"
	"fmt"

	"github.com/sfsync/sfsync/landed"
	"github.com/sfsync/sfsync/sqlgen"
	"github.com/spf13/cobra"
)

func newSQLCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sql",
		Short: "Print the SQL of sfsync's work, to run it elsewhere",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newSQLConsolidateCmd(g))
	return cmd
}

func newSQLConsolidateCmd(g *globals) *cobra.Command {
	var f landedFlags
	var dialect, id, cursor, deleted, procedure string
	var tieBreak []string
	cmd := &cobra.Command{
		Use:   "consolidate --dialect redshift|postgres|duckdb --staging-schema SCHEMA --final-schema SCHEMA --objects A,B",
		Short: "Print the SQL that dedupes landed staging tables (see consolidate)",
		Long: `Print the SQL "sfsync consolidate" runs, for teams that run it in their own
scheduler: a script with one transaction per table for PostgreSQL and DuckDB, a
stored procedure (and the CALL that runs it) for Redshift, or for PostgreSQL
with --procedure.

It connects to nothing, so it names columns by the flags, the same for every
table (--id, --cursor, --deleted; --deleted "" for tables without a deleted
flag), and copies columns by position: final tables are created with their
staging tables' columns, and a column the landing adds later must be added to
the final table too (running "sfsync consolidate" once does that).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			mode, err := f.mode()
			if err != nil {
				return err
			}
			var d sqlgen.Dialect
			switch dialect {
			case "postgres":
				d = sqlgen.PostgreSQL()
			case "redshift":
				d = sqlgen.Redshift()
			case "duckdb":
				d = sqlgen.DuckDB()
			default:
				return fmt.Errorf("--dialect %q: want redshift, postgres or duckdb", dialect)
			}
			if len(f.objects) == 0 {
				return errors.New("--objects is required: name the landed tables (this command connects to nothing, so it cannot list them)")
			}
			var specs []landed.Spec
			for _, o := range f.objects {
				specs = append(specs, landed.Spec{
					Dialect:       d,
					StagingSchema: f.stagingSchema,
					FinalSchema:   f.finalSchema,
					Table:         o,
					ID:            id,
					Cursor:        cursor,
					Deleted:       deleted,
					TieBreak:      tieBreak,
					Mode:          mode,
					Lookback:      f.lookback,
				})
			}
			var out string
			switch {
			case dialect == "redshift" || procedure != "" && dialect == "postgres":
				if procedure == "" {
					procedure = "sfsync_consolidate_landed"
				}
				out, err = landed.Procedure(procedure, specs)
			case procedure != "":
				return errors.New("--procedure: DuckDB has no stored procedures")
			default:
				out, err = landed.Script(specs)
			}
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(g.stdout, out)
			return err
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&dialect, "dialect", "", "SQL dialect: redshift, postgres or duckdb (required)")
	cmd.Flags().StringVar(&id, "id", "Id", "the record Id column")
	cmd.Flags().StringVar(&cursor, "cursor", "SystemModstamp", "the column ordering a record's versions (SystemModstamp or LastModifiedDate)")
	cmd.Flags().StringVar(&deleted, "deleted", "IsDeleted", `the deleted flag column; "" when the tables have none`)
	cmd.Flags().StringSliceVar(&tieBreak, "tiebreak", nil, "columns ordering versions with equal cursor values, latest first (a landing timestamp)")
	cmd.Flags().StringVar(&procedure, "procedure", "", "render a stored procedure of this name (Redshift: default sfsync_consolidate_landed)")
	_ = cmd.MarkFlagRequired("dialect")
	return cmd
}
