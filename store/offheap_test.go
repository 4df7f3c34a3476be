package store

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// offheapTypes are the element types this package maps off the Go heap. Each
// must hold no Go pointers (TestOffheapPointerFree); TestOffheapTypesListed
// keeps the list complete.
var offheapTypes = []any{entry{}, slot{}, byte(0), uint64(0), zslNode{}, zslLevel{}, listRef{}}

// typeHasPointers reports whether a value of typ can hold a Go pointer.
func typeHasPointers(typ reflect.Type) bool {
	switch typ.Kind() {
	case reflect.Struct:
		for i := range typ.NumField() {
			if typeHasPointers(typ.Field(i).Type) {
				return true
			}
		}
		return false
	case reflect.Array:
		return typ.Len() > 0 && typeHasPointers(typ.Elem())
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return false
	}
	return true // pointer, unsafe.Pointer, slice, string, map, chan, func, interface
}

// TestOffheapPointerFree: the GC never looks inside a mapping, so a Go
// pointer stored there would not keep its target alive.
func TestOffheapPointerFree(t *testing.T) {
	for _, v := range offheapTypes {
		if typ := reflect.TypeOf(v); typeHasPointers(typ) {
			t.Errorf("%v holds pointers: it must not live off the Go heap", typ)
		}
	}
	for _, v := range []any{struct{ p *int }{}, struct{ s []byte }{}, [2]any{}, unsafe.Pointer(nil)} {
		if !typeHasPointers(reflect.TypeOf(v)) {
			t.Errorf("typeHasPointers misses the pointer in %T", v)
		}
	}
}

// TestOffheapTypesListed: every element type named in an offheap call of
// the package's sources, and every off-heap field, is in offheapTypes.
func TestOffheapTypesListed(t *testing.T) {
	listed := map[string]bool{}
	for _, v := range offheapTypes {
		listed[reflect.TypeOf(v).Name()] = true
	}
	listed["byte"] = listed["uint8"]
	// Explicit instantiations (offheapSetAlloc[slot]); calls that infer T
	// take a slice that one of these made, or a field checked below.
	inst := regexp.MustCompile(`(?:offheap|coll)\w*\[(\w+)\]\(`)
	files, _ := filepath.Glob("*.go")
	found := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "offheap.go" || f == "collmem.go" { // the generic T
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range inst.FindAllStringSubmatch(string(src), -1) {
			found++
			if !listed[m[1]] {
				t.Errorf("%s maps []%s off the heap: add it to offheapTypes", f, m[1])
			}
		}
	}
	if found == 0 {
		t.Fatal("no offheap instantiation found: the pattern is stale")
	}
	for _, typ := range []reflect.Type{
		reflect.TypeOf(Table{}.entries).Elem(), reflect.TypeOf(Table{}.cur).Elem(),
		reflect.TypeOf(arena{}.chunks).Elem().Elem(),
		// collGrow and collClone infer T from these fields.
		reflect.TypeOf(dict{}.recs).Elem(), reflect.TypeOf(zskiplist{}.nodes).Elem(),
		reflect.TypeOf(zskiplist{}.levels).Elem(), reflect.TypeOf(list{}.buf).Elem(),
	} {
		if !listed[typ.Name()] {
			t.Errorf("off-heap field of %v: add it to offheapTypes", typ)
		}
	}
}

// mapped reports whether the pages of s are mapped (msync fails with ENOMEM
// on a range that is not). It reads nothing through s.
func mapped[T any](tb testing.TB, s []T) bool {
	n := offheapMappedBytes[T](cap(s))
	err := unix.Msync(unsafe.Slice((*byte)(offheapAddr(s)), n), unix.MS_ASYNC)
	switch err {
	case nil:
		return true
	case unix.ENOMEM:
		return false
	}
	tb.Fatalf("msync: %v", err)
	return false
}

