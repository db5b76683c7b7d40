// Command sfsync replicates Salesforce objects into a data warehouse.
//
// It is the only package that imports every adapter: it loads the
// configuration, builds the Salesforce client and the warehouse from it, and
// hands them to the replicator.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/spf13/cobra"
)

// Exit codes.
const (
	exitOK         = 0
	exitError      = 1 // configuration, connection or warehouse error
	exitIncomplete = 3 // some object ended partial or failed
	exitBusy       = 4 // another run holds the warehouse
)

// exitError carries an exit code through cobra.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

// globals are the flags every command shares.
type globals struct {
	configPath string
	logFormat  string
	logLevel   string
	cpuProfile string
	stdout     io.Writer
	stderr     io.Writer
}

func (g *globals) logger() *slog.Logger {
	level := slog.LevelInfo
	_ = level.UnmarshalText([]byte(g.logLevel))
	opts := &slog.HandlerOptions{Level: level}
	if g.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(g.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(g.stderr, opts))
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	g := &globals{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "sfsync",
		Short: "Replicate Salesforce objects into a data warehouse, with change data capture",
		Long: `sfsync replicates Salesforce objects into a warehouse (DuckDB by default) so that
after every successful run the final tables equal the source: no duplicate Ids,
no lost updates, deletes applied. Start with "sfsync quickstart" (no account
needed) or "sfsync init" to write a configuration file.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVarP(&g.configPath, "config", "c", "sfsync.yaml", "configuration file")
	root.PersistentFlags().StringVar(&g.logFormat, "log-format", "text", "log format: text or json")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	root.PersistentFlags().StringVar(&g.cpuProfile, "cpu-profile", "", "write a CPU profile of the command to this file (go tool pprof reads it)")
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		if g.cpuProfile == "" {
			return nil
		}
		f, err := os.Create(g.cpuProfile)
		if err != nil {
			return fmt.Errorf("cpu profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("cpu profile %s: %w", g.cpuProfile, err)
		}
		// Stopped when the command returns, with or without an error
		// (cobra skips post-run hooks after an error).
		if run := cmd.RunE; run != nil {
			cmd.RunE = func(cmd *cobra.Command, args []string) error {
				defer stopProfile(f)
				return run(cmd, args)
			}
		}
		return nil
	}
	root.AddCommand(
		newInitCmd(g),
		newCheckCmd(g),
		newRunCmd(g),
		newStatusCmd(g),
		newEmulateCmd(g),
		newQuickstartCmd(g),
		newServeCmd(g),
		newConsolidateCmd(g),
		newSQLCmd(g),
	)
	return root
}

// stopProfile ends the CPU profile --cpu-profile started into f.
func stopProfile(f *os.File) {
	pprof.StopCPUProfile()
	f.Close()
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd(os.Stdout, os.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		os.Exit(exitOK)
	}
	fmt.Fprintln(os.Stderr, "sfsync:", err)
	var ce *codedError
	if errors.As(err, &ce) {
		os.Exit(ce.code)
	}
	os.Exit(exitError)
}
