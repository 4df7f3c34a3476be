package main

import (
	"runtime"
	"testing"
	"time"
)

func TestMemReleaseExcess(t *testing.T) {
	for _, c := range []struct {
		live, held uint64
		want       bool
	}{
		{0, 0, false},
		{100 << 20, 100 << 20, false},
		{100 << 20, 130 << 20, false}, // 30 MB over: below the 32 MB slack
		{100 << 20, 140 << 20, true},  // 40 MB over 100 MB live
		{400 << 20, 480 << 20, false}, // 80 MB over: below a quarter of live
		{400 << 20, 520 << 20, true},  // 120 MB over
		{100 << 20, 90 << 20, false},  // held below live (metrics read between a GC's phases)
	} {
		if got := memReleaseExcess(c.live, c.held); got != c.want {
			t.Errorf("memReleaseExcess(%d MB live, %d MB held) = %v, want %v", c.live>>20, c.held>>20, got, c.want)
		}
	}
}

// TestMemReleaserReturnsGarbage leaves 96 MB of touched, dead arrays on the
// heap (what outgrown collection arrays are) and checks that the process's
// releaser hands them back: the heap the process holds
// returns to within the slack of its live data. It waits for the releaser's
// period; it asserts what happens, not how fast.
func TestMemReleaserReturnsGarbage(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the releaser's period")
	}
	startMemReleaser()
	var keep [][]byte
	for range 96 {
		b := make([]byte, 1<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1 // resident, as a filled array is
		}
		keep = append(keep, b)
	}
	runtime.KeepAlive(keep)
	keep = nil
	// The releaser sees garbage once a collection has found it dead; the
	// runtime makes one as the heap grows, this test makes it at once.
	runtime.GC()
	if !memReleaseDue() {
		t.Fatal("96 MB of dead arrays do not count as excess: the test would prove nothing")
	}
	for deadline := time.Now().Add(30 * time.Second); memReleaseDue(); {
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s the heap still holds more than the slack beyond its live data: %+v", memReleaseSamples)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
