package ringkv_test

import (
	"go/build"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/ringkv/ringkv"

// allowedImports is DESIGN.md's import table, as policy: a package may import
// only the ringkv packages listed for it. Do not change this data to fix a
// build; a new edge is a design change that DESIGN.md and the package's doc.go
// must state first.
var allowedImports = map[string][]string{
	"cmd/ringkv-server":    {"conn", "store", "aof", "ring", "bench"},
	"cmd/ringkv-bench":     {"conn", "store", "aof", "ring", "bench", "conn/resp"},
	"cmd/ringkv-check-aof": {"aof", "conn/resp"},
	"conn":                 {"ring", "conn/resp", "store", "aof", "expire"},
	"store":                {"conn/resp", "expire"},
	"aof":                  {"conn/resp"},
	"bench":                {"conn/resp"},
	"ring":                 {},
	"expire":               {},
	"conn/resp":            {},
	"e2e":                  {"conn/resp"},
	"compat":               {"conn/resp"},
	// A generator run by hand (go run) that reads a redis-server and writes
	// store/command_specs.go; it imports no package of ours.
	"store/internal/specgen": {},
}

// noSync lists packages owned by one goroutine: they may not import sync or
// sync/atomic.
var noSync = map[string]bool{"store": true, "expire": true}

func TestImportPolicy(t *testing.T) {
	var pkgs []string
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "bin") && path != "." {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && filepath.Dir(path) != "." {
			pkgs = append(pkgs, filepath.ToSlash(filepath.Dir(path)))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(pkgs)
	seen := map[string]bool{}
	for _, dir := range pkgs {
		if seen[dir] {
			continue
		}
		seen[dir] = true
		allowed, known := allowedImports[dir]
		if !known {
			t.Errorf("package %s is not in the import table (DESIGN.md): add it with its allowed imports", dir)
			continue
		}
		p, err := build.ImportDir(dir, 0)
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		imports := append(append(p.Imports, p.TestImports...), p.XTestImports...)
		for _, imp := range imports {
			if noSync[dir] && (imp == "sync" || imp == "sync/atomic") {
				t.Errorf("%s imports %s: it is owned by one goroutine and must not", dir, imp)
			}
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			rel := strings.TrimPrefix(imp, module+"/")
			if rel == dir {
				continue
			}
			ok := false
			for _, a := range allowed {
				if a == rel {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s imports %s, which DESIGN.md's import table does not allow", dir, rel)
			}
		}
	}
}
