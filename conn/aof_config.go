package conn

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/ringkv/ringkv/aof"
)

// The AOF's rows of the configuration table (config.go), with Redis 7.0's
// names, defaults, flags and error texts. The values live in s.cfg.AOF, so
// that what the binary and the tests pass in Config and what CONFIG SET
// changes are one thing (NewServer puts Config's values back after the
// table stored its defaults).
//
// As in Redis 7.0: appendfilename and appenddirname are immutable; dir is a
// protected config (CONFIG SET refuses it; the config file and command line
// set it). Unlike Redis, ringkv does not chdir(2) to dir: dir only says
// where appenddirname is, and CONFIG GET dir prints it as an absolute path,
// as Redis's getcwd() does.
func init() {
	registerConfig(
		&configParam{name: "appendonly", def: "no",
			get: func(s *Server) string { return yesNo(s.cfg.AOF.Enabled) },
			set: func(s *Server, v string) error {
				b, err := parseYesNo(v)
				if err == nil {
					s.cfg.AOF.Enabled = b
				}
				return err
			},
			apply: applyAppendonly},
		// Redis lists the choices in this order in its error text.
		enumConfig("appendfsync", "everysec", []string{"everysec", "always", "no"},
			func(s *Server) *string { return &s.cfg.AOF.Fsync }, applyAppendfsync),
		aofNameConfig("appendfilename", "appendonly.aof", func(s *Server) *string { return &s.cfg.AOF.Filename }),
		aofNameConfig("appenddirname", "appendonlydir", func(s *Server) *string { return &s.cfg.AOF.Dirname }),
		&configParam{name: "dir", def: ".",
			get: func(s *Server) string {
				if abs, err := filepath.Abs(s.cfg.AOF.Dir); err == nil {
					return abs
				}
				return s.cfg.AOF.Dir
			},
			set: setDir},
		&configParam{name: "aof-load-truncated", def: "yes",
			get: func(s *Server) string { return yesNo(!s.cfg.AOF.RefuseTruncated) },
			set: func(s *Server, v string) error {
				b, err := parseYesNo(v)
				if err == nil {
					s.cfg.AOF.RefuseTruncated = !b
				}
				return err
			}},
		intConfig("auto-aof-rewrite-percentage", 100, 0, math.MaxInt32,
			func(s *Server) *int64 { return &s.cfg.AOF.RewritePercentage }, nil),
		memoryConfig("auto-aof-rewrite-min-size", 64<<20, 0, math.MaxInt64,
			func(s *Server) *int64 { return &s.cfg.AOF.RewriteMinSize }, nil),
	)
}

func parseYesNo(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "yes":
		return true, nil
	case "no":
		return false, nil
	}
	return false, errors.New("argument must be 'yes' or 'no'")
}

// aofNameConfig is appendfilename or appenddirname: immutable at run time,
// set from the config file or the command line, a base name as Redis 7.0's
// isValidAOFfilename and isValidAOFdirname check it (no '/' or '\\'; "."
// and ".." pass, as there).
func aofNameConfig(name, def string, ptr func(*Server) *string) *configParam {
	what := "a filename"
	if name == "appenddirname" {
		what = "a dirname"
	}
	return &configParam{name: name, def: def, flags: configImmutable,
		get: func(s *Server) string { return *ptr(s) },
		set: func(s *Server, v string) error {
			if v == "" {
				return errors.New(name + " can't be empty")
			}
			if strings.ContainsAny(v, `/\`) {
				return errors.New(name + " can't be a path, just " + what)
			}
			*ptr(s) = v
			return nil
		}}
}

// setDir is dir. Refused once the server runs (Redis 7's protected
// config, with enable-protected-configs at its default, no); at start it
// must name a directory, as Redis's chdir(2) requires.
func setDir(s *Server, v string) error {
	if s.aof.started {
		return errors.New("can't set protected config")
	}
	if v != "." { // the default, stored before anything else runs
		st, err := os.Stat(v)
		if err == nil && !st.IsDir() {
			err = syscall.ENOTDIR
		}
		if err != nil {
			var errno syscall.Errno
			if errors.As(err, &errno) {
				return errors.New(errText(errno))
			}
			return err
		}
	}
	s.cfg.AOF.Dir = v
	return nil
}

// applyAppendonly is CONFIG SET appendonly: yes opens a fresh incr file and
// starts a rewrite that writes the keyspace as the new base, as Redis's
// startAppendOnly does; no closes the AOF. Before the server runs (the
// config file), only the value is stored: aofStart acts on it.
func applyAppendonly(s *Server) error {
	if !s.aof.started {
		return nil
	}
	switch {
	case s.cfg.AOF.Enabled && s.aof.w == nil:
		if err := s.aofEnable(); err != nil {
			s.cfg.Logger.Printf("AOF: could not turn on: %v", err)
			return errors.New("Unable to turn on AOF. Check server logs.")
		}
	case !s.cfg.AOF.Enabled && s.aof.w != nil:
		s.aofDisable()
	}
	return nil
}

// applyAppendfsync changes the policy of the open AOF.
func applyAppendfsync(s *Server) error {
	if s.aof.w == nil {
		return nil
	}
	p, ok := aof.ParseFsync(s.cfg.AOF.Fsync)
	if !ok {
		panic("BUG: appendfsync " + strconv.Quote(s.cfg.AOF.Fsync) + " passed the table's check")
	}
	s.aof.w.SetPolicy(p)
	s.aof.policy = p
	return nil
}
