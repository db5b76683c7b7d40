// Command stagecost times the DuckDB work a Bulk batch needs at the least,
// on the CSV of one job (from bench/bulk-csv.sh): load it into a staging
// table, insert the staged rows into the final table, delete them. With
// "file" the staging table lives in the database file, as sfsync's does;
// with "memory" in an attached in-memory database. Settings follow
// sfsync's defaults for one object (128MB, 2 threads, no insertion order).
//
// Statements after those arguments run right after the settings (e.g.
// "SET max_vacuum_tasks = 0").
//
// Usage: stagecost FILE.csv DB.duckdb file|memory [STATEMENT ...]
package main

import (
	"database/sql"
	"fmt"
	"os"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

func main() {
	if len(os.Args) < 4 || (os.Args[3] != "file" && os.Args[3] != "memory") {
		fmt.Fprintln(os.Stderr, "usage: stagecost FILE.csv DB.duckdb file|memory [STATEMENT ...]")
		os.Exit(2)
	}
	csv, path, where := os.Args[1], os.Args[2], os.Args[3]
	for _, p := range []string{path, path + ".wal"} {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			fail(err)
		}
	}
	db, err := sql.Open("duckdb", path)
	if err != nil {
		fail(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // one connection: the ATTACH and the settings hold for every statement
	exec := func(q string) time.Duration {
		t := time.Now()
		if _, err := db.Exec(q); err != nil {
			fail(fmt.Errorf("%s: %w", q, err))
		}
		return time.Since(t)
	}
	exec("SET memory_limit = '128MB'")
	exec("SET threads = 2")
	exec("SET preserve_insertion_order = false")
	for _, q := range os.Args[4:] {
		exec(q)
	}
	staging := "main.staging"
	if where == "memory" {
		exec("ATTACH ':memory:' AS scratch")
		staging = "scratch.staging"
	}
	src := fmt.Sprintf("read_csv('%s', header = true, buffer_size = 8388608, max_line_size = 4000000)",
		strings.ReplaceAll(csv, "'", "''"))
	exec(fmt.Sprintf("CREATE TABLE %s AS SELECT * FROM %s LIMIT 0", staging, src))
	exec(fmt.Sprintf("CREATE TABLE final AS SELECT * FROM %s LIMIT 0", staging))
	start := time.Now()
	load := exec(fmt.Sprintf("INSERT INTO %s SELECT * FROM %s", staging, src))
	insert := exec(fmt.Sprintf("INSERT INTO final SELECT * FROM %s", staging))
	drop := exec(fmt.Sprintf("DELETE FROM %s", staging))
	checkpoint := exec("CHECKPOINT")
	var n int64
	if err := db.QueryRow("SELECT count(*) FROM final").Scan(&n); err != nil {
		fail(err)
	}
	total := time.Since(start)
	fmt.Printf("%s: %d rows: load into staging %.2f s, insert into final %.2f s, delete staged %.2f s, checkpoint %.2f s; %.2f s = %.0f rows/s\n",
		where, n, load.Seconds(), insert.Seconds(), drop.Seconds(), checkpoint.Seconds(), total.Seconds(), float64(n)/total.Seconds())

	// Then what an incremental run of 10,000 changed rows asks: stage
	// them, replace them in the final table in one transaction, checkpoint.
	exec(fmt.Sprintf("INSERT INTO %s SELECT * FROM final USING SAMPLE 10000 ROWS", staging))
	exec("BEGIN TRANSACTION")
	exec(fmt.Sprintf("DELETE FROM final WHERE Id IN (SELECT Id FROM %s)", staging))
	exec(fmt.Sprintf("INSERT INTO final SELECT * FROM %s", staging))
	exec("COMMIT")
	exec(fmt.Sprintf("DELETE FROM %s", staging))
	fmt.Printf("%s: then 10,000 rows replaced: checkpoint %.2f s\n", where, exec("CHECKPOINT").Seconds())
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "stagecost:", err)
	os.Exit(1)
}
