// Command ringkv-check-aof checks an AOF directory in Redis 7's layout (the
// manifest and every file it lists) the way ringkv-server loads it, as
// redis-check-aof does for redis-server:
//
//	ringkv-check-aof [--fix [--force]] <appendonlydir | file.manifest | file.aof>
//
// It reports each file with its commands, and the first damage with the file
// and the offset. Nothing is changed without --fix, and nothing at all when a
// problem cannot be fixed. --fix cuts a torn tail (the last record of the
// last file cut short, or a MULTI without its EXEC there) off the file, and
// creates the last incr file empty when it is missing (ringkv loads it so;
// redis-server 7.0 refuses to start). --fix --force also cuts the last file
// at damage in its middle, losing every command after it: redis-check-aof
// --fix does that after asking, ringkv wants it said. Damage in any other file
// is never "fixed": restore it from a backup. A file that is not a manifest
// is checked on its own, as redis-check-aof checks an old single-file AOF.
//
// Output goes to stdout, as redis-check-aof's. Exit status, as
// redis-check-aof's: 0 when the AOF loads (after a fix), 1 otherwise (and
// for a usage error). A base with an RDB preamble is reported and exits 1:
// ringkv cannot load it (redis-check-aof checks it and exits 0).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ringkv/ringkv/aof"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = "usage: ringkv-check-aof [--fix [--force]] <appendonlydir | file.manifest | file.aof>"

// run is the command without the process around it: args without the
// program's name; it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ringkv-check-aof", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fix := fs.Bool("fix", false, "cut a torn tail off the last file; create a missing last incr file")
	force := fs.Bool("force", false, "with --fix: also cut the last file at damage in its middle, losing every command after it")
	fs.Usage = func() {
		fmt.Fprintln(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 1
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 1
	}
	if *force && !*fix {
		fmt.Fprintln(stderr, "--force goes with --fix")
		return 1
	}
	files, err := locate(fs.Arg(0))
	if err != nil {
		fmt.Fprintln(stdout, err)
		return 1
	}
	return check(files, *fix, *force, stdout)
}

// file is one file to check, in load order.
type file struct {
	path string
	kind string // "base", "incr" or "file" (a file checked on its own)
	last bool   // the last one loaded: a torn tail there is cut at load
}

// problem is what is wrong with a file, if anything, and what --fix does.
type problem int

const (
	problemNone    problem = iota
	problemTorn            // a torn tail of the last file: --fix cuts it
	problemDamage          // damage in the last file: --fix --force cuts it
	problemMissing         // the last incr file is missing: --fix creates it
	problemFatal           // anything else: nothing to fix here
)

// check checks every file, then fixes the last one if that is the only
// problem and fix says so.
func check(files []file, fix, force bool, out io.Writer) int {
	var (
		worst    problem
		fixFile  file
		fixCheck aof.FileCheck
		commands int64
	)
	for _, f := range files {
		fc, p := checkOne(f, out)
		commands += fc.Commands
		if p == problemNone {
			continue
		}
		if p != problemFatal {
			fixFile, fixCheck = f, fc
		}
		worst = max(worst, p)
	}
	switch {
	case worst == problemNone:
		fmt.Fprintf(out, "the AOF is valid: %d files, %d commands\n", len(files), commands)
		return 0
	case worst == problemFatal:
		fmt.Fprintln(out, "the AOF is not valid")
		if fix {
			fmt.Fprintln(out, "nothing was changed: --fix repairs only the end of the last file")
		}
		return 1
	case !fix:
		switch worst {
		case problemTorn:
			fmt.Fprintf(out, "the AOF is not valid: run with --fix to cut the %d bytes of the torn tail off %s (ringkv-server with aof-load-truncated yes cuts them at start)\n",
				fixCheck.Size-fixCheck.Valid, fixFile.path)
		case problemDamage:
			fmt.Fprintf(out, "the AOF is not valid: this is not a torn tail; copy the directory aside, then --fix --force cuts %s at offset %d, dropping its last %d bytes and every command in them\n",
				fixFile.path, fixCheck.Valid, fixCheck.Size-fixCheck.Valid)
		case problemMissing:
			fmt.Fprintf(out, "the AOF is not valid for redis-server (ringkv-server loads it as empty): run with --fix to create %s empty\n", fixFile.path)
		}
		return 1
	case worst == problemDamage && !force:
		fmt.Fprintf(out, "nothing was changed: %s is damaged in the middle, not torn; --fix --force cuts it at offset %d, dropping its last %d bytes and every command in them\n",
			fixFile.path, fixCheck.Valid, fixCheck.Size-fixCheck.Valid)
		return 1
	}
	if worst == problemMissing {
		f, err := os.OpenFile(fixFile.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			err = f.Close()
		}
		if err != nil {
			fmt.Fprintf(out, "creating %s: %v\n", fixFile.path, err)
			return 1
		}
		fmt.Fprintf(out, "%s: created empty\n", fixFile.path)
	} else {
		if err := os.Truncate(fixFile.path, fixCheck.Valid); err != nil {
			fmt.Fprintf(out, "cutting %s: %v\n", fixFile.path, err)
			return 1
		}
		fmt.Fprintf(out, "%s: cut at offset %d (%d bytes dropped)\n", fixFile.path, fixCheck.Valid, fixCheck.Size-fixCheck.Valid)
	}
	// Check the fixed file again rather than trust the arithmetic.
	if _, p := checkOne(fixFile, out); p != problemNone {
		return 1
	}
	fmt.Fprintf(out, "the AOF is valid after the fix: %d files\n", len(files))
	return 0
}

