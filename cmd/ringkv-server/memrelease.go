package main

import (
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// Returning garbage to the kernel.
//
// Why. The store's tables live off the Go heap (store/offheap.go), and so do
// the big arrays of large hashes, sets and sorted sets (store/collmem.go),
// but lists, the collections' arrays under 1 MiB and their record chunks stay
// on it, and the arrays grow by reallocation: every growth leaves the old
// array behind as garbage. (Before collections' arrays moved off the heap:) A collection loaded to a million members leaves several times
// its final size in dead arrays, spread over spans too small to hold the
// next, bigger array. The garbage collector frees them, but the runtime's
// own scavenger gives free pages back to the kernel only down to its heap
// goal and slowly, so the process's RSS stays at the high-water mark, well
// above the live data (measured after loading a 1M-member sorted set and a
// 1M-field hash: 267 MB RSS, against 205 MB for redis-server; with this
// releaser, 158 MB).
//
// What. One goroutine in the process (main starts it) looks once per
// memReleaseEvery at how much heap memory the process holds beyond the live
// data of the last collection (garbage counts once a collection found it,
// which the runtime makes as the heap grows); past memReleaseSlack (and a
// quarter of the live data) it forces a collection and returns every free page (debug.FreeOSMemory). It runs off
// the event loop's thread: the collection is concurrent, the scan is cheap
// (the big arrays hold no pointers), and the owner goroutine keeps serving.
// A steady server allocates nothing, so once the heap is back near its live
// size this costs one metrics read per period.
const (
	memReleaseEvery = 2 * time.Second
	memReleaseSlack = 32 << 20
)

var memReleaseOnce sync.Once

// startMemReleaser starts the process's releaser, once.
func startMemReleaser() {
	memReleaseOnce.Do(func() { go memReleaseLoop() })
}

var memReleaseSamples = []metrics.Sample{
	{Name: "/gc/heap/live:bytes"},
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/memory/classes/heap/free:bytes"},
	{Name: "/memory/classes/heap/unused:bytes"},
}

func memReleaseLoop() {
	for {
		time.Sleep(memReleaseEvery)
		if memReleaseDue() {
			debug.FreeOSMemory()
		}
	}
}

// memReleaseDue says the heap holds, in dead objects and free pages not yet
// returned, more than memReleaseSlack and a quarter of the live data.
func memReleaseDue() bool {
	metrics.Read(memReleaseSamples)
	v := func(i int) uint64 {
		if memReleaseSamples[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return memReleaseSamples[i].Value.Uint64()
	}
	live := v(0)
	held := v(1) + v(2) + v(3) // objects (live and dead) + free and unused pages still mapped
	return memReleaseExcess(live, held)
}

func memReleaseExcess(live, held uint64) bool {
	return held > live && held-live > max(memReleaseSlack, live/4)
}
