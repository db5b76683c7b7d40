package sqlgen

import (
	"fmt"
	"strings"
)

// Service control tables, in the control schema, used by `sfsync serve`.
const (
	TableLeases    = "leases"    // one row per object being run: who runs it, until when
	TableSchedules = "schedules" // one row per object: its state, next run time, retries
)

// Arguments of the service statements. They extend the Args of
// statement.go; ServiceArgName names them.
const (
	ArgOwner         Arg = iota + 101 // the lease owner
	ArgExpiresAt                      // when the lease ends unless renewed
	ArgState                          // the object's state
	ArgScheduleFull                   // the next run is a full refresh
	ArgAttempt                        // failed runs in a row
	ArgNextRunAt                      // when the schedule starts the next run
	ArgNextAttemptAt                  // when a retrying object tries again
	ArgLastRunID                      // the latest finished run
	ArgOutcome                        // the latest finished run's status
	ArgReason                         // why the latest run was partial
	ArgError                          // the latest failure
	serviceArgEnd
)

// ServiceArgName names an Arg as golden files show it, the service
// statements' Args included.
func ServiceArgName(a Arg) string {
	names := [...]string{"owner", "expires_at", "state", "schedule.full", "attempt", "next_run_at",
		"next_attempt_at", "last_run_id", "outcome", "reason", "error"}
	if a >= ArgOwner && a < serviceArgEnd {
		return names[a-ArgOwner]
	}
	return a.String()
}

// ServiceTables renders the DDL of the service's control tables.
//
// leases holds one row per object some server is running: the owner and
// when the lease ends unless renewed. schedules holds one row per object:
// its state-machine state, whether a full refresh is pending, failed
// attempts in a row, the next run and retry times, and the latest run's
// id, outcome, reason and error.
func (d Dialect) ServiceTables(schema string) ([]string, error) {
	str, ts, i64, b := d.Types.String, d.Types.DateTime, d.Types.Int, d.Types.Bool
	tables := []struct {
		name string
		cols []Column
	}{
		{TableLeases, []Column{
			{Name: "object", Type: str + " PRIMARY KEY"},
			{Name: "owner", Type: str, NotNull: true},
			{Name: "acquired_at", Type: ts, NotNull: true},
			{Name: "expires_at", Type: ts, NotNull: true},
		}},
		{TableSchedules, scheduleColumns(str, ts, i64, b)},
	}
	out := make([]string, 0, len(tables))
	for _, t := range tables {
		s, err := d.CreateTable(schema, t.name, t.cols)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func scheduleColumns(str, ts, i64, b string) []Column {
	return []Column{
		{Name: "object", Type: str + " PRIMARY KEY"},
		{Name: "state", Type: str, NotNull: true},
		{Name: "full_refresh", Type: b, NotNull: true},
		{Name: "attempt", Type: i64, NotNull: true},
		{Name: "next_run_at", Type: ts},
		{Name: "next_attempt_at", Type: ts},
		{Name: "last_run_id", Type: str},
		{Name: "outcome", Type: str},
		{Name: "reason", Type: str},
		{Name: "error", Type: str},
		{Name: "updated_at", Type: ts, NotNull: true},
	}
}

// scheduleArgs binds the schedules columns, in column order.
func scheduleArgs() []Arg {
	return []Arg{ArgObject, ArgState, ArgScheduleFull, ArgAttempt, ArgNextRunAt, ArgNextAttemptAt,
		ArgLastRunID, ArgOutcome, ArgReason, ArgError, ArgNow}
}

// ScheduleColumns lists the columns SelectSchedules returns, in order.
func ScheduleColumns() []string {
	cols := scheduleColumns("", "", "", "")
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Name
	}
	return out
}

// AcquireLease takes an object's lease for ArgOwner until ArgExpiresAt when
// nobody holds it, its holder's lease ended before ArgNow, or ArgOwner
// holds it already (renewing it). It affects one row when ArgOwner holds
// the lease afterwards, none otherwise.
func (d Dialect) AcquireLease(l Layout) Statement {
	p := &params{d: d}
	q := func(c string) string { return "l." + d.Quote(c) }
	x := func(c string) string { return "EXCLUDED." + d.Quote(c) }
	sql := fmt.Sprintf("INSERT INTO %s AS l (%s) VALUES (%s, %s, %s, %s)\n"+
		"ON CONFLICT (%s) DO UPDATE SET %s = %s, %s = CASE WHEN %s = %s THEN %s ELSE %s END, %s = %s\n"+
		"WHERE %s = %s OR %s <= %s",
		d.control(l, TableLeases), d.quoteList("object", "owner", "acquired_at", "expires_at"),
		p.of(ArgObject), p.of(ArgOwner), p.of(ArgNow), p.of(ArgExpiresAt),
		d.Quote("object"),
		d.Quote("owner"), x("owner"),
		d.Quote("acquired_at"), q("owner"), x("owner"), q("acquired_at"), x("acquired_at"),
		d.Quote("expires_at"), x("expires_at"),
		q("owner"), x("owner"), q("expires_at"), x("acquired_at"))
	return Statement{SQL: sql, Args: p.args}
}

// RenewLease extends ArgOwner's lease to ArgExpiresAt; it affects no row
// when ArgOwner no longer holds the lease.
func (d Dialect) RenewLease(l Layout) Statement {
	p := &params{d: d}
	sql := fmt.Sprintf("UPDATE %s SET %s = %s WHERE %s = %s AND %s = %s",
		d.control(l, TableLeases), d.Quote("expires_at"), p.of(ArgExpiresAt),
		d.Quote("object"), p.of(ArgObject), d.Quote("owner"), p.of(ArgOwner))
	return Statement{SQL: sql, Args: p.args}
}

// ReleaseLease deletes ArgOwner's lease on the object.
func (d Dialect) ReleaseLease(l Layout) Statement {
	p := &params{d: d}
	sql := fmt.Sprintf("DELETE FROM %s WHERE %s = %s AND %s = %s",
		d.control(l, TableLeases), d.Quote("object"), p.of(ArgObject), d.Quote("owner"), p.of(ArgOwner))
	return Statement{SQL: sql, Args: p.args}
}

// BreakLeases deletes every lease not held by ArgOwner. Only an engine that
// admits one process at a time (DuckDB) may run it, on opening: any other
// holder has then stopped.
func (d Dialect) BreakLeases(l Layout) Statement {
	p := &params{d: d}
	sql := fmt.Sprintf("DELETE FROM %s WHERE %s <> %s",
		d.control(l, TableLeases), d.Quote("owner"), p.of(ArgOwner))
	return Statement{SQL: sql, Args: p.args}
}

// HoldLease fences a consolidation: inside its transaction it returns a
// row only while ArgOwner holds a lease on the object (matched without
// regard to case) that ends after ArgNow, and locks that row FOR SHARE
// until the transaction ends, so that no other server can take the lease
// over (AcquireLease's upsert waits for the row) before the consolidation
// commits or rolls back. For engines with row locks (PostgreSQL).
func (d Dialect) HoldLease(l Layout) Statement {
	p := &params{d: d}
	sql := fmt.Sprintf("SELECT 1 FROM %s WHERE lower(%s) = lower(%s) AND %s = %s AND %s > %s FOR SHARE",
		d.control(l, TableLeases), d.Quote("object"), p.of(ArgObject), d.Quote("owner"), p.of(ArgOwner),
		d.Quote("expires_at"), p.of(ArgNow))
	return Statement{SQL: sql, Args: p.args}
}

// SelectLeases reads every lease: object, owner, acquired_at, expires_at.
func (d Dialect) SelectLeases(l Layout) Statement {
	return Statement{SQL: fmt.Sprintf("SELECT %s FROM %s ORDER BY %s",
		d.quoteList("object", "owner", "acquired_at", "expires_at"), d.control(l, TableLeases), d.Quote("object"))}
}

// SaveSchedule inserts or replaces an object's schedules row.
func (d Dialect) SaveSchedule(l Layout) Statement {
	p := &params{d: d}
	names := ScheduleColumns()
	vals := make([]string, len(names))
	for i, a := range scheduleArgs() {
		vals[i] = p.of(a)
	}
	var set []string
	for _, n := range names[1:] {
		set = append(set, d.Quote(n)+" = EXCLUDED."+d.Quote(n))
	}
	sql := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)\nON CONFLICT (%s) DO UPDATE SET %s",
		d.control(l, TableSchedules), d.quoteList(names...), strings.Join(vals, ", "),
		d.Quote("object"), strings.Join(set, ", "))
	return Statement{SQL: sql, Args: p.args}
}

