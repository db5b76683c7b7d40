package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/config"
	"github.com/sfsync/sfsync/replicate"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newInitCmd(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a commented example configuration file",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := os.Stat(g.configPath); err == nil && !force {
				return fmt.Errorf("%s exists; use --force to overwrite it", g.configPath)
			}
			if err := os.WriteFile(g.configPath, []byte(config.Example()), 0o600); err != nil {
				return fmt.Errorf("write %s: %w", g.configPath, err)
			}
			fmt.Fprintf(g.stdout, "wrote %s; edit it, then run: sfsync check\n", g.configPath)
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	return cmd
}

func newCheckCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Validate the configuration and test the Salesforce and warehouse connections",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, err := loadConfig(g)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.stdout, "configuration: ok (%s)\n", g.configPath)
			log := g.logger()
			src, err := newSource(cfg, log)
			if err != nil {
				return err
			}
			if err := src.Login(ctx); err != nil {
				return fmt.Errorf("salesforce: %w", err)
			}
			specs, err := objectSpecs(ctx, cfg, src, nil)
			if err != nil {
				return fmt.Errorf("salesforce: %w", err)
			}
			u := src.Usage()
			fmt.Fprintf(g.stdout, "salesforce: ok (%s, API usage %d/%d)\n", cfg.Salesforce.LoginURL, u.Used, u.Max)
			for _, s := range specs {
				fmt.Fprintf(g.stdout, "  object %s (delete mode %s)\n", s.Name, orDefault(string(s.DeleteMode), "soft"))
			}
			wh, err := openWarehouse(ctx, cfg, log)
			if err != nil {
				return fmt.Errorf("warehouse: %w", err)
			}
			defer wh.Close()
			if err := wh.Setup(ctx); err != nil {
				return fmt.Errorf("warehouse: %w", err)
			}
			where := cfg.Warehouse.Path
			if cfg.Warehouse.Type == "postgres" {
				where = "schemas " + cfg.Schemas.Final + ", " + cfg.Schemas.Staging + ", " + cfg.Schemas.Control
			}
			fmt.Fprintf(g.stdout, "warehouse: ok (%s %s)\n", orDefault(cfg.Warehouse.Type, "duckdb"), where)
			return nil
		},
	}
}