// checkOne reports one file on a line of its own.
func checkOne(f file, out io.Writer) (aof.FileCheck, problem) {
	fc, err := aof.CheckFile(f.path, f.kind != "incr")
	label := f.path + " (" + f.kind + ")"
	var ce *aof.CorruptError
	switch {
	case errors.Is(err, os.ErrNotExist):
		if f.last && f.kind == "incr" {
			fmt.Fprintf(out, "%s: missing: the manifest names it; ringkv-server loads it as empty, redis-server 7.0 refuses to start\n", label)
			return fc, problemMissing
		}
		fmt.Fprintf(out, "%s: missing: the manifest names it; restore the directory from a backup\n", label)
		return fc, problemFatal
	case errors.Is(err, aof.ErrRDBPreamble):
		fmt.Fprintf(out, "%s: starts with an RDB preamble (aof-use-rdb-preamble yes), which ringkv cannot read: "+
			"check it with redis-check-aof; to move it to ringkv, start redis-server on it with --aof-use-rdb-preamble no and run BGREWRITEAOF\n", label)
		return fc, problemFatal
	case errors.As(err, &ce):
		fmt.Fprintf(out, "%s: damaged at offset %d: %s; %d commands load before offset %d, %d bytes after it do not\n",
			label, ce.Offset, ce.Reason, fc.Commands, fc.Valid, fc.Size-fc.Valid)
		if !f.last {
			fmt.Fprintf(out, "%s: not the last file, so it cannot be cut: restore the directory from a backup\n", f.path)
			return fc, problemFatal
		}
		return fc, problemDamage
	case err != nil:
		fmt.Fprintf(out, "%s: %v\n", label, err)
		return fc, problemFatal
	case fc.Valid < fc.Size:
		fmt.Fprintf(out, "%s: torn tail at offset %d: %d commands load, then %d bytes of a record cut short (or a MULTI without EXEC)\n",
			label, fc.Valid, fc.Commands, fc.Size-fc.Valid)
		if !f.last {
			fmt.Fprintf(out, "%s: not the last file, so it cannot be cut: restore the directory from a backup\n", f.path)
			return fc, problemFatal
		}
		return fc, problemTorn
	}
	fmt.Fprintf(out, "%s: ok: %d commands, %d bytes\n", label, fc.Commands, fc.Size)
	return fc, problemNone
}

// locate lists the files to check: those the manifest names when path is
// an AOF directory (one *.manifest inside) or a manifest, else path alone.
func locate(path string) ([]file, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cannot open %s: %v", path, errno(err))
	}
	var dir, manifest string
	switch {
	case st.IsDir():
		matches, _ := filepath.Glob(filepath.Join(path, "*.manifest"))
		var found []string
		for _, m := range matches {
			if !strings.HasPrefix(filepath.Base(m), "temp-") {
				found = append(found, m)
			}
		}
		if len(found) != 1 {
			return nil, fmt.Errorf("%s holds %d manifests (*.manifest); name the one to check", path, len(found))
		}
		dir, manifest = path, filepath.Base(found[0])
	case strings.HasSuffix(path, ".manifest"):
		dir, manifest = filepath.Dir(path), filepath.Base(path)
	default:
		return []file{{path: path, kind: "file", last: true}}, nil
	}
	m, err := aof.ReadManifest(dir, strings.TrimSuffix(manifest, ".manifest"))
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("cannot open the manifest %s: %v", pe.Path, pe.Err)
		}
		return nil, fmt.Errorf("bad manifest %v", err) // "path: manifest line N: why"
	}
	list := m.Files()
	files := make([]file, len(list))
	for i, fi := range list {
		kind := "incr"
		if fi.Type == aof.TypeBase {
			kind = "base"
		}
		files[i] = file{path: filepath.Join(dir, fi.Name), kind: kind, last: i == len(list)-1}
	}
	return files, nil
}

// errno is an *os.PathError's error without the op and path.
func errno(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
