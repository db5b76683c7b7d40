package postgres

import (
	"testing"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/warehouse/postgres/pgtest"
	"github.com/sfsync/sfsync/warehouse/sqlstore"
	"github.com/sfsync/sfsync/warehousetest"
)

// openTemp opens a warehouse in a new database of the test server.
func openTemp(t *testing.T, opts Options) *Warehouse {
	t.Helper()
	opts.DSN = pgtest.Database(t)
	if opts.MaxConns == 0 {
		opts.MaxConns = 6
	}
	w, err := Open(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestConformance(t *testing.T) {
	warehousetest.Run(t, func(t *testing.T) sfsync.Warehouse { return openTemp(t, Options{}) })
}

func TestServiceConformance(t *testing.T) {
	warehousetest.RunService(t, func(t *testing.T) (sfsync.Warehouse, *sqlstore.Store) {
		w := openTemp(t, Options{})
		return w, w.Service()
	})
}
