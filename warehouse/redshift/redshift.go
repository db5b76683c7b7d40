// Package redshift is the Amazon Redshift warehouse. Redshift speaks
// PostgreSQL's protocol but not all of its SQL, so this package describes
// what differs (a postgres.Flavor) and the PostgreSQL warehouse's code does
// the rest:
//
//   - no INSERT ... ON CONFLICT: consolidation deletes the batch's Ids from
//     the final table and inserts the deduplicated rows, in the same
//     transaction as the cursor (sqlgen.UpsertDeleteInsert);
//   - no COPY FROM STDIN: staging sends multi-row INSERT statements (COPY
//     from S3 would be faster for initial loads; see docs/postgres.md);
//   - text columns are VARCHAR(65535), counted in bytes: longer text is cut
//     at a character boundary or rejected, per the text policy, and every
//     cut value is logged and recorded in the control table
//     altered_values, as are removed NUL characters;
//   - no advisory locks: the run lock is a lease row in the control table
//     run_lock, renewed while held and taken over two minutes after its
//     holder stopped renewing it;
//   - no in-place column type changes: a decimal column is widened by
//     adding a column of the wider type, copying, dropping the old one and
//     renaming;
//   - identifiers are folded to lower case unless the session enables
//     enable_case_sensitive_identifier, which every connection does, so
//     that "AccountId" and Salesforce's other mixed-case names keep their
//     case;
//   - statements go out over the simple query protocol, values quoted by
//     the driver, which Redshift's protocol support handles best.
//
// Pointed at a PostgreSQL server instead, the flavor runs there unchanged
// (but for the case-sensitivity setting, which PostgreSQL does not need):
// that is how the tests exercise every statement PostgreSQL also accepts.
package redshift

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/sqlgen"
	"github.com/sfsync/sfsync/warehouse/postgres"
)

// MaxTextBytes is the widest VARCHAR Redshift has.
const MaxTextBytes = 65535

// Options configure a Redshift warehouse.
type Options struct {
	// DSN is the connection string:
	// postgres://user:password@cluster.region.redshift.amazonaws.com:5439/dev?sslmode=require
	DSN sfsync.Secret
	// Schema names; "" for the defaults salesforce, salesforce_staging
	// and _sfsync.
	FinalSchema, StagingSchema, ControlSchema string
	// Logger receives progress and warnings; nil discards them.
	Logger *slog.Logger
	// MaxConns caps the connection pool; 0 for the default, 10.
	MaxConns int
	// Text is what staging does with text longer than 65535 bytes or
	// holding NUL characters: postgres.TextClean (the default) cuts or
	// cleans it and records it, postgres.TextReject fails the batch.
	Text postgres.TextPolicy
}

// Flavor is Redshift's flavor of the PostgreSQL warehouse.
func Flavor() postgres.Flavor {
	return postgres.Flavor{
		Name:         "redshift",
		Dialect:      sqlgen.Redshift(),
		Staging:      postgres.StageInsert,
		Lock:         postgres.LockLease,
		MaxTextBytes: MaxTextBytes,
		ExecMode:     pgx.QueryExecModeSimpleProtocol,
		Adapt: func(s postgres.Server) ([]string, error) {
			if !s.Redshift {
				return nil, nil
			}
			return []string{"SET enable_case_sensitive_identifier TO true"}, nil
		},
	}
}

// Open connects to the Redshift database opts.DSN names. Call Setup before
// using the warehouse.
func Open(ctx context.Context, opts Options) (*postgres.Warehouse, error) {
	return postgres.OpenFlavor(ctx, postgres.Options{
		DSN:           opts.DSN,
		FinalSchema:   opts.FinalSchema,
		StagingSchema: opts.StagingSchema,
		ControlSchema: opts.ControlSchema,
		Logger:        opts.Logger,
		MaxConns:      opts.MaxConns,
		Text:          opts.Text,
	}, Flavor())
}
