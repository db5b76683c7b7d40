//go:build !linux

package duckdb

import "os"

// purgeAllocator does nothing: DuckDB uses jemalloc on Linux only.
func purgeAllocator() bool { return false }

// allocatorOptions returns the allocator's options from the environment;
// sfsync sets none where DuckDB does not use jemalloc.
func allocatorOptions() string { return os.Getenv(allocatorEnv) }
