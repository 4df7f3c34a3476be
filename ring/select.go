package ring

import (
	"bytes"
	"fmt"
	"os"
)

// Config chooses and sizes a ring. The zero value is valid: auto selection
// (or RINGKV_IO) with the defaults below.
type Config struct {
	// Backend is "auto", "uring" or "epoll". Empty means the environment
	// variable RINGKV_IO decides, and auto if that is empty too.
	Backend string
	// Entries is the number of SQ entries (io_uring); the CQ gets four
	// times as many. Default 4096, at most EntriesMax.
	Entries uint32
	// BufSize is the size of one provided receive buffer (io_uring), and of
	// the read buffer of the epoll backend. Default 16384.
	BufSize int
	// BufCount is the number of provided receive buffers, a power of two.
	// Default 1024, at most BufCountMax.
	BufCount int
}

// Limits of Config and their defaults.
const (
	EntriesDefault  = 4096
	EntriesMax      = 16384 // x cqPerSQ must stay within the kernel's 65536 CQ entries
	BufSizeDefault  = 16384
	BufSizeMax      = 1 << 20
	BufCountDefault = 1024
	BufCountMax     = 32768 // the kernel's limit for a provided buffer ring
	cqPerSQ         = 4     // CQ = 4x SQ: a burst of multishot CQEs must not overflow
)

// EnvBackend names the environment variable read when Config.Backend is "".
const EnvBackend = "RINGKV_IO"

// ioUringDisabledPath holds 0 (allowed), 1 (allowed for a group) or 2
// (disabled for everyone).
const ioUringDisabledPath = "/proc/sys/kernel/io_uring_disabled"

func (cfg Config) withDefaults() (Config, error) {
	if cfg.Entries == 0 {
		cfg.Entries = EntriesDefault
	}
	if cfg.BufSize == 0 {
		cfg.BufSize = BufSizeDefault
	}
	if cfg.BufCount == 0 {
		cfg.BufCount = BufCountDefault
	}
	switch {
	case cfg.Entries > EntriesMax:
		return cfg, fmt.Errorf("ring: %d SQ entries, at most %d", cfg.Entries, EntriesMax)
	case cfg.BufSize < 0 || cfg.BufSize > BufSizeMax:
		return cfg, fmt.Errorf("ring: buffer size %d, want 1..%d", cfg.BufSize, BufSizeMax)
	case cfg.BufCount < 0 || cfg.BufCount > BufCountMax || cfg.BufCount&(cfg.BufCount-1) != 0:
		return cfg, fmt.Errorf("ring: buffer count %d, want a power of two up to %d", cfg.BufCount, BufCountMax)
	}
	return cfg, nil
}

// New creates a ring for the calling goroutine, which must already have
// called runtime.LockOSThread and must make every later call but Wake: the
// io_uring backend is set up SINGLE_ISSUER and DEFER_TASKRUN, so the kernel
// accepts it only from the thread that created it.
//
// reason says which backend runs and why, for the start-up log, for example
// "io_uring: self-test passed" or "epoll: io_uring_setup: operation not
// permitted". Under auto, any failure to set up io_uring (disabled by
// sysctl, blocked by seccomp, a missing opcode or feature, a failed
// self-test) falls back to epoll; a backend asked for by name returns its
// error instead.
func New(cfg Config) (r Ring, reason string, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, "", err
	}
	backend, source := cfg.Backend, "configuration"
	if backend == "" {
		backend, source = os.Getenv(EnvBackend), EnvBackend
	}
	switch backend {
	case "", "auto":
		return newAuto(cfg)
	case "uring":
		u, err := newUring(cfg)
		if err != nil {
			return nil, "io_uring: " + err.Error(), fmt.Errorf("ring: io_uring (requested by %s): %w", source, err)
		}
		return u, "io_uring: requested by " + source + "; self-test passed", nil
	case "epoll":
		e, err := newEpoll(cfg)
		if err != nil {
			return nil, "epoll: " + err.Error(), fmt.Errorf("ring: epoll: %w", err)
		}
		return e, "epoll: requested by " + source, nil
	}
	return nil, "", fmt.Errorf("ring: unknown backend %q (from %s): want auto, uring or epoll", backend, source)
}

func newAuto(cfg Config) (Ring, string, error) {
	var why string
	if b, err := os.ReadFile(ioUringDisabledPath); err == nil && string(bytes.TrimSpace(b)) == "2" {
		why = "io_uring disabled (kernel.io_uring_disabled = 2)"
	} else {
		u, err := newUring(cfg)
		if err == nil {
			return u, "io_uring: self-test passed", nil
		}
		why = err.Error()
	}
	e, err := newEpoll(cfg)
	if err != nil {
		return nil, "epoll: " + err.Error(), fmt.Errorf("ring: epoll (io_uring unusable: %s): %w", why, err)
	}
	return e, "epoll: " + why, nil
}

// stats counts the events that tests (and a curious operator) want to see
// happen; they cost an increment each.
type stats struct {
	enters       int // io_uring_enter or epoll_wait calls
	earlySubmits int // enters made because the SQ was full
	extraEnters  int // further enters within one Wait (overflow, EINTR, ...)
	cqOverflows  int // reaps after which the kernel still held overflowed CQEs
	busyEnters   int // enters refused with EBUSY or EAGAIN
	shortSends   int // sends that wrote part of the buffer and were resubmitted
	sendRetries  int // sends that said EAGAIN and were resubmitted
	recvNoBufs   int // multishot recvs that ended with ENOBUFS
	recvRearms   int // multishot recvs armed again after ending
	acceptRearms int // multishot accepts armed again after ending
	staleCQEs    int // completions of a closed generation, dropped
}