func newRunCmd(g *globals) *cobra.Command {
	var full, wait bool
	var progress string
	cmd := &cobra.Command{
		Use:   "run [OBJECT...]",
		Short: "Replicate the configured objects (or the named ones) once",
		Long: `Replicate the configured objects, or only the named ones, once.

Each object extracts the window since its cursor (minus the lookback), stages
it and consolidates it into its final table together with the new cursor.
--full re-extracts the named objects and marks every row the source no longer
has as deleted (how hard deletes are caught).

Exit status: 0 when every object completed, 3 when any ended partial or
failed, 4 when another run holds the warehouse, 1 on other errors.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
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
			if err := wh.Setup(ctx); err != nil {
				return err
			}
			src, err := newSource(cfg, log)
			if err != nil {
				return err
			}
			if err := src.Login(ctx); err != nil {
				return fmt.Errorf("salesforce: %w", err)
			}
			specs, err := objectSpecs(ctx, cfg, src, args)
			if err != nil {
				return err
			}
			prog, closeProg := newProgress(g, progress, log)
			defer closeProg()
			rep, err := replicate.New(replicate.Options{
				Source:           src,
				Warehouse:        wh,
				Logger:           log,
				Lookback:         cfg.Sync.Lookback,
				BatchRows:        cfg.Sync.BatchRows,
				PageSize:         cfg.Sync.PageSize,
				Parallelism:      cfg.Sync.Parallelism,
				StagingRetention: cfg.Sync.StagingRetention,
				Progress:         prog,
			})
			if err != nil {
				return err
			}
			runs := rep.Run(ctx, specs, full)
			closeProg()
			printRuns(g, runs)
			return exitFor(runs)
		},
	}
	cmd.Flags().BoolVar(&full, "full", false, "full refresh: re-extract and mark rows the source no longer has as deleted")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for another run on the same warehouse to finish instead of exiting")
	cmd.Flags().StringVar(&progress, "progress", "auto", "progress display: auto (bars on a terminal), bars, log, none")
	return cmd
}

// newProgress picks the progress display; the returned func stops it and
// is safe to call twice.
func newProgress(g *globals, mode string, log interface {
	Info(string, ...any)
}) (replicate.Progress, func()) {
	if mode == "auto" {
		mode = "log"
		if f, ok := g.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) && g.logFormat != "json" {
			mode = "bars"
		}
	}
	switch mode {
	case "bars":
		b := newProgressBars(g.stderr)
		closed := false
		return b, func() {
			if !closed {
				closed = true
				b.Close()
			}
		}
	case "none":
		return nil, func() {}
	default:
		return newProgressLog(g.logger(), 10*time.Second), func() {}
	}
}

func printRuns(g *globals, runs []sfsync.Run) {
	replicate.SortRuns(runs)
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "OBJECT\tSTATUS\tEXTRACTED\tUPSERTED\tDELETED\tCURSOR\tAPI CALLS\tBULK JOBS\tDETAIL")
	for _, r := range runs {
		detail := r.Reason
		if r.Status == sfsync.RunFailed {
			detail = r.Error
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%d\t%d\t%s\n", r.Object, r.Status, r.RowsExtracted, r.RowsUpserted, r.RowsDeleted, fmtTime(r.CursorAfter), r.APICalls, r.BulkJobs, detail)
	}
	_ = tw.Flush()
}

func newStatusCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show each object's rows, cursor, last run, state and lag",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, err := loadConfig(g)
			if err != nil {
				return err
			}
			wh, err := openWarehouse(ctx, cfg, g.logger())
			if err != nil {
				return busyAware(err)
			}
			defer wh.Close()
			if err := wh.Setup(ctx); err != nil {
				return err
			}
			states, err := wh.States(ctx)
			if err != nil {
				return err
			}
			return printStatus(g, states, asJSON, time.Now())
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// statusRow is one object in `sfsync status` output.
type statusRow struct {
	Object      string     `json:"object"`
	Rows        int64      `json:"rows"`
	Cursor      *time.Time `json:"cursor"`
	CursorField string     `json:"cursor_field"`
	LagSeconds  *float64   `json:"lag_seconds"`
	State       string     `json:"state"`
	Reason      string     `json:"reason,omitempty"`
	LastRun     *time.Time `json:"last_run"`
	LastSuccess *time.Time `json:"last_success"`
	APICalls    int64      `json:"last_run_api_calls"`
	BulkJobs    int64      `json:"last_run_bulk_jobs"`
}

func printStatus(g *globals, states []sfsync.ObjectState, asJSON bool, now time.Time) error {
	rows := make([]statusRow, 0, len(states))
	for _, s := range states {
		r := statusRow{Object: s.Object, Rows: s.Rows, CursorField: s.Cursor.Field, State: "never run"}
		if !s.Cursor.Time.IsZero() {
			c := s.Cursor.Time.UTC()
			lag := now.Sub(c).Seconds()
			r.Cursor, r.LagSeconds = &c, &lag
		}
		if !s.LastSuccess.IsZero() {
			t := s.LastSuccess.UTC()
			r.LastSuccess = &t
		}
		if s.LastRun != nil {
			t := s.LastRun.StartedAt.UTC()
			r.LastRun = &t
			r.State = string(s.LastRun.Status)
			r.Reason = s.LastRun.Reason
			if s.LastRun.Status == sfsync.RunFailed {
				r.Reason = s.LastRun.Error
			}
			r.APICalls = s.LastRun.APICalls
			r.BulkJobs = s.LastRun.BulkJobs
		}
		rows = append(rows, r)
	}
	if asJSON {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(g.stdout, "no objects replicated yet; run: sfsync run")
		return nil
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "OBJECT\tROWS\tCURSOR\tLAG\tLAST RUN\tSTATE\tAPI CALLS\tBULK JOBS\tDETAIL")
	for _, r := range rows {
		cursor, lag, last := "-", "-", "-"
		if r.Cursor != nil {
			cursor = fmtTime(*r.Cursor)
			lag = time.Duration(*r.LagSeconds * float64(time.Second)).Round(time.Second).String()
		}
		if r.LastRun != nil {
			last = fmtTime(*r.LastRun)
		}
		calls, jobs := "-", "-"
		if r.LastRun != nil {
			calls, jobs = strconv.FormatInt(r.APICalls, 10), strconv.FormatInt(r.BulkJobs, 10)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Object, r.Rows, cursor, lag, last, r.State, calls, jobs, r.Reason)
	}
	return tw.Flush()
}

// busyAware gives "another run holds the warehouse" its own exit code.
func busyAware(err error) error {
	if errors.Is(err, sfsync.ErrBusy) {
		return &codedError{code: exitBusy, err: err}
	}
	return err
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