// SelectSchedules reads every schedules row, with the columns of
// ScheduleColumns, by object.
func (d Dialect) SelectSchedules(l Layout) Statement {
	return Statement{SQL: fmt.Sprintf("SELECT %s FROM %s ORDER BY %s",
		d.quoteList(ScheduleColumns()...), d.control(l, TableSchedules), d.Quote("object"))}
}

// SelectRuns reads the latest limit runs (limit > 0) of one object, or of
// every object when object is false, newest first, with the columns of
// RunColumns.
func (d Dialect) SelectRuns(l Layout, object bool, limit int) Statement {
	p := &params{d: d}
	where := ""
	if object {
		where = fmt.Sprintf(" WHERE %s = %s", d.Quote("object"), p.of(ArgObject))
	}
	sql := fmt.Sprintf("SELECT %s FROM %s%s ORDER BY %s DESC NULLS LAST, %s DESC LIMIT %d",
		d.quoteList(RunColumns()...), d.control(l, TableRuns), where,
		d.Quote("started_at"), d.Quote("updated_at"), max(limit, 1))
	return Statement{SQL: sql, Args: p.args}
}

// PruneRuns renders the deletion of old history: runs that finished before
// ArgCutoff, and the records of batches consolidated before it (their
// staging rows are gone by then unless the staging retention is longer).
// Run both in one transaction.
func (d Dialect) PruneRuns(l Layout) []Statement {
	p := &params{d: d}
	runs := fmt.Sprintf("DELETE FROM %s WHERE %s IS NOT NULL AND %s < %s",
		d.control(l, TableRuns), d.Quote("finished_at"), d.Quote("finished_at"), p.of(ArgCutoff))
	q := &params{d: d}
	batches := fmt.Sprintf("DELETE FROM %s WHERE %s IS NOT NULL AND %s < %s",
		d.control(l, TableBatches), d.Quote("consolidated_at"), d.Quote("consolidated_at"), q.of(ArgCutoff))
	return []Statement{{SQL: runs, Args: p.args}, {SQL: batches, Args: q.args}}
}
