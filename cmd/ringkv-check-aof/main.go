// Command ringkv-check-aof checks an AOF directory in Redis 7's layout (the
// manifest and every file it lists), as redis-check-aof does:
//
//	ringkv-check-aof [--fix [--force]] <appendonlydir | manifest file>
//
// It reports the files, their commands and the first damage. --fix cuts a
// torn tail (the last record of the last file cut short) off the file;
// --fix --force also cuts the last file at damage in its middle, losing
// every command after it. Damage in any other file is never "fixed": restore
// it from a backup. Exit status: 0 when the directory loads (after a fix),
// 1 otherwise.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ringkv/ringkv/aof"
)

func main() {
	fix := flag.Bool("fix", false, "cut a torn tail off the last file")
	force := flag.Bool("force", false, "with --fix: also cut the last file at damage in its middle")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: ringkv-check-aof [--fix [--force]] <appendonlydir | manifest>\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	os.Exit(run(flag.Arg(0), *fix, *force))
}

func run(path string, fix, force bool) int {
	dir, filename, err := locate(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ringkv-check-aof: %v\n", err)
		return 1
	}
	m, err := aof.ReadManifest(dir, filename)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ringkv-check-aof: %v\n", err)
		return 1
	}
	files := m.Files()
	for i, fi := range files {
		p := filepath.Join(dir, fi.Name)
		last := i == len(files)-1
		f, err := os.Open(p)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) && last && fi.Type == aof.TypeIncr {
				fmt.Printf("%s: missing (an empty incr file)\n", fi.Name)
				continue
			}
			fmt.Printf("%s: %v\n", fi.Name, err)
			return 1
		}
		n := 0
		valid, size, err := aof.Scan(f, func(argv [][]byte, off int64) error {
			if fi.Type == aof.TypeBase && off == 0 && len(argv) > 0 && strings.HasPrefix(string(argv[0]), "REDIS") {
				return aof.ErrRDBPreamble
			}
			n++
			return nil
		})
		f.Close()
		var ce *aof.CorruptError
		switch {
		case errors.As(err, &ce):
			fmt.Printf("%s: damaged at offset %d: %s (%d commands before it)\n", fi.Name, ce.Offset, ce.Reason, n)
			if !last || !fix || !force {
				if last {
					fmt.Println("this is not a torn tail: --fix --force cuts the file at this offset, losing every command after it")
				} else {
					fmt.Println("the damage is not in the last file: restore the directory from a backup")
				}
				return 1
			}
			if err := os.Truncate(p, ce.Offset); err != nil {
				fmt.Printf("cutting %s: %v\n", fi.Name, err)
				return 1
			}
			fmt.Printf("%s: cut at offset %d\n", fi.Name, ce.Offset)
			continue
		case err != nil:
			fmt.Printf("%s: %v\n", fi.Name, err)
			return 1
		}
		if valid == size {
			fmt.Printf("%s: ok, %d commands, %d bytes\n", fi.Name, n, size)
			continue
		}
		fmt.Printf("%s: torn tail: %d commands, then %d bytes of a record cut short at offset %d\n", fi.Name, n, size-valid, valid)
		if !last {
			fmt.Println("a file before the last one is cut short: restore the directory from a backup")
			return 1
		}
		if !fix {
			fmt.Println("run with --fix to cut the torn tail off")
			return 1
		}
		if err := os.Truncate(p, valid); err != nil {
			fmt.Printf("cutting %s: %v\n", fi.Name, err)
			return 1
		}
		fmt.Printf("%s: torn tail of %d bytes cut off; the directory loads\n", fi.Name, size-valid)
	}
	return 0
}

// locate accepts the directory (one *.manifest inside) or the manifest.
func locate(path string) (dir, filename string, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", "", err
	}
	if !st.IsDir() {
		base := filepath.Base(path)
		if !strings.HasSuffix(base, ".manifest") {
			return "", "", fmt.Errorf("%s is neither an AOF directory nor a .manifest file", path)
		}
		return filepath.Dir(path), strings.TrimSuffix(base, ".manifest"), nil
	}
	matches, _ := filepath.Glob(filepath.Join(path, "*.manifest"))
	var found []string
	for _, m := range matches {
		if !strings.HasPrefix(filepath.Base(m), "temp-") {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		return "", "", fmt.Errorf("%s holds %d manifests; name the one to check", path, len(found))
	}
	return path, strings.TrimSuffix(filepath.Base(found[0]), ".manifest"), nil
}
