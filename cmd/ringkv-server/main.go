// Command ringkv-server runs ringkv. Its command line follows redis-server's:
//
//	ringkv-server [/path/to/ringkv.conf] [--name value ...]
//
// The optional first argument is a redis.conf-style file (one "name value"
// directive per line, # comments, values quoted and escaped as redis-server
// reads them: splitargs.go); --name value pairs after it override the file.
// It binds to 127.0.0.1 by default and stops cleanly on SIGINT or SIGTERM.
package main

import (
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"

	"github.com/ringkv/ringkv/conn"
	"github.com/ringkv/ringkv/store"
)

func main() {
	logger := log.New(os.Stderr, "", log.LstdFlags|log.Lmicroseconds)
	st, err := parseArgs(os.Args[1:])
	if err != nil {
		fatal(err)
	}
	cfg := st.cfg
	cfg.Logger = logger
	raiseFileLimit(logger)
	startMemReleaser() // memrelease.go
	// With one P (GOMAXPROCS=1, e.g. when pinned to one core) Go's sysmon
	// retakes the P whenever the loop thread sits in io_uring_enter for two
	// of its ticks, so it keeps waking every 20 us and hands the P between
	// threads: measured ~1.5 us more CPU per request at pipeline 1. With an
	// idle second P it leaves short syscalls alone and backs off.
	if os.Getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) < 2 {
		runtime.GOMAXPROCS(2)
	}
	// RINGKV_CPUPROFILE=file writes a Go CPU profile of the whole run, for
	// finding where the server's time goes (go tool pprof).
	if path := os.Getenv("RINGKV_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			logger.Printf("cpu profile: %v", err)
		} else {
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
	}
	// RINGKV_COLL_OFFHEAP_MIN_BYTES moves collections' arrays into mappings
	// from that size on instead of 1 MiB (store/collmem.go): for tests that
	// want small collections to take those paths.
	if v := os.Getenv("RINGKV_COLL_OFFHEAP_MIN_BYTES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || !store.SetCollOffheapMinBytes(n) {
			fatal(fmt.Errorf("RINGKV_COLL_OFFHEAP_MIN_BYTES=%q: want a number of bytes >= %d", v, store.CollOffheapMinBytesMin))
		}
		logger.Printf("collections' arrays are mapped from %d bytes on (RINGKV_COLL_OFFHEAP_MIN_BYTES)", n)
	}
	srv := conn.NewServer(cfg)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		logger.Printf("received %v, shutting down", sig)
		srv.Shutdown()
	}()
	if err := srv.Run(); err != nil {
		pprof.StopCPUProfile()
		if err := st.explain(err); errors.As(err, new(*configError)) {
			fatal(err)
		}
		logger.Printf("fatal: %v", err)
		os.Exit(1)
	}
}

// fatal reports a configuration error as redis-server does, on stderr, and
// exits with status 1.
func fatal(err error) {
	if errors.As(err, new(*configError)) {
		fmt.Fprint(os.Stderr, err)
	} else {
		fmt.Fprintf(os.Stderr, "ringkv-server: %v\n", err)
	}
	os.Exit(1)
}

// directive is one "name value..." of the configuration: a line of the
// config file or a --name value... group of the command line.
type directive struct {
	args []string // the name, then its values
	// line and text say where it came from as redis-server says it: the
	// file's lines, then one line per command-line directive after them,
	// the command line's values quoted.
	line int
	text string
}

// configError is a directive that was refused. It prints as redis-server's
// FATAL CONFIG FILE ERROR.
type configError struct {
	d   directive
	why string
}

func (e *configError) Error() string {
	return fmt.Sprintf("\n*** FATAL CONFIG FILE ERROR (ringkv %s) ***\nReading the configuration file, at line %d\n>>> '%s'\n%s\n",
		conn.Version, e.d.line, e.d.text, e.why)
}

// setup is what the command line and the config file say.
type setup struct {
	cfg conn.Config
	// params is where each of cfg.Params came from, for explaining a
	// *conn.ParamError.
	params []directive
}

// explain turns a directive that conn's configuration table refused when
// the server started into the configError that names its line.
func (st *setup) explain(err error) error {
	var pe *conn.ParamError
	if errors.As(err, &pe) && pe.Index < len(st.params) {
		return &configError{d: st.params[pe.Index], why: pe.Err.Error()}
	}
	return err
}

