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
	"save": true, "appendonly": true, "daemonize": false, "protected-mode": true,
	"loglevel": true, "logfile": true, "dir": true, "dbfilename": true, "databases": true,
	"tcp-keepalive": true, "timeout": true, "hz": true, "appendfsync": true, "maxmemory": true,
	"maxmemory-policy": true, "proto-max-bulk-len": true, "tcp-backlog": true,
}

func parseArgs(args []string) (conn.Config, error) {
	var cfg conn.Config
	cfg.Port = conn.DefaultPort
	var directives [][]string
	if len(args) > 0 && !strings.HasPrefix(args[0], "--") {
		d, err := readConfigFile(args[0])
		if err != nil {
			return cfg, err
		}
		directives = d
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
	case "daemonize":
		if v, _ := one(); v == "yes" {
			err = errors.New("daemonize yes is not supported: run it under a supervisor")
		}
	default:
		if !accepted[name] {
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