func TestOffheapAllocZeroed(t *testing.T) {
	if s := offheapAlloc[entry](0); s != nil {
		t.Fatalf("offheapAlloc(0) = %d elements, want nil", cap(s))
	}
	check := func(name string, n, size, capElems int, zero bool) {
		t.Helper()
		if capElems < n || capElems*size > offheapMappedBytes[byte](n*size) || (capElems+1)*size <= offheapMappedBytes[byte](n*size) {
			t.Errorf("%s: %d elements of %d bytes: cap %d, want every element of the mapped pages", name, n, size, capElems)
		}
		if !zero {
			t.Errorf("%s: %d elements: not zeroed", name, n)
		}
	}
	for _, n := range []int{1, 7, 85, 86, 1000, 100_000} {
		b := offheapAlloc[byte](n)
		check("byte", n, 1, cap(b), allZero(b[:cap(b)]))
		if len(b) != n {
			t.Fatalf("len %d, want %d", len(b), n)
		}
		for i, all := 0, b[:cap(b)]; i < len(all); i++ { // every byte of the mapping is writable
			all[i] = 0xAA
		}
		offheapFree(b)

		e := offheapAlloc[entry](n)
		check("entry", n, int(unsafe.Sizeof(entry{})), cap(e), allZero(unsafe.Slice((*byte)(offheapAddr(e)), cap(e)*int(unsafe.Sizeof(entry{})))))
		e[len(e)-1].hash = 1
		offheapFree(e)

		s := offheapAlloc[slot](n)
		check("slot", n, int(unsafe.Sizeof(slot{})), cap(s), allZero(unsafe.Slice((*byte)(offheapAddr(s)), cap(s)*int(unsafe.Sizeof(slot{})))))
		offheapFree(s)
	}
}

func allZero(b []byte) bool {
	for _, v := range b {
		if v != 0 {
			return false
		}
	}
	return true
}

// TestOffheapGrowKeepsContents grows an array far enough that mremap must
// move it, checking the old elements survive and the new ones are zero.
func TestOffheapGrowKeepsContents(t *testing.T) {
	pattern := func(i int) slot { return slot{tag: uint32(i), ref: uint32(i) ^ 0x55} }
	var s []slot // from nil, the first grow allocates
	moves := 0
	for want := 1; want < 4<<20; want = want*5/4 + 1 {
		// A mapping made right after s often sits next to it, so that
		// growing in place is impossible and mremap must move s.
		blocker := offheapAlloc[byte](1)
		old, n := offheapAddr(s), len(s)
		s = offheapGrow(s, want)
		if len(s) != n || cap(s) < want {
			t.Fatalf("grow to %d: len %d cap %d, want len %d", want, len(s), cap(s), n)
		}
		if n > 0 && offheapAddr(s) != old {
			moves++
		}
		for i, v := range s {
			if v != pattern(i) {
				t.Fatalf("grow to %d: element %d = %+v, want %+v", want, i, v, pattern(i))
			}
		}
		for i, v := range s[n:cap(s)] {
			if v != (slot{}) {
				t.Fatalf("grow to %d: new element %d not zero: %+v", want, n+i, v)
			}
		}
		s = s[:want]
		for i := n; i < want; i++ {
			s[i] = pattern(i)
		}
		offheapFree(blocker)
	}
	t.Logf("%d of the grows moved the mapping", moves)
	if got := offheapGrow(s, 1); len(got) != len(s) || offheapAddr(got) != offheapAddr(s) {
		t.Fatal("a grow to less than cap changed the slice")
	}
	offheapFree(s)
}

func TestOffheapFree(t *testing.T) {
	offheapFree[entry](nil) // no-op
	s := offheapAlloc[byte](3 * offheapPageBytes)
	if !mapped(t, s) {
		t.Fatal("fresh mapping not mapped")
	}
	offheapFree(s[:1]) // a shorter len frees the whole mapping (cap)
	if mapped(t, s) {
		t.Fatal("still mapped after offheapFree")
	}
}

func TestOffheapSet(t *testing.T) {
	set := newOffheapSet()
	a := offheapSetAlloc[slot](set, 8)
	b := offheapSetAlloc[byte](set, arenaChunkMinBytes)
	var e []entry
	e = offheapSetGrow(set, e, 1)
	e = offheapSetGrow(set, e, 10_000)
	want := offheapMappedBytes[slot](cap(a)) + arenaChunkMinBytes + offheapMappedBytes[entry](cap(e))
	if set.bytes != want || len(set.mapped) != 3 {
		t.Fatalf("set holds %d bytes in %d mappings, want %d in 3", set.bytes, len(set.mapped), want)
	}
	offheapSetFree(set, a)
	if mapped(t, a) || set.bytes != want-offheapPageBytes {
		t.Fatalf("after freeing a: mapped %v, set %d bytes", mapped(t, a), set.bytes)
	}
	set.freeAll()
	if mapped(t, b) || mapped(t, e) || set.bytes != 0 || len(set.mapped) != 0 {
		t.Fatalf("after freeAll: set %d bytes in %d mappings", set.bytes, len(set.mapped))
	}
}

