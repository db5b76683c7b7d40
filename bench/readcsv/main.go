// Command readcsv times DuckDB's own read_csv of a CSV file into a new table:
// the ceiling the Bulk path is compared with. Usage: readcsv FILE.csv DB.duckdb
package main

import (
	"database/sql"
	"fmt"
	"os"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

func main() {
	db, err := sql.Open("duckdb", os.Args[2])
	if err != nil {
		panic(err)
	}
	st, _ := os.Stat(os.Args[1])
	t := time.Now()
	var n int64
	if _, err := db.Exec(fmt.Sprintf(`CREATE TABLE t AS SELECT * FROM read_csv('%s', header = true)`, os.Args[1])); err != nil {
		panic(err)
	}
	el := time.Since(t)
	db.QueryRow(`SELECT count(*) FROM t`).Scan(&n)
	fmt.Printf("read_csv: %d rows, %.1f MB in %.2f s = %.0f rows/s, %.0f MB/s\n", n, float64(st.Size())/1e6, el.Seconds(), float64(n)/el.Seconds(), float64(st.Size())/1e6/el.Seconds())
}
