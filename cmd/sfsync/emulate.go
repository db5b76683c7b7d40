package main

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/sfsync/sfsync/sfemu"
	"github.com/spf13/cobra"
)

func newEmulateCmd(g *globals) *cobra.Command {
	var addr, records, schema, jwtCert string
	var seed, apiLimit int64
	cmd := &cobra.Command{
		Use:   "emulate",
		Short: "Serve the built-in Salesforce API emulator over HTTP",
		Long: `Serve the built-in Salesforce API emulator: OAuth token endpoint, REST
describe, query/queryAll with paging, limits, updated/deleted, and an admin
endpoint under /_emulator/ for mutations, faults and the truth snapshot.

Its default connected app and user (no secrets of yours):
  client_id=sfsync-emulator client_secret=emulator-secret
  username=admin@emulator.example password=emulator-password`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			counts, err := sfemu.ParseRecordsFlag(records)
			if err != nil {
				return fmt.Errorf("--records: %w", err)
			}
			opts := sfemu.Options{Seed: seed, Records: counts, DailyAPILimit: apiLimit}
			if schema != "" {
				defs, err := sfemu.LoadSchemaFile(schema)
				if err != nil {
					return fmt.Errorf("--schema: %w", err)
				}
				opts.Custom = defs
			}
			if jwtCert != "" {
				key, err := loadRSAPublicKey(jwtCert)
				if err != nil {
					return fmt.Errorf("--jwt-cert: %w", err)
				}
				opts.JWTPublicKey = key
			}
			start := time.Now()
			emu, err := sfemu.New(opts)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", addr, err)
			}
			base := "http://" + ln.Addr().String()
			fmt.Fprintf(g.stdout, "Salesforce API emulator on %s (org generated in %s)\n\n", base, time.Since(start).Round(time.Millisecond))
			fmt.Fprintf(g.stdout, "  curl -s %s/services/oauth2/token -d grant_type=password -d client_id=sfsync-emulator \\\n", base)
			fmt.Fprintf(g.stdout, "       -d client_secret=emulator-secret -d username=admin@emulator.example -d password=emulator-password\n")
			fmt.Fprintf(g.stdout, "  curl -s -H \"Authorization: Bearer $TOKEN\" '%s/services/data/v62.0/query?q=SELECT+Id,Name+FROM+Account+LIMIT+5'\n\n", base)
			return serveUntilDone(cmd.Context(), ln, emu)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "listen address")
	cmd.Flags().StringVar(&records, "records", "Account=1000,Contact=2000,Opportunity=1000,Lead=500,User=20", "initial records per object")
	cmd.Flags().Int64Var(&seed, "seed", 1, "data generation seed")
	cmd.Flags().StringVar(&schema, "schema", "", "YAML or JSON file of custom objects and fields")
	cmd.Flags().StringVar(&jwtCert, "jwt-cert", "", "PEM certificate or public key that verifies JWT bearer assertions")
	cmd.Flags().Int64Var(&apiLimit, "api-limit", 0, "daily API request allowance (0: 100000)")
	return cmd
}

// serveUntilDone serves h on ln until ctx is cancelled, then shuts down.
func serveUntilDone(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
		if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

// loadRSAPublicKey reads an RSA public key from a PEM certificate or a PEM
// public key.
func loadRSAPublicKey(path string) (*rsa.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	switch block.Type {
	case "CERTIFICATE":
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if k, ok := cert.PublicKey.(*rsa.PublicKey); ok {
			return k, nil
		}
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if k, ok := k.(*rsa.PublicKey); ok {
			return k, nil
		}
	case "RSA PUBLIC KEY":
		return x509.ParsePKCS1PublicKey(block.Bytes)
	}
	return nil, fmt.Errorf("%s: no RSA public key (PEM block %q)", path, block.Type)
}
