//go:build windows

package duckdb

import (
	"errors"
	"os"
	"syscall"
	"unsafe"
)

const (
	lockfileExclusiveLock   = 0x2
	lockfileFailImmediately = 0x1
	errorLockViolation      = syscall.Errno(33)
	errorIOPending          = syscall.Errno(997)
)

// lockFile takes an exclusive LockFileEx lock on one byte of f far past
// its content (so others can still read the holder's pid) without
// blocking; false when another handle holds it.
func lockFile(f *os.File) (bool, error) {
	proc := syscall.NewLazyDLL("kernel32.dll").NewProc("LockFileEx")
	ol := syscall.Overlapped{OffsetHigh: 1}
	r, _, err := proc.Call(f.Fd(), lockfileExclusiveLock|lockfileFailImmediately, 0, 1, 0, uintptr(unsafe.Pointer(&ol)))
	if r != 0 {
		return true, nil
	}
	if errors.Is(err, errorLockViolation) || errors.Is(err, errorIOPending) {
		return false, nil
	}
	return false, err
}

func unlockFile(f *os.File) error {
	proc := syscall.NewLazyDLL("kernel32.dll").NewProc("UnlockFileEx")
	ol := syscall.Overlapped{OffsetHigh: 1}
	r, _, err := proc.Call(f.Fd(), 0, 1, 0, uintptr(unsafe.Pointer(&ol)))
	if r == 0 {
		return err
	}
	return nil
}
