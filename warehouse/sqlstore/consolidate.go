package sqlstore

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/sqlgen"
)

// ConsolidationArgs binds a consolidation's values for the steps of
// sqlgen's consolidation plan, stamped now.
func ConsolidationArgs(t sfsync.Table, c sfsync.Consolidation, now time.Time) map[sqlgen.Arg]any {
	extracted := c.Batch.ExtractedAt
	if extracted.IsZero() {
		extracted = now
	}
	return map[sqlgen.Arg]any{
		sqlgen.ArgBatchID:     c.Batch.ID,
		sqlgen.ArgObject:      t.Object,
		sqlgen.ArgNow:         now,
		sqlgen.ArgExtractedAt: extracted.UTC(),
		sqlgen.ArgCursorField: t.CursorField,
		sqlgen.ArgCursorTime:  NullTime(c.Cursor.Time),
		sqlgen.ArgDeleteMode:  string(c.Mode),
		sqlgen.ArgFullRefresh: c.FullRefresh,
	}
}

// StepTx is the transaction a consolidation plan runs in, whatever the
// engine's driver.
type StepTx interface {
	// Exec runs a statement and reports the rows it affected.
	Exec(ctx context.Context, sql string, args []any) (int64, error)
	// Counts runs a statement returning one row of two counts.
	Counts(ctx context.Context, sql string, args []any) (upserted, deleted int64, err error)
}

// RunSteps runs a consolidation plan's steps in order in tx, adding what
// they report to res and binding the counts so far for the steps after.
// before, when set, is called with each step's name first (tests fault
// there); an error it returns fails the step. Each step's duration is
// logged at debug level.
func RunSteps(ctx context.Context, tx StepTx, object string, steps []sqlgen.Step, vals map[sqlgen.Arg]any,
	res *sfsync.ConsolidateResult, before func(step string) error, log *slog.Logger) error {
	for _, s := range steps {
		start := time.Now()
		if before != nil {
			if err := before(s.Name); err != nil {
				return fmt.Errorf("%s: %w", s.Name, err)
			}
		}
		args, err := s.Bind(vals)
		if err != nil {
			return fmt.Errorf("%s: %w", s.Name, err)
		}
		switch s.Result {
		case sqlgen.ResultCounts:
			if res.Upserted, res.Deleted, err = tx.Counts(ctx, s.SQL, args); err != nil {
				return fmt.Errorf("%s: %w", s.Name, err)
			}
		default:
			n, err := tx.Exec(ctx, s.SQL, args)
			if err != nil {
				return fmt.Errorf("%s: %w", s.Name, err)
			}
			if s.Result == sqlgen.ResultDeleted {
				res.Deleted += n
			}
		}
		vals[sqlgen.ArgUpserted] = res.Upserted
		vals[sqlgen.ArgDeleted] = res.Deleted
		log.Debug("consolidate step", "object", object, "step", s.Name, "took", time.Since(start))
	}
	return nil
}
