package duckdb

/*
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

// Runs before the C++ constructors of DuckDB's library (default
// priority), which allocate and so initialise jemalloc.
__attribute__((constructor(101))) static void sfsync_allocator_options(void) {
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	long arenas = cpus / 4;
	if (arenas < 1) arenas = 1;
	char conf[96];
	snprintf(conf, sizeof conf, "narenas:%ld,dirty_decay_ms:200,muzzy_decay_ms:0", arenas);
	setenv("DUCKDB_JE_MALLOC_CONF", conf, 0);
}

// jemalloc's control interface in DuckDB's library, weak so that a
// library without it links all the same (the function is then NULL).
extern int duckdb_je_mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen) __attribute__((weak));

// Returns every arena's dirty pages to the system now; 0 on success, -1
// when the library has no jemalloc.
static int sfsync_allocator_purge(void) {
	if (duckdb_je_mallctl == NULL) return -1;
	// MALLCTL_ARENAS_ALL is 4096.
	return duckdb_je_mallctl("arena.4096.purge", NULL, NULL, NULL, 0);
}
*/
import "C"

import "unsafe"

// allocatorOptions returns the allocator's options as the C environment
// holds them (Go's copy of the environment predates the constructor).
func allocatorOptions() string {
	name := C.CString(allocatorEnv)
	defer C.free(unsafe.Pointer(name))
	v := C.getenv(name)
	if v == nil {
		return ""
	}
	return C.GoString(v)
}

// purgeAllocator returns the pages DuckDB's allocator freed to the system
// now rather than after its decay time. The warehouse calls it after each
// batch's load and consolidation, which free the most; false when DuckDB's
// library has no jemalloc.
func purgeAllocator() bool {
	return C.sfsync_allocator_purge() == 0
}
