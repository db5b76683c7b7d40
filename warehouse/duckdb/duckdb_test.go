package duckdb

import (
	"path/filepath"
	"testing"

	"github.com/sfsync/sfsync"
	"github.com/sfsync/sfsync/warehouse/sqlstore"
	"github.com/sfsync/sfsync/warehousetest"
)

// openTemp opens a warehouse in a new file under t.TempDir.
func openTemp(t *testing.T) *Warehouse {
	t.Helper()
	w, err := Open(t.Context(), Options{Path: filepath.Join(t.TempDir(), "sfsync.duckdb"), Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestConformance(t *testing.T) {
	warehousetest.Run(t, func(t *testing.T) sfsync.Warehouse { return openTemp(t) })
}

func TestConformanceInMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("the file-backed run covers the same ground")
	}
	warehousetest.Run(t, func(t *testing.T) sfsync.Warehouse {
		w, err := Open(t.Context(), Options{Path: ":memory:"})
		if err != nil {
			t.Fatal(err)
		}
		return w
	})
}

func TestServiceConformance(t *testing.T) {
	warehousetest.RunService(t, func(t *testing.T) (sfsync.Warehouse, *sqlstore.Store) {
		w := openTemp(t)
		return w, w.Service()
	})
}
