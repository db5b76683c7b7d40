package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/sqlgen"
)

// CheckBatch checks a batch about to be staged for table t and returns
// it completed: the table's object, and now as its extraction time when
// it has none.
func CheckBatch(d sqlgen.Dialect, t sfsync.Table, b sfsync.Batch, now time.Time) (sfsync.Batch, error) {
	if err := d.CheckTable(t); err != nil {
		return b, err
	}
	if b.ID == "" {
		return b, errors.New("the batch has no id")
	}
	if b.Object != "" && b.Object != t.Object {
		return b, fmt.Errorf("the batch belongs to object %s", b.Object)
	}
	if b.ExtractedAt.IsZero() {
		b.ExtractedAt = now
	}
	b.Object = t.Object
	return b, nil
}

// PlanConsolidation checks a consolidation against its table and renders
// its plan for a final table with the columns final: columns that are
// neither a field of t nor one of sfsync's own are retained (never
// written).
func PlanConsolidation(d sqlgen.Dialect, l sqlgen.Layout, t sfsync.Table, c sfsync.Consolidation, final []string) ([]sqlgen.Step, error) {
	if c.Batch.ID == "" {
		return nil, errors.New("the batch has no id")
	}
	if c.Batch.Object != "" && c.Batch.Object != t.Object {
		return nil, fmt.Errorf("the batch belongs to object %s", c.Batch.Object)
	}
	if c.Cursor.Field != "" && !strings.EqualFold(c.Cursor.Field, t.CursorField) {
		return nil, fmt.Errorf("cursor field %s is not the table's cursor field %q", c.Cursor.Field, t.CursorField)
	}
	if len(final) == 0 {
		return nil, fmt.Errorf("no final table %s.%s; call EnsureTable first", l.Final, t.Object)
	}
	spec := sqlgen.ConsolidateSpec{Layout: l, Table: t, Mode: c.Mode, FullRefresh: c.FullRefresh, DropStaged: c.DropStaged}
	for _, col := range final {
		if !isFieldOrMeta(t, col) {
			spec.Retained = append(spec.Retained, col)
		}
	}
	return d.Consolidate(spec)
}

// isFieldOrMeta reports whether a final column is one of t's fields or one
// of sfsync's own columns.
func isFieldOrMeta(t sfsync.Table, name string) bool {
	switch strings.ToLower(name) {
	case sfsync.ColSyncedAt, sfsync.ColDeleted, sfsync.ColDeletedAt:
		return true
	}
	for _, f := range t.Fields {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

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