func parseArgs(args []string) (*setup, error) {
	st := &setup{}
	cfg := &st.cfg
	cfg.Port = conn.DefaultPort
	// The binary persists by default (README): appendonly yes, everysec,
	// in the working directory, with Redis's auto-rewrite thresholds. The
	// directives below change these through conn's configuration table.
	cfg.AOF = conn.AOFConfig{Enabled: true, Dir: ".", Fsync: "everysec", RewritePercentage: 100, RewriteMinSize: 64 << 20}
	var directives []directive
	// Lines of the command line are numbered after the file's, as
	// redis-server appends "\n" and the options to the file's text.
	line := 1
	if len(args) > 0 && !strings.HasPrefix(args[0], "--") {
		d, n, err := readConfigFile(args[0])
		if err != nil {
			return nil, err
		}
		directives, line = d, n+1
		cfg.ConfigFile = args[0]
		args = args[1:]
	}
	for i := 0; i < len(args); {
		if !strings.HasPrefix(args[i], "--") {
			return nil, fmt.Errorf("unexpected argument %q (options are --name value)", args[i])
		}
		line++
		d := directive{args: []string{strings.TrimPrefix(args[i], "--")}, line: line}
		text := d.args[0]
		i++
		for i < len(args) && !strings.HasPrefix(args[i], "--") {
			d.args = append(d.args, args[i])
			text += " " + repr(args[i])
			i++
		}
		d.text = text
		directives = append(directives, d)
	}
	for _, d := range directives {
		if err := apply(st, d); err != nil {
			return nil, &configError{d: d, why: err.Error()}
		}
	}
	return st, nil
}

// readConfigFile returns the file's directives and its number of '\n'.
func readConfigFile(path string) ([]directive, int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, 0, fmt.Errorf("Fatal error, can't open config file '%s': %s", path, strerror(err))
	}
	var out []directive
	lines := strings.Split(string(b), "\n")
	for n, ln := range lines {
		ln = strings.Trim(ln, " \t\r\n")
		if ln == "" || ln[0] == '#' {
			continue
		}
		d := directive{line: n + 1, text: ln}
		args, ok := splitArgs(ln)
		if !ok {
			return nil, 0, &configError{d: d, why: "Unbalanced quotes in configuration line"}
		}
		if len(args) == 0 {
			continue
		}
		d.args = args
		out = append(out, d)
	}
	return out, len(lines) - 1, nil
}

// repr quotes a command-line value as redis-server's sdscatrepr does when
// it turns the command line into config lines.
func repr(v string) string {
	b := []byte{'"'}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\', '"':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		case '\a':
			b = append(b, `\a`...)
		case '\b':
			b = append(b, `\b`...)
		default:
			if c >= ' ' && c < 0x7f {
				b = append(b, c)
			} else {
				b = fmt.Appendf(b, `\x%02x`, c)
			}
		}
	}
	return string(append(b, '"'))
}

// strerror is C's text for an errno ("No such file or directory").
func strerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if t := errno.Error(); t != "" {
			return strings.ToUpper(t[:1]) + t[1:]
		}
	}
	return err.Error()
}

// apply takes the directives the binary handles itself (the listener and
// the I/O backend, which exist before the server does); every other name
// of conn's configuration table (the client limits and the AOF's included)
// goes to Config.Params, which the server applies through the table when
// it starts, as CONFIG SET would: one parser, one set of ranges and error
// texts for the command line, the config file and CONFIG SET.
func apply(st *setup, d directive) error {
	cfg := &st.cfg
	name, vals := strings.ToLower(d.args[0]), d.args[1:]
	one := func() (string, error) {
		if len(vals) != 1 {
			return "", errors.New("wrong number of arguments")
		}
		return vals[0], nil
	}
	num := func() (int, error) {
		v, err := one()
		if err != nil {
			return 0, err
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%s: not a valid number: %q", name, v)
		}
		return n, nil
	}
	var err error
	switch name {
	case "port":
		cfg.Port, err = num()
	case "bind":
		if len(vals) == 0 {
			return errors.New("bind: needs an address")
		}
		cfg.Bind = vals[0] // the first address; more are not supported yet
	case "io":
		cfg.IO, err = one()
		if err == nil && cfg.IO != "auto" && cfg.IO != "uring" && cfg.IO != "epoll" {
			err = fmt.Errorf("io: must be auto, uring or epoll, not %q", cfg.IO)
		}
	case "daemonize":
		if v, _ := one(); v == "yes" {
			err = errors.New("daemonize yes is not supported: run it under a supervisor")
		}
	default:
		if !conn.KnownConfig(name) {
			return errors.New("Bad directive or wrong number of arguments")
		}
		cfg.Params = append(cfg.Params, d.args)
		st.params = append(st.params, d)
	}
	return err
}

// raiseFileLimit lifts the soft open-file limit to the hard one, so that
// maxclients connections can be accepted.
func raiseFileLimit(logger *log.Logger) {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			logger.Printf("could not raise the open-file limit: %v", err)
		}
	}
}
