package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/config"
	"github.com/sfsync/sfsync/orchestrator"
	"github.com/sfsync/sfsync/replicate"
	"github.com/sfsync/sfsync/salesforce"
	"github.com/sfsync/sfsync/warehouse/duckdb"
	"github.com/sfsync/sfsync/warehouse/postgres"
	"github.com/sfsync/sfsync/web"
	"github.com/spf13/cobra"
)

func newServeCmd(g *globals) *cobra.Command {
	var listen string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run as a service: replicate objects on their schedules, with a status page, JSON API and metrics",
		Long: `Run as a service: every configured object is replicated on its schedule
(serve.schedule, default every 15 minutes; serve.schedules per object), with
retries and backoff, at most sync.parallelism objects at once, and no new work
while the org has used more than serve.budget_share of its daily API
allowance. Each object's state and next run time live in the warehouse's
control tables, so a restart, even after a crash, resumes where the last
process stopped.

A DuckDB file is opened only while runs are active; between runs other
programs may open it to query the replica.

The status page, the JSON API (/api/objects, /api/runs, POST
/api/objects/NAME/run and /api/objects/NAME/full-refresh), /metrics and
/healthz listen on serve.listen (127.0.0.1:8484). Any address but a loopback
one requires serve.token, sent as "Authorization: Bearer TOKEN".

SIGTERM or SIGINT stops it: running objects stop at a safe point and resume on
the next start.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd.Context(), g, listen)
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "", "listen address, overriding serve.listen (host:port)")
	return cmd
}

// runServe runs the service until ctx ends.
func runServe(ctx context.Context, g *globals, listen string) error {
	cfg, err := loadConfig(g)
	if err != nil {
		return err
	}
	log := g.logger()
	addr := cfg.Serve.Listen
	if listen != "" {
		addr = listen
	}
	if err := checkListen(addr, cfg.Serve.Token); err != nil {
		return err
	}
	owner := orchestrator.DefaultOwner()
	var open orchestrator.Opener
	switch cfg.Warehouse.Type {
	case config.WarehouseDuckDB:
		open = duckdb.Opener(duckdbOptions(cfg, log), owner)
	case config.WarehousePostgres:
		open = postgres.Opener(postgresOptions(cfg, log), owner)
	default:
		return fmt.Errorf("warehouse.type %s: sfsync serve runs on duckdb and postgres; Redshift lacks the advisory locks its sessions rely on, so schedule `sfsync run` there instead", cfg.Warehouse.Type)
	}
	defSchedule, err := orchestrator.ParseSchedule(cfg.Serve.Schedule)
	if err != nil {
		return fmt.Errorf("serve.schedule: %w", err)
	}
	src, err := newSource(cfg, log)
	if err != nil {
		return err
	}
	if err := src.Login(ctx); err != nil {
		return fmt.Errorf("salesforce: %w", err)
	}
	specs, err := objectSpecs(ctx, cfg, src, nil)
	if err != nil {
		return err
	}
	objects, err := scheduledObjects(cfg, specs, defSchedule)
	if err != nil {
		return err
	}

	runner, err := orchestrator.New(orchestrator.Options{
		Source:  src,
		Open:    open,
		Owner:   owner,
		Objects: objects,
		Replicate: replicate.Options{
			Lookback:         cfg.Sync.Lookback,
			BatchRows:        cfg.Sync.BatchRows,
			PageSize:         cfg.Sync.PageSize,
			StagingRetention: cfg.Sync.StagingRetention,
		},
		Parallelism: cfg.Sync.Parallelism,
		Retry: orchestrator.RetryPolicy{
			MaxAttempts: cfg.Serve.Retry.MaxAttempts,
			Initial:     cfg.Serve.Retry.InitialDelay,
			Max:         cfg.Serve.Retry.MaxDelay,
		},
		BudgetShare:  cfg.Serve.BudgetShare,
		Limits:       orgUsage(src),
		RunRetention: cfg.Serve.RunRetention,
		LeaseTTL:     cfg.Serve.LeaseTTL,
		Logger:       log,
	})
	if err != nil {
		return err
	}
	handler, err := web.New(web.Options{Service: runner, Token: cfg.Serve.Token, Logger: log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(g.stdout, "sfsync serve: status page on %s (API under /api, metrics at /metrics)\n", url)
	log.Info("serving", "url", url, "objects", len(objects), "warehouse", cfg.Warehouse.Type,
		"parallelism", cfg.Sync.Parallelism, "budget_share", cfg.Serve.BudgetShare)

	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	httpErr := make(chan error, 1)
	go func() { httpErr <- srv.Serve(ln) }()
	// The runner stops when told, after the signal is logged.
	runCtx, stopRunner := context.WithCancel(context.WithoutCancel(ctx))
	runErr := make(chan error, 1)
	go func() { runErr <- runner.Run(runCtx) }()

	var failure error
	select {
	case <-ctx.Done():
		log.Info("stopping on signal")
	case err := <-httpErr:
		failure = fmt.Errorf("serve %s: %w", url, err)
	}
	stopRunner()
	if err := <-runErr; err != nil && failure == nil && !errors.Is(err, context.Canceled) {
		failure = err
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	return failure
}

// checkListen refuses a non-loopback address without a token (the
// configuration checks serve.listen; --listen is checked here).
func checkListen(addr string, token sfsync.Secret) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: want host:port, such as 127.0.0.1:8484", addr)
	}
	ip := net.ParseIP(host)
	loopback := strings.EqualFold(host, "localhost") || ip != nil && ip.IsLoopback()
	if !loopback && token.IsZero() {
		return fmt.Errorf("listen address %s is not a loopback address: set serve.token (such as token: ${SFSYNC_SERVE_TOKEN}) so that only holders of the token can read the status and trigger runs", addr)
	}
	return nil
}

// scheduledObjects pairs each object with its schedule.
func scheduledObjects(cfg *config.Config, specs []replicate.ObjectSpec, def orchestrator.Schedule) ([]orchestrator.Object, error) {
	configured := map[string]string{}
	for name := range cfg.Serve.Schedules {
		configured[strings.ToLower(name)] = name
	}
	var out []orchestrator.Object
	for _, spec := range specs {
		o := orchestrator.Object{Spec: spec, Schedule: def}
		if name, ok := configured[strings.ToLower(spec.Name)]; ok {
			s, err := orchestrator.ParseSchedule(cfg.Serve.Schedules[name])
			if err != nil {
				return nil, fmt.Errorf("serve.schedules.%s: %w", name, err)
			}
			o.Schedule = s
			delete(configured, strings.ToLower(spec.Name))
		}
		out = append(out, o)
	}
	if len(configured) > 0 {
		var names []string
		for _, n := range configured {
			names = append(names, n)
		}
		return nil, fmt.Errorf("serve.schedules: %s not among the replicated objects (check objects: and exclude:)", strings.Join(names, ", "))
	}
	return out, nil
}

// orgUsage reads the org's API usage from /limits.
func orgUsage(src *salesforce.Client) func(context.Context) (sfsync.APIUsage, error) {
	return func(ctx context.Context) (sfsync.APIUsage, error) {
		limits, err := src.Limits(ctx)
		if err != nil {
			return sfsync.APIUsage{}, err
		}
		d, ok := limits["DailyApiRequests"]
		if !ok || d.Max <= 0 {
			return sfsync.APIUsage{}, errors.New("the org's limits do not report DailyApiRequests")
		}
		return sfsync.APIUsage{Used: d.Max - d.Remaining, Max: d.Max, Calls: src.Usage().Calls}, nil
	}
}