// TestTableCleanupUnmaps: a table dropped without Clear gives its mappings
// back once the GC finds it unreachable. The cleanup runs on another
// goroutine, so the test watches the kernel (msync), not the set.
func TestTableCleanupUnmaps(t *testing.T) {
	regions := func() [][]byte {
		tbl := NewTable()
		for i := range 10_000 {
			tbl.SetStr(tbl.Add(fmt.Appendf(nil, "k%d", i)), []byte("v"))
		}
		var r [][]byte
		for addr, n := range tbl.maps.mapped {
			r = append(r, unsafe.Slice((*byte)(addr), n))
		}
		return r
	}()
	if len(regions) < 3 {
		t.Fatalf("a table of 10000 keys holds %d mappings, want entries, index and arena", len(regions))
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, r := range regions {
		for mapped(t, r) {
			if time.Now().After(deadline) {
				t.Fatalf("a dropped table still maps %d bytes at %p", len(r), offheapAddr(r))
			}
			runtime.GC()
			time.Sleep(time.Millisecond)
		}
	}
}

// TestTableClearUnmaps: Clear gives back everything but the smallest index.
func TestTableClearUnmaps(t *testing.T) {
	tbl := NewTable()
	empty := tbl.maps.bytes
	for i := range 100_000 {
		tbl.SetStr(tbl.Add(fmt.Appendf(nil, "key:%d", i)), []byte("value"))
	}
	for tbl.RehashStep(1 << 20) {
	}
	chunks := tbl.arena.chunks
	tbl.Clear()
	if tbl.maps.bytes != empty || len(tbl.maps.mapped) != 1 {
		t.Fatalf("after Clear the table maps %d bytes in %d mappings, want %d in 1", tbl.maps.bytes, len(tbl.maps.mapped), empty)
	}
	for i, c := range chunks {
		if mapped(t, c) {
			t.Fatalf("arena chunk %d still mapped after Clear", i)
		}
	}
}

// TestTableMemoryOffHeap is the point of offheap.go: a million keys (the
// shape scripts/bench-vs-redis.sh loads: key:N, 32-byte values) leave the
// Go heap nearly empty, and what the table maps is close to what it uses.
func TestTableMemoryOffHeap(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	var m0, m1, m2 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m0)
	tbl := NewTable()
	val := []byte("vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv")
	key := make([]byte, 0, 32)
	for i := range n {
		key = fmt.Appendf(key[:0], "key:%d", i)
		tbl.SetStr(tbl.Add(key), val)
	}
	for tbl.RehashStep(1 << 20) {
	}
	runtime.ReadMemStats(&m1) // before a GC: garbage would show here
	runtime.GC()
	runtime.ReadMemStats(&m2)
	const mb = 1 << 20
	grown := func(m *runtime.MemStats) int64 { return int64(m.HeapInuse) - int64(m0.HeapInuse) }
	// Live: the arena blocks handed out, the ids in use, the index (at most
	// 3/4 full by design, so its full size counts as live).
	live := tbl.arena.liveBytes + len(tbl.entries)*int(unsafe.Sizeof(entry{})) + len(tbl.cur)*int(unsafe.Sizeof(slot{}))
	t.Logf("%d keys: Go heap in use +%d MiB before GC, +%d MiB after (total %d MiB); mapped %d MiB for %d MiB live; MemoryBytes %d MiB",
		n, grown(&m1)/mb, grown(&m2)/mb, m2.HeapInuse/mb, tbl.maps.bytes/mb, live/mb, tbl.MemoryBytes()/mb)
	if grown(&m1) > 20*mb || grown(&m2) > 20*mb {
		t.Errorf("Go heap grew by %d MiB (before GC) and %d MiB (after) for %d keys, want < 20 MiB: the table's arrays are on the heap",
			grown(&m1)/mb, grown(&m2)/mb, n)
	}
	// Slack: entries grow by 1.25x, the last arena chunk is at most
	// arenaChunkMaxBytes unused.
	if limit := live*5/4 + arenaChunkMaxBytes; tbl.maps.bytes > limit {
		t.Errorf("table maps %d bytes for %d live, want at most %d", tbl.maps.bytes, live, limit)
	}
	if mb := tbl.MemoryBytes(); mb < tbl.maps.bytes || mb > tbl.maps.bytes+1<<20 {
		t.Errorf("MemoryBytes %d, mapped %d: want the mapped bytes plus small bookkeeping", mb, tbl.maps.bytes)
	}
	tbl.Clear()
}
