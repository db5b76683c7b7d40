package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/config"
	"github.com/sfsync/sfsync/replicate"
	"github.com/sfsync/sfsync/salesforce"
	"github.com/sfsync/sfsync/warehouse/duckdb"
	"github.com/sfsync/sfsync/warehouse/postgres"
	"github.com/sfsync/sfsync/warehouse/redshift"
)

// loadConfig reads the configuration file, with every problem in it.
func loadConfig(g *globals) (*config.Config, error) {
	cfg, err := config.Load(g.configPath)
	if err != nil {
		return nil, fmt.Errorf("configuration %s:\n%w", g.configPath, err)
	}
	return cfg, nil
}

// newSource builds the Salesforce client the configuration describes.
func newSource(cfg *config.Config, log *slog.Logger) (*salesforce.Client, error) {
	sf := cfg.Salesforce
	return salesforce.New(salesforce.Options{
		Credentials: salesforce.Credentials{
			Method:         salesforce.AuthMethod(sf.Auth),
			LoginURL:       sf.LoginURL,
			ClientID:       sf.ClientID,
			ClientSecret:   sf.ClientSecret,
			Username:       sf.Username,
			Password:       sf.Password,
			PrivateKeyFile: sf.PrivateKeyFile,
			PrivateKey:     sf.PrivateKey,
			RefreshToken:   sf.RefreshToken,
		},
		APIVersion:    sf.APIVersion,
		PageSize:      cfg.Sync.PageSize,
		BulkThreshold: int64(cfg.Sync.BulkThreshold),
		Bulk:          salesforce.BulkOptions{ResultStreams: cfg.Sync.BulkResultStreams},
		Logger:        log,
	})
}

// openWarehouseWait opens the configured warehouse; when another process
// holds it and wait is set, it retries until ctx is done.
func openWarehouseWait(ctx context.Context, cfg *config.Config, log *slog.Logger, wait bool) (sfsync.Warehouse, error) {
	announced := false
	for {
		wh, err := openWarehouse(ctx, cfg, log)
		if err == nil || !wait || !errors.Is(err, sfsync.ErrBusy) {
			return wh, err
		}
		if !announced {
			log.Info("another run is using the warehouse; waiting for it to finish")
			announced = true
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the warehouse: %w", ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// openWarehouse opens the configured warehouse.
func openWarehouse(ctx context.Context, cfg *config.Config, log *slog.Logger) (sfsync.Warehouse, error) {
	switch cfg.Warehouse.Type {
	case "", "duckdb":
		return duckdb.Open(ctx, duckdbOptions(cfg, log))
	case "postgres":
		return postgres.Open(ctx, postgresOptions(cfg, log))
	case "redshift":
		o := postgresOptions(cfg, log)
		return redshift.Open(ctx, redshift.Options{
			DSN: o.DSN, FinalSchema: o.FinalSchema, StagingSchema: o.StagingSchema, ControlSchema: o.ControlSchema,
			Logger: o.Logger, MaxConns: o.MaxConns, Text: o.Text,
		})
	default:
		return nil, fmt.Errorf("warehouse.type %q is not supported by this build", cfg.Warehouse.Type)
	}
}

// objectSpecs resolves the configured objects against the org's objects.
func objectSpecs(ctx context.Context, cfg *config.Config, src sfsync.Source, only []string) ([]replicate.ObjectSpec, error) {
	available, err := src.Objects(ctx)
	if err != nil {
		return nil, fmt.Errorf("list objects: %w", err)
	}
	resolved, err := cfg.ResolveObjects(available)
	if err != nil {
		return nil, err
	}
	specs := make([]replicate.ObjectSpec, 0, len(resolved))
	for _, oc := range resolved {
		specs = append(specs, replicate.ObjectSpec{
			Name:            oc.Name,
			Include:         oc.Fields.Include,
			Exclude:         oc.Fields.Exclude,
			Filter:          oc.Filter,
			DeleteMode:      sfsync.DeleteMode(oc.DeleteMode),
			FullRefreshOnly: oc.FullRefreshOnly,
		})
	}
	if len(only) == 0 {
		return specs, nil
	}
	var picked []replicate.ObjectSpec
	var unknown []string
	for _, name := range only {
		found := false
		for _, s := range specs {
			if strings.EqualFold(s.Name, name) {
				picked = append(picked, s)
				found = true
				break
			}
		}
		if !found {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("not configured: %s (add them to objects: in %s)", strings.Join(unknown, ", "), "the configuration")
	}
	return picked, nil
}

// exitFor maps a run's outcome to the process exit code: 0 only when every
// object completed.
func exitFor(runs []sfsync.Run) error {
	var bad []string
	for _, r := range runs {
		if r.Status != sfsync.RunComplete {
			bad = append(bad, fmt.Sprintf("%s %s", r.Object, r.Status))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return &codedError{code: exitIncomplete, err: errors.New("not every object completed: " + strings.Join(bad, ", "))}
}

// duckdbOptions are the DuckDB warehouse's options from the configuration.
func duckdbOptions(cfg *config.Config, log *slog.Logger) duckdb.Options {
	return duckdb.Options{
		Path:          cfg.Warehouse.Path,
		FinalSchema:   cfg.Schemas.Final,
		StagingSchema: cfg.Schemas.Staging,
		ControlSchema: cfg.Schemas.Control,
		Logger:        log,
		MemoryLimit:   cfg.Warehouse.MemoryLimit,
		Threads:       cfg.Warehouse.Threads,
		Parallelism:   objectsAtOnce(cfg),
	}
}

// objectsAtOnce is how many objects a run replicates at once: the
// configured parallelism, or fewer when the configuration names fewer
// objects (and no glob that could match more).
func objectsAtOnce(cfg *config.Config) int {
	n := cfg.Sync.Parallelism
	for _, o := range cfg.Objects {
		if o.IsGlob() {
			return n
		}
	}
	if len(cfg.Objects) > 0 {
		n = min(n, len(cfg.Objects))
	}
	return max(1, n)
}

// postgresOptions are the PostgreSQL warehouse's options from the
// configuration.
func postgresOptions(cfg *config.Config, log *slog.Logger) postgres.Options {
	return postgres.Options{
		DSN:           cfg.Warehouse.DSN,
		FinalSchema:   cfg.Schemas.Final,
		StagingSchema: cfg.Schemas.Staging,
		ControlSchema: cfg.Schemas.Control,
		Logger:        log,
		// Each object replicated at once holds up to two connections
		// (a batch staging, the previous one consolidating).
		MaxConns: max(10, 2*cfg.Sync.Parallelism+4),
		Text:     postgres.TextPolicy(cfg.Warehouse.Text),
	}
}
