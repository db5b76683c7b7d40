package sqlgen

import "fmt"

// Control tables some engines add to ControlTables.
const (
	// TableAlteredValues records text values staging had to alter to
	// store them (engines that cannot store every text exactly).
	TableAlteredValues = "altered_values"
	// TableRunLock holds the run lock's lease (engines without session
	// locks).
	TableRunLock = "run_lock"
)

// AlteredValuesTable renders the DDL of the altered_values table: one row
// per stored value that differs from the source's (a NUL character removed,
// text cut to the column's limit), with the batch, object, record Id,
// column and what was done.
func (d Dialect) AlteredValuesTable(schema string) (string, error) {
	str, ts := d.Types.String, d.Types.DateTime
	return d.CreateTable(schema, TableAlteredValues, []Column{
		{Name: "batch_id", Type: str, NotNull: true},
		{Name: "object", Type: str, NotNull: true},
		{Name: "record_id", Type: str, NotNull: true},
		{Name: "column_name", Type: str, NotNull: true},
		{Name: "change", Type: str, NotNull: true},
		{Name: "recorded_at", Type: ts, NotNull: true},
	})
}

// InsertAlteredValue records one altered value: parameters batch_id,
// object, record_id, column_name, change, recorded_at, in that order.
func (d Dialect) InsertAlteredValue(l Layout) string {
	return fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s, %s, %s, %s, %s, %s)",
		d.control(l, TableAlteredValues),
		d.quoteList("batch_id", "object", "record_id", "column_name", "change", "recorded_at"),
		d.Param(1), d.Param(2), d.Param(3), d.Param(4), d.Param(5), d.Param(6))
}

// SelectAlteredValues reads a batch's altered values: record_id,
// column_name, change, ordered by record and column. Parameter 1 is the
// batch id.
func (d Dialect) SelectAlteredValues(l Layout) string {
	return fmt.Sprintf("SELECT %s FROM %s WHERE %s = %s ORDER BY 1, 2",
		d.quoteList("record_id", "column_name", "change"), d.control(l, TableAlteredValues), d.Quote("batch_id"), d.Param(1))
}

// CleanAlteredValues deletes the altered values of batches the batches
// table no longer holds (CleanStaging removed them).
func (d Dialect) CleanAlteredValues(l Layout) string {
	b := d.Quote("batch_id")
	return fmt.Sprintf("DELETE FROM %s WHERE %s NOT IN (SELECT %s FROM %s)",
		d.control(l, TableAlteredValues), b, b, d.control(l, TableBatches))
}

// RunLockTable renders the DDL of the run_lock table, which holds at most
// one row: the run lock's holder and when the lease was taken and last
// renewed.
func (d Dialect) RunLockTable(schema string) (string, error) {
	str, ts := d.Types.String, d.Types.DateTime
	return d.CreateTable(schema, TableRunLock, []Column{
		{Name: "name", Type: str, PrimaryKey: true},
		{Name: "holder", Type: str, NotNull: true},
		{Name: "acquired_at", Type: ts, NotNull: true},
		{Name: "renewed_at", Type: ts, NotNull: true},
	})
}

// RunLease holds the statements of the run lock's lease. Each takes its
// parameters in the order documented.
type RunLease struct {
	// Expire deletes a lease not renewed since $1.
	Expire string
	// Take inserts the lease for holder $1 at time $2 unless one exists.
	Take string
	// Holder reads the lease: holder, acquired_at, renewed_at.
	Holder string
	// Renew sets renewed_at to $1 for holder $2; no row means the lease
	// was lost.
	Renew string
	// Release deletes holder $1's lease.
	Release string
}

// RunLeaseStatements renders the lease statements for the control schema.
func (d Dialect) RunLeaseStatements(l Layout) RunLease {
	t := d.control(l, TableRunLock)
	name, holder, acquired, renewed := d.Quote("name"), d.Quote("holder"), d.Quote("acquired_at"), d.Quote("renewed_at")
	run := literal("run")
	return RunLease{
		Expire: fmt.Sprintf("DELETE FROM %s WHERE %s = %s AND %s < %s", t, name, run, renewed, d.Param(1)),
		Take: fmt.Sprintf("INSERT INTO %s (%s, %s, %s, %s) SELECT %s, CAST(%s AS %s), CAST(%s AS %s), CAST(%s AS %s) WHERE NOT EXISTS (SELECT 1 FROM %s WHERE %s = %s)",
			t, name, holder, acquired, renewed, run, d.Param(1), d.Types.String, d.Param(2), d.Types.DateTime, d.Param(2), d.Types.DateTime, t, name, run),
		Holder:  fmt.Sprintf("SELECT %s, %s, %s FROM %s WHERE %s = %s", holder, acquired, renewed, t, name, run),
		Renew:   fmt.Sprintf("UPDATE %s SET %s = %s WHERE %s = %s AND %s = %s", t, renewed, d.Param(1), name, run, holder, d.Param(2)),
		Release: fmt.Sprintf("DELETE FROM %s WHERE %s = %s AND %s = %s", t, name, run, holder, d.Param(1)),
	}
}
