// Command ringkv-server runs ringkv. Its command line follows redis-server's:
//
//	ringkv-server [/path/to/ringkv.conf] [--name value ...]
//
// The optional first argument is a redis.conf-style file (one "name value"
// directive per line, # comments); --name value pairs after it override the
// file. It binds to 127.0.0.1 by default and stops cleanly on SIGINT or
// SIGTERM.
package main

import (
	"bufio"
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
)

func main() {
	logger := log.New(os.Stderr, "", log.LstdFlags|log.Lmicroseconds)
	cfg, err := parseArgs(os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "ringkv-server: %v\n", err)
		os.Exit(1)
	}
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
	srv := conn.NewServer(cfg)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		sig := <-sigs
		logger.Printf("received %v, shutting down", sig)
		srv.Shutdown()
	}()
	if err := srv.Run(); err != nil {
		logger.Printf("fatal: %v", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// directives the server accepts but does not act on yet, with the value
// that matches what it does. Anything else unknown is an error, as in Redis.
var accepted = map[string]bool{
	"save": true, "daemonize": false, "protected-mode": true,
	"loglevel": true, "logfile": true, "dir": true, "dbfilename": true, "databases": true,
	"tcp-keepalive": true, "timeout": true, "hz": true, "maxmemory": true,
	"maxmemory-policy": true, "proto-max-bulk-len": true, "tcp-backlog": true,
}

func parseArgs(args []string) (conn.Config, error) {
	var cfg conn.Config
	cfg.Port = conn.DefaultPort
	// The binary persists by default (README): appendonly yes, everysec,
	// in the working directory, with Redis's auto-rewrite thresholds.
	cfg.AOF = conn.AOFConfig{Enabled: true, Dir: ".", Fsync: "everysec", RewritePercentage: 100, RewriteMinSize: 64 << 20}
	var directives [][]string
	if len(args) > 0 && !strings.HasPrefix(args[0], "--") {
		d, err := readConfigFile(args[0])
		if err != nil {
			return cfg, err
		}
		directives = d
		cfg.ConfigFile = args[0]
		args = args[1:]
	}
	for i := 0; i < len(args); {
		if !strings.HasPrefix(args[i], "--") {
			return cfg, fmt.Errorf("unexpected argument %q (options are --name value)", args[i])
		}
		d := []string{strings.TrimPrefix(args[i], "--")}
		i++
		for i < len(args) && !strings.HasPrefix(args[i], "--") {
			d = append(d, args[i])
			i++
		}
		directives = append(directives, d)
	}
	for _, d := range directives {
		if err := apply(&cfg, strings.ToLower(d[0]), d[1:]); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

func readConfigFile(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		fields := strings.Fields(line)
		for j, fl := range fields {
			fields[j] = strings.Trim(fl, `"'`)
		}
		out = append(out, fields)
	}
	return out, sc.Err()
}

func apply(cfg *conn.Config, name string, vals []string) error {
	one := func() (string, error) {
		if len(vals) != 1 {
			return "", fmt.Errorf("bad directive or wrong number of arguments: %s %s", name, strings.Join(vals, " "))
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
	case "maxclients":
		cfg.MaxClients, err = num()
	case "client-query-buffer-limit":
		cfg.QueryBufLimit, err = num()
	case "client-output-buffer-limit":
		// "normal <hard> <soft> <seconds>": the normal class's hard limit.
		if len(vals) >= 2 && strings.EqualFold(vals[0], "normal") {
			cfg.ReplyHardLimit, err = strconv.Atoi(vals[1])
		}
	case "appendonly":
		var v string
		if v, err = one(); err == nil {
			cfg.AOF.Enabled, err = yesNo(name, v)
		}
	case "appendfsync":
		var v string
		if v, err = one(); err == nil && v != "always" && v != "everysec" && v != "no" {
			err = fmt.Errorf("appendfsync: must be always, everysec or no, not %q", v)
		}
		cfg.AOF.Fsync = v
	case "appendfilename":
		cfg.AOF.Filename, err = one()
		if err == nil && (cfg.AOF.Filename == "" || strings.ContainsRune(cfg.AOF.Filename, '/')) {
			err = fmt.Errorf("appendfilename can't be a path, just a filename")
		}
	case "appenddirname":
		cfg.AOF.Dirname, err = one()
		if err == nil && (cfg.AOF.Dirname == "" || strings.ContainsRune(cfg.AOF.Dirname, '/')) {
			err = fmt.Errorf("appenddirname can't be a path, just a directory name")
		}
	case "dir":
		cfg.AOF.Dir, err = one()
	case "aof-load-truncated":
		var v string
		var yes bool
		if v, err = one(); err == nil {
			yes, err = yesNo(name, v)
			cfg.AOF.RefuseTruncated = !yes
		}
	case "auto-aof-rewrite-percentage":
		var n int
		n, err = num()
		cfg.AOF.RewritePercentage = int64(n)
	case "auto-aof-rewrite-min-size":
		var v string
		if v, err = one(); err == nil {
			cfg.AOF.RewriteMinSize, err = memSize(name, v)
		}
	case "daemonize":
		if v, _ := one(); v == "yes" {
			err = errors.New("daemonize yes is not supported: run it under a supervisor")
		}
	default:
		if conn.KnownConfig(name) {
			// CONFIG's table (conn/config.go) applies it at start.
			cfg.Params = append(cfg.Params, append([]string{name}, vals...))
		} else if !accepted[name] {
			err = fmt.Errorf("bad directive or wrong number of arguments: %s", name)
		}
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

func yesNo(name, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "yes":
		return true, nil
	case "no":
		return false, nil
	}
	return false, fmt.Errorf("%s: argument must be 'yes' or 'no', not %q", name, v)
}

// memSize reads a redis.conf memory amount: 64mb, 1gb, 100k, 4096.
func memSize(name, v string) (int64, error) {
	l := strings.ToLower(v)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"g", 1e9}, {"m", 1e6}, {"k", 1e3}, {"b", 1}} {
		if strings.HasSuffix(l, u.suffix) {
			l, mult = strings.TrimSuffix(l, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(l, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s: not a valid memory amount: %q", name, v)
	}
	return n * mult, nil
}
