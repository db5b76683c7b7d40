package duckdb

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sfsync/sfsync"
)

// lockPoll is how often a waiting Lock retries.
const lockPoll = 250 * time.Millisecond

// Lock takes the warehouse-wide run lock: an exclusive lock on the file
// <path>.lock next to the database, holding the owner's process id. Two
// holders never run at once, whether they are processes or goroutines of
// one process. When the lock is held, Lock returns an error wrapping
// sfsync.ErrBusy that names the lock file and the holder's pid, or, if
// wait is set, retries until it gets the lock or ctx is done (the error
// then wraps both ErrBusy and ctx.Err()). An in-memory database is locked
// within the process only. release is safe to call more than once.
func (w *Warehouse) Lock(ctx context.Context, wait bool) (release func(), err error) {
	for {
		release, holder, err := w.tryLock()
		if err != nil {
			return nil, fmt.Errorf("lock warehouse: %w", err)
		}
		if release != nil {
			return release, nil
		}
		busy := w.busyError(holder)
		if !wait {
			return nil, busy
		}
		w.log.Info("waiting for the run lock", "lock_file", w.lockPath(), "holder", holder)
		t := time.NewTimer(lockPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w: %w", busy, ctx.Err())
		case <-t.C:
		}
	}
}

func (w *Warehouse) lockPath() string {
	if w.memory {
		return ""
	}
	return w.path + ".lock"
}

func (w *Warehouse) busyError(holder string) error {
	if w.memory {
		return fmt.Errorf("%w: the in-memory warehouse's run lock is held by another caller in this process", sfsync.ErrBusy)
	}
	who := "another process"
	if holder != "" {
		who = "process " + holder
	}
	// The operating system frees the lock when its holder exits, so a held
	// lock always means a live holder.
	return fmt.Errorf("%w: %s holds the run lock %s; wait for that run to finish, or run with --wait to start when it does", sfsync.ErrBusy, who, w.lockPath())
}

// tryLock takes the lock without waiting. It returns a release function,
// or nil and the holder's pid (when known) if the lock is held elsewhere.
func (w *Warehouse) tryLock() (release func(), holder string, err error) {
	select {
	case w.runLock <- struct{}{}:
	default:
		return nil, w.heldBy(), nil
	}
	unlockProcess := func() { <-w.runLock }
	if w.memory {
		return onceFunc(unlockProcess), "", nil
	}
	unlockFile, holder, err := lockPath(w.lockPath())
	if unlockFile == nil {
		unlockProcess()
		return nil, holder, err
	}
	return onceFunc(func() {
		unlockFile()
		unlockProcess()
	}), "", nil
}

// lockPath takes an exclusive lock on the file at path, creating it, and
// writes this process's id into it. When another holder has it, it
// returns nil and the pid written there (when readable).
func lockPath(path string) (release func(), holder string, err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, "", fmt.Errorf("open lock file: %w", err)
	}
	ok, err := lockFile(f)
	if err != nil || !ok {
		holder := readHolder(f)
		f.Close()
		if err != nil {
			return nil, "", fmt.Errorf("lock %s: %w", path, err)
		}
		return nil, holder, nil
	}
	// Record the holder for whoever finds the lock taken. The lock, not
	// the content, is what excludes: a stale pid is harmless.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() {
		_ = unlockFile(f)
		f.Close()
	}, "", nil
}

// heldBy reads the pid in the lock file, for messages.
func (w *Warehouse) heldBy() string {
	if w.memory {
		return ""
	}
	f, err := os.Open(w.lockPath())
	if err != nil {
		return ""
	}
	defer f.Close()
	return readHolder(f)
}

func readHolder(f *os.File) string {
	buf := make([]byte, 32)
	n, err := f.ReadAt(buf, 0)
	if err != nil && n == 0 {
		return ""
	}
	pid := strings.TrimSpace(string(buf[:n]))
	if _, err := strconv.Atoi(pid); err != nil {
		return ""
	}
	return pid
}

func onceFunc(f func()) func() {
	var once sync.Once
	return func() { once.Do(f) }
}
