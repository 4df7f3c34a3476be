package expire

import (
	"flag"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// seedFlag replays a randomised test: go test ./expire -run Model -seed N.
var seedFlag = flag.Int64("seed", 0, "seed for randomised expire tests (0: time-based)")

// testSeed returns the -seed flag or a fresh time-based seed, and logs it.
func testSeed(tb testing.TB) int64 {
	tb.Helper()
	s := *seedFlag
	if s == 0 {
		s = time.Now().UnixNano()
	}
	tb.Logf("seed %d (replay: go test ./expire -run %s -seed %d)", s, tb.Name(), s)
	return s
}

// model is the brute-force reference: every live timer by value.
type model struct {
	timers map[uint64]modelTimer
	values []uint64       // the keys of timers, for picking one at random
	pos    map[uint64]int // value -> index in values
	dead   []Handle       // handles that must be stale
}

type modelTimer struct {
	deadlineMs int64
	h          Handle
}

func newModel() *model {
	return &model{timers: map[uint64]modelTimer{}, pos: map[uint64]int{}}
}

func (m *model) add(value uint64, t modelTimer) {
	m.timers[value] = t
	m.pos[value] = len(m.values)
	m.values = append(m.values, value)
}

func (m *model) remove(value uint64) {
	t := m.timers[value]
	delete(m.timers, value)
	p := m.pos[value]
	last := m.values[len(m.values)-1]
	m.values[p] = last
	m.pos[last] = p
	m.values = m.values[:len(m.values)-1]
	delete(m.pos, value)
	if len(m.dead) < 1000 {
		m.dead = append(m.dead, t.h)
	} else {
		m.dead[int(value)%len(m.dead)] = t.h
	}
}

func (m *model) minDeadline() int64 {
	d := int64(math.MaxInt64)
	for _, t := range m.timers {
		d = min(d, t.deadlineMs)
	}
	return d
}

// addSat returns a+b for b >= 0, saturated at math.MaxInt64.
func addSat(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

const (
	dayMs  = 24 * 3600 * 1000
	yearMs = 365 * dayMs
)

// randDeadline draws a deadline relative to nowMs, skewed towards short TTLs
// but reaching past, present, years, the levels' span and math.MaxInt64.
func randDeadline(rng *rand.Rand, nowMs int64) int64 {
	switch r := rng.IntN(100); {
	case r < 4:
		return nowMs - rng.Int64N(1000)
	case r < 8:
		return nowMs
	case r < 40:
		return addSat(nowMs, 1+rng.Int64N(300))
	case r < 60:
		return addSat(nowMs, rng.Int64N(100_000))
	case r < 75:
		return addSat(nowMs, rng.Int64N(20*dayMs))
	case r < 87:
		return addSat(nowMs, rng.Int64N(50*yearMs))
	case r < 93:
		return addSat(nowMs, rng.Int64N(1<<51))
	case r < 97:
		// Either side of the next multiple of 2^wheelBits.
		wrap := addSat(nowMs>>wheelBits<<wheelBits, 1<<wheelBits)
		return max(nowMs, wrap-500+rng.Int64N(1000))
	default:
		return math.MaxInt64 - rng.Int64N(3)
	}
}

// randStep draws how far the clock moves: mostly a few ms, sometimes
// minutes, days, years or a whole wheel span after an idle period.
func randStep(rng *rand.Rand, nowMs int64, m *model) int64 {
	switch r := rng.IntN(100); {
	case r < 15:
		return nowMs
	case r < 55:
		return addSat(nowMs, rng.Int64N(4))
	case r < 75:
		return addSat(nowMs, rng.Int64N(600))
	case r < 85:
		return addSat(nowMs, rng.Int64N(200_000))
	case r < 91:
		return addSat(nowMs, rng.Int64N(40*dayMs))
	case r < 93:
		return addSat(nowMs, rng.Int64N(100*yearMs))
	case r < 94:
		return addSat(nowMs, rng.Int64N(1<<50))
	default:
		// Land on, or just before, the earliest deadline if it is not too
		// far: the clock should not race to the end of time.
		d := m.minDeadline()
		if d <= nowMs || d-nowMs > 100*yearMs {
			return nowMs
		}
		return d - rng.Int64N(2)
	}
}

// randStart picks the clock's starting point: realistic unix ms, near 0, or
// just before a level or wheel boundary so that wraps are exercised.
func randStart(rng *rand.Rand) int64 {
	switch rng.IntN(5) {
	case 0:
		return rng.Int64N(1000)
	case 1:
		return (1+rng.Int64N(3))<<wheelBits - rng.Int64N(100_000)
	case 2:
		return (1+rng.Int64N(1000))<<32 - rng.Int64N(1000)
	case 3:
		return math.MaxInt64 - 10*yearMs
	default:
		return 1_700_000_000_000 + rng.Int64N(100*yearMs)
	}
}

// TestWheelModel runs random adds, cancels, updates and advances against
// the brute-force model and checks, after each Advance call: no more than
// maxFire fired; each fired timer was live, due, and fires once; when more
// is false nothing due is left; NextWakeMs is never after the earliest
// deadline. Stale handles must be no-ops. Replay with -seed.
func TestWheelModel(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(uint64(seed), 2))
	epochs, opsPerEpoch := 30, 20_000
	if testing.Short() {
		epochs = 5
	}
	var (
		nowMs      int64
		w          *Wheel
		m          *model
		nextValue  = uint64(1)
		targetLive int
		events     uint64
		minEndMs   = int64(math.MaxInt64)
	)

	fail := func(op int, format string, args ...any) {
		t.Helper()
		t.Fatalf("seed %d op %d now %d: "+format, append([]any{seed, op, nowMs}, args...)...)
	}
	checkWake := func(op int, drained bool) {
		t.Helper()
		if w.Len() != len(m.timers) {
			fail(op, "Len %d, model %d", w.Len(), len(m.timers))
		}
		wake, minD := w.NextWakeMs(), m.minDeadline()
		if wake > minD {
			fail(op, "NextWakeMs %d after the earliest deadline %d", wake, minD)
		}
		if len(m.timers) == 0 && wake != math.MaxInt64 {
			fail(op, "no timers, NextWakeMs %d", wake)
		}
		if drained && wake <= nowMs && nowMs != math.MaxInt64 {
			fail(op, "drained, yet NextWakeMs %d <= now", wake)
		}
	}

	var op, fired, maxFire int
	var inFire bool
	fire := func(value uint64) {
		fired++
		mt, ok := m.timers[value]
		if !ok {
			fail(op, "fired value %d: not live (cancelled, fired before, or never added)", value)
		}
		if mt.deadlineMs > nowMs {
			fail(op, "fired value %d with deadline %d before its time", value, mt.deadlineMs)
		}
		if _, ok := w.Deadline(mt.h); ok {
			fail(op, "fired value %d: handle still live inside the callback", value)
		}
		m.remove(value)
		// The callback may change the wheel (the store deletes other keys).
		if inFire {
			return
		}
		inFire = true
		switch rng.IntN(40) {
		case 0:
			if len(m.values) > 0 {
				v := m.values[rng.IntN(len(m.values))]
				if !w.Cancel(m.timers[v].h) {
					fail(op, "Cancel in fire: live handle refused")
				}
				m.remove(v)
			}
		case 1:
			d := randDeadline(rng, nowMs)
			v := nextValue
			nextValue++
			m.add(v, modelTimer{deadlineMs: d, h: w.Add(d, v)})
		}
		inFire = false
	}

	// endEpoch checks the wheel, then fires everything still live, exactly
	// once, at the end of time.
	endEpoch := func() {
		t.Helper()
		if err := checkInvariants(w); err != nil {
			fail(op, "%v", err)
		}
		minEndMs = min(minEndMs, nowMs)
		nowMs = math.MaxInt64
		for w.Advance(nowMs, 1+rng.IntN(64), fire) {
		}
		if len(m.timers) != 0 || w.Len() != 0 {
			fail(op, "after the end of time: model %d, wheel %d", len(m.timers), w.Len())
		}
		if err := checkInvariants(w); err != nil {
			fail(op, "%v", err)
		}
		events += w.events
	}

	for op = 0; op < epochs*opsPerEpoch; op++ {
		if op%opsPerEpoch == 0 {
			if w != nil {
				endEpoch()
			}
			// A fresh wheel and clock: each epoch starts somewhere else.
			nowMs = randStart(rng)
			w = New(nowMs)
			m = newModel()
			targetLive = 1 + rng.IntN(3000)
		}
		switch r := rng.IntN(100); {
		case r < 40 && len(m.timers) < targetLive || r < 20:
			d := randDeadline(rng, nowMs)
			v := nextValue
			nextValue++
			h := w.Add(d, v)
			if h == 0 {
				fail(op, "Add returned the zero handle")
			}
			m.add(v, modelTimer{deadlineMs: d, h: h})
		case r < 55:
			if len(m.values) == 0 {
				continue
			}
			v := m.values[rng.IntN(len(m.values))]
			if !w.Cancel(m.timers[v].h) {
				fail(op, "Cancel of a live handle returned false")
			}
			m.remove(v)
		case r < 70:
			if len(m.values) == 0 {
				continue
			}
			v := m.values[rng.IntN(len(m.values))]
			mt := m.timers[v]
			mt.deadlineMs = randDeadline(rng, nowMs)
			if !w.Update(mt.h, mt.deadlineMs) {
				fail(op, "Update of a live handle returned false")
			}
			m.timers[v] = mt
		case r < 74:
			if len(m.dead) == 0 {
				continue
			}
			h := m.dead[rng.IntN(len(m.dead))]
			if rng.IntN(2) == 0 {
				if w.Cancel(h) {
					fail(op, "Cancel of stale handle %#x returned true", h)
				}
			} else if w.Update(h, randDeadline(rng, nowMs)) {
				fail(op, "Update of stale handle %#x returned true", h)
			}
		case r < 75:
			targetLive = 1 + rng.IntN(3000)
		default:
			nowMs = randStep(rng, nowMs, m)
			maxFire = 1 + rng.IntN(8)
			// Usually drain; sometimes stop after one call, as a loop turn
			// does, and let other operations run before the next call.
			drain := rng.IntN(4) != 0
			for calls := 0; ; calls++ {
				if calls > 10_000_000 {
					fail(op, "Advance never reports done")
				}
				fired = 0
				more := w.Advance(nowMs, maxFire, fire)
				if fired > maxFire {
					fail(op, "%d fired in one call, maxFire %d", fired, maxFire)
				}
				if !more {
					for v, mt := range m.timers {
						if mt.deadlineMs <= nowMs {
							fail(op, "value %d with deadline %d is due but did not fire", v, mt.deadlineMs)
						}
					}
					checkWake(op, true)
					break
				}
				checkWake(op, false)
				if !drain {
					break
				}
			}
		}
		if op%997 == 0 {
			if err := checkInvariants(w); err != nil {
				fail(op, "%v", err)
			}
		}
	}
	endEpoch()
	t.Logf("%d ops, %d timers, %d cascade events; earliest end of an epoch %d", op, nextValue-1, events, minEndMs)
}
