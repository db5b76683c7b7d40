package sqlgen

import (
	"fmt"
	"strings"
)

// Arg names the value bound to a statement's parameter. Statements list
// their Args in parameter order ($1, $2, ...); engines bind values by Arg.
type Arg int

// Statement arguments. Times are time.Time in UTC; a zero time is bound as
// NULL. Counts are int64.
const (
	ArgBatchID          Arg = iota + 1 // Batch.ID
	ArgRunID                           // Batch.RunID or Run.ID
	ArgObject                          // object API name
	ArgNow                             // the engine's clock: synced_at, updated_at, consolidated_at
	ArgExtractedAt                     // Batch.ExtractedAt
	ArgStagedRows                      // rows staged in the batch
	ArgCursorField                     // Cursor.Field
	ArgCursorTime                      // Cursor.Time
	ArgUpserted                        // ConsolidateResult.Upserted
	ArgDeleted                         // ConsolidateResult.Deleted
	ArgDeleteMode                      // Consolidation.Mode
	ArgFullRefresh                     // Consolidation.FullRefresh
	ArgCutoff                          // staged batches extracted before it are cleaned
	ArgRunFull                         // Run.Full
	ArgRunStartedAt                    // Run.StartedAt
	ArgRunFinishedAt                   // Run.FinishedAt
	ArgRunStatus                       // Run.Status
	ArgRunReason                       // Run.Reason
	ArgRunError                        // Run.Error
	ArgRunWindowFrom                   // Run.WindowFrom
	ArgRunWindowTo                     // Run.WindowTo
	ArgRunCursorBefore                 // Run.CursorBefore
	ArgRunCursorAfter                  // Run.CursorAfter
	ArgRunRowsExtracted                // Run.RowsExtracted
	ArgRunRowsUpserted                 // Run.RowsUpserted
	ArgRunRowsDeleted                  // Run.RowsDeleted
	ArgRunAPICalls                     // Run.APICalls
	ArgRunBulkJobs                     // Run.BulkJobs
	argEnd
)

// String names the argument, as golden files show it.
func (a Arg) String() string {
	names := [...]string{"", "batch_id", "run_id", "object", "now", "extracted_at", "staged_rows",
		"cursor_field", "cursor_time", "upserted", "deleted", "delete_mode", "full_refresh", "cutoff",
		"run.full", "run.started_at", "run.finished_at", "run.status", "run.reason", "run.error",
		"run.window_from", "run.window_to", "run.cursor_before", "run.cursor_after",
		"run.rows_extracted", "run.rows_upserted", "run.rows_deleted", "run.api_calls", "run.bulk_jobs"}
	if a <= 0 || a >= argEnd {
		return fmt.Sprintf("arg(%d)", int(a))
	}
	return names[a]
}

// Statement is SQL text with the meaning of each of its parameters.
type Statement struct {
	SQL  string
	Args []Arg // Args[i] binds parameter i+1
}

// Bind returns the statement's parameter values, taken from values.
func (s Statement) Bind(values map[Arg]any) ([]any, error) {
	out := make([]any, len(s.Args))
	for i, a := range s.Args {
		v, ok := values[a]
		if !ok {
			return nil, fmt.Errorf("no value for parameter %d (%s)", i+1, a)
		}
		out[i] = v
	}
	return out, nil
}

// String renders the statement with its parameter list, as golden files
// show it.
func (s Statement) String() string {
	if len(s.Args) == 0 {
		return s.SQL
	}
	names := make([]string, len(s.Args))
	for i, a := range s.Args {
		names[i] = fmt.Sprintf("$%d=%s", i+1, a)
	}
	return s.SQL + "\n-- args: " + strings.Join(names, ", ")
}

// params hands out numbered parameters for one statement, reusing the
// number of an Arg already used.
type params struct {
	d    Dialect
	args []Arg
}

func (p *params) of(a Arg) string {
	for i, b := range p.args {
		if a == b {
			return p.d.Param(i + 1)
		}
	}
	p.args = append(p.args, a)
	return p.d.Param(len(p.args))
}

// literal renders s as a string literal.
func literal(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
