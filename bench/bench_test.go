package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func workload(t *testing.T, name string) Workload {
	t.Helper()
	w, err := WorkloadByName(name)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func near(got, want, relTol float64) bool { return math.Abs(got-want) <= relTol*math.Abs(want) }

// Percentiles of known distributions, read back within HdrHistogram's 3
// significant digits (a relative error of 0.1%, here allowed 0.2%).
func TestPercentilesKnownDistributions(t *testing.T) {
	t.Run("uniform 1..10000 us", func(t *testing.T) {
		h := newHist()
		for v := int64(1); v <= 10000; v++ {
			h.RecordValue(v * 1000)
		}
		l := summarize(h)
		for _, c := range []struct {
			name      string
			got, want float64
		}{
			{"min", l.MinUs, 1}, {"p50", l.P50Us, 5000}, {"p95", l.P95Us, 9500}, {"p99", l.P99Us, 9900},
			{"p99.9", l.P999Us, 9990}, {"max", l.MaxUs, 10000}, {"mean", l.MeanUs, 5000.5},
		} {
			if !near(c.got, c.want, 0.002) {
				t.Errorf("%s = %v us, want %v", c.name, c.got, c.want)
			}
		}
	})
	t.Run("exponential mean 100 us", func(t *testing.T) {
		// Quantile q of an exponential with mean m is -m ln(1-q); with a
		// million samples the sample quantiles are within 1% up to p99.9.
		rng := rand.New(rand.NewPCG(7, 7))
		h := newHist()
		for range 1000000 {
			h.RecordValue(int64(rng.ExpFloat64() * 100e3))
		}
		l := summarize(h)
		for _, c := range []struct {
			q   float64
			got float64
		}{{0.50, l.P50Us}, {0.95, l.P95Us}, {0.99, l.P99Us}, {0.999, l.P999Us}} {
			want := -100 * math.Log(1-c.q)
			if !near(c.got, want, 0.03) {
				t.Errorf("p%v = %.2f us, want %.2f", c.q*100, c.got, want)
			}
		}
	})
	t.Run("bimodal 99% fast 1% slow", func(t *testing.T) {
		h := newHist()
		h.RecordValues(50e3, 9900) // 50 us
		h.RecordValues(20e6, 100)  // 20 ms
		l := summarize(h)
		if !near(l.P99Us, 50, 0.002) || !near(l.P999Us, 20000, 0.002) || !near(l.MaxUs, 20000, 0.002) {
			t.Errorf("p99 %v p99.9 %v max %v, want 50, 20000, 20000", l.P99Us, l.P999Us, l.MaxUs)
		}
	})
}

func TestCorrectedCopy(t *testing.T) {
	// One 100 ms stall at an expected interval of 1 ms stands for the 99
	// requests a steady sender would have sent during it: 99, 98, ... 1 ms.
	h := newHist()
	h.RecordValues(1e6, 1000)
	h.RecordValue(100e6)
	c := correctedCopy(h, 1e6)
	if got := c.TotalCount(); got != 1000+1+99 {
		t.Fatalf("corrected count %d, want 1100", got)
	}
	// Sorted: 1001 values of 1 ms, then 2..100 ms; rank 1045 of 1100 is 45 ms.
	if got := float64(c.ValueAtPercentile(95)); !near(got, 45e6, 0.01) {
		t.Errorf("corrected p95 %v ns, want 45 ms", got)
	}
	if c.Max() != h.Max() {
		t.Errorf("max changed: %d -> %d", h.Max(), c.Max())
	}
}

// The connections' schedules interleave into one schedule of period 1/rate.
func TestRateSchedule(t *testing.T) {
	for _, c := range []struct {
		conns int
		rate  float64
	}{{1, 1000}, {4, 1000}, {7, 12345}, {50, 100000}} {
		r := &run{cfg: &Config{Conns: c.conns, Rate: c.rate}}
		var times []int64
		for i := range c.conns {
			cl := &client{r: r, index: i}
			cl.initOpen()
			for k := range uint64(100) {
				times = append(times, cl.intended(k))
			}
		}
		sortInt64(times)
		period := 1e9 / c.rate
		for i, tm := range times {
			if want := float64(i) * period; math.Abs(float64(tm)-want) > 1 {
				t.Fatalf("conns %d rate %v: send %d at %d ns, want %.0f", c.conns, c.rate, i, tm, want)
			}
		}
	}
}

func sortInt64(xs []int64) {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && xs[j] < xs[j-1]; j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}

// An open-loop run sends exactly the scheduled requests: those whose
// intended time falls in the measured window.
func TestOpenLoopSendsTheSchedule(t *testing.T) {
	s := startTestServer(t, 0, 0)
	res, err := Run(context.Background(), Config{Addr: s.addr(), Workload: workload(t, "ping"), Conns: 4,
		Rate: 2000, Duration: time.Second, Warmup: 200 * time.Millisecond, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.All.Requests != 2000 {
		t.Errorf("recorded %d requests, want 2000 (2000/s for 1 s)", res.All.Requests)
	}
	if res.SendLag == nil {
		t.Error("open-loop result has no send lag")
	}
}

// Coordinated omission: the server stalls once for 100 ms. The open loop
// counts the stall against every request scheduled during it, so p99.9 shows
// it; the closed loop records it once per connection, and must say so rather
// than report clean percentiles silently.
func TestCoordinatedOmission(t *testing.T) {
	const stall = 100 * time.Millisecond
	t.Run("open loop", func(t *testing.T) {
		s := startTestServer(t, 1000, stall)
		res, err := Run(context.Background(), Config{Addr: s.addr(), Workload: workload(t, "ping"), Conns: 2,
			Rate: 5000, Duration: 1500 * time.Millisecond, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		// 5000/s for 100 ms is 500 requests of 7500 (6.7%) delayed by up
		// to 100 ms: p99.9 lands inside the stall.
		if p := res.All.Latency.P999Us; p < 90e3 {
			t.Errorf("open-loop p99.9 = %.3f ms, want >= 90 ms: the stall is hidden", p/1e3)
		}
		if p := res.All.Latency.P99Us; p < 50e3 {
			t.Errorf("open-loop p99 = %.3f ms, want >= 50 ms (500 of 7500 requests were scheduled during the stall)", p/1e3)
		}
	})
	t.Run("closed loop", func(t *testing.T) {
		s := startTestServer(t, 1000, stall)
		res, err := Run(context.Background(), Config{Addr: s.addr(), Workload: workload(t, "ping"), Conns: 1,
			Requests: 20000, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		a := res.All
		if a.Latency.MaxUs < float64(stall.Microseconds()) {
			t.Errorf("closed-loop max = %.3f ms, want >= 100 ms", a.Latency.MaxUs/1e3)
		}
		if a.Corrected == nil || a.Corrected.P999Us < coFactor*a.Latency.P999Us {
			t.Errorf("corrected p99.9 %+v does not show the stall (measured p99.9 %.3f ms)", a.Corrected, a.Latency.P999Us/1e3)
		}
		if !strings.Contains(strings.Join(res.Warnings, "\n"), "coordinated omission") {
			t.Errorf("closed-loop run hides the stall silently; warnings: %q", res.Warnings)
		}
		var table bytes.Buffer
		res.WriteTable(&table)
		if !strings.Contains(table.String(), "coordinated omission") {
			t.Errorf("table does not warn:\n%s", table.String())
		}
	})
}

// The JSON report's field names are a contract (SchemaVersion).
func TestJSONSchema(t *testing.T) {
	s := startTestServer(t, 0, 0)
	res, err := Run(context.Background(), Config{Addr: s.addr(), Workload: workload(t, "mixed"), Conns: 3, Pipeline: 4,
		Requests: 3000, Dist: Zipfian, ValueMin: 10, ValueMax: 20, Seed: 3, Label: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, []*Result{res}); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	need := func(obj map[string]any, where string, keys ...string) {
		for _, k := range keys {
			if _, ok := obj[k]; !ok {
				t.Errorf("%s: missing %q in %v", where, k, obj)
			}
		}
	}
	need(m, "result", "schema", "label", "target", "workload", "config", "elapsed_s", "all", "ops", "clamped")
	if m["schema"] != SchemaVersion {
		t.Errorf("schema %v, want %s", m["schema"], SchemaVersion)
	}
	need(m["config"].(map[string]any), "config", "mode", "connections", "pipeline", "threads", "warmup_s",
		"key_space", "distribution", "zipf_theta", "value_min", "value_max", "seed", "db", "commands")
	all := m["all"].(map[string]any)
	need(all, "all", "name", "requests", "errors", "ops_per_sec", "latency", "co_corrected", "curve")
	need(all["latency"].(map[string]any), "latency", "min_us", "mean_us", "p50_us", "p95_us", "p99_us", "p99_9_us", "max_us")
	ops := m["ops"].([]any)
	if len(ops) != 2 {
		t.Fatalf("%d ops, want 2 (GET, SET)", len(ops))
	}
	var sum float64
	for _, o := range ops {
		om := o.(map[string]any)
		need(om, "op", "name", "requests", "errors", "ops_per_sec", "latency")
		sum += om["requests"].(float64)
	}
	if sum != 3000 || all["requests"].(float64) != 3000 {
		t.Errorf("requests: ops sum %v, all %v, want 3000", sum, all["requests"])
	}
	back, err := ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if back[0].All.Latency != res.All.Latency || len(back[0].All.Curve) != len(res.All.Curve) {
		t.Errorf("JSON round trip changed the result")
	}
	var page bytes.Buffer
	if err := WritePlot(&page, "t", SeriesOf(back, true)); err != nil || !strings.Contains(page.String(), "<polyline") {
		t.Errorf("plot from JSON: %v", err)
	}
	var hgrm bytes.Buffer
	if err := res.All.WriteHgrm(&hgrm); err != nil || !strings.Contains(hgrm.String(), "Percentile") {
		t.Errorf("hgrm: %v\n%s", err, hgrm.String())
	}
}

func TestCompareArithmetic(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median odd = %v", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median even = %v", m)
	}
	f := newFigure("x", []float64{100, 120, 90, 110}, []float64{50, 60, 90, 0})
	if f.MedianA != 105 || f.MedianB != 55 {
		t.Errorf("medians %v %v, want 105 55", f.MedianA, f.MedianB)
	}
	// Ratios per round: 2, 2, 1; the round with b = 0 has none.
	if f.RatioMin != 1 || f.RatioMedian != 2 || f.RatioMax != 2 {
		t.Errorf("ratio min/median/max %v/%v/%v, want 1/2/2", f.RatioMin, f.RatioMedian, f.RatioMax)
	}
	mk := func(ops, p99 float64) *Result {
		o := OpResult{Name: "GET", OpsPerSec: ops, Latency: Latency{P99Us: p99}}
		return &Result{All: o, Ops: []OpResult{o, o}}
	}
	figs := compareFigures([]*Result{mk(200, 10), mk(300, 20)}, []*Result{mk(100, 20), mk(100, 10)})
	if len(figs) != 15 {
		t.Fatalf("%d figures, want 5 for all + 5 for each of 2 ops", len(figs))
	}
	if f := figs[0]; f.Name != "all req/s" || f.RatioMin != 2 || f.RatioMax != 3 || f.RatioMedian != 2.5 {
		t.Errorf("req/s figure %+v", f)
	}
	if f := figs[2]; f.Name != "all p99 ms" || f.RatioMin != 0.5 || f.RatioMax != 2 {
		t.Errorf("p99 figure %+v", f)
	}
}

// Compare alternates the servers, A B A B, and pairs the rounds.
func TestCompareInterleaves(t *testing.T) {
	a, b := startTestServer(t, 0, 0), startTestServer(t, 0, 0)
	base := Config{Workload: workload(t, "ping"), Conns: 1, Requests: 200, Seed: 1}
	ca, cb := base, base
	ca.Addr, ca.Label = a.addr(), "A"
	cb.Addr, cb.Label = b.addr(), "B"
	var order []string
	cmp, err := Compare(context.Background(), ca, cb, 3, func(i int, r *Result) { order = append(order, r.Label) })
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(order, " "); got != "A B A B A B" {
		t.Errorf("order %q, want A B A B A B", got)
	}
	if len(cmp.A) != 3 || len(cmp.B) != 3 || len(cmp.Figures) != 5 {
		t.Errorf("rounds %d/%d, figures %d", len(cmp.A), len(cmp.B), len(cmp.Figures))
	}
	var out bytes.Buffer
	cmp.WriteTable(&out)
	if !strings.Contains(out.String(), "all req/s") {
		t.Errorf("table:\n%s", out.String())
	}
}

// A workload the server does not implement fails at once with a message
// that names the command, not with a run full of error replies.
func TestUnknownCommandFailsClearly(t *testing.T) {
	s := startTestServer(t, 0, 0)
	for _, name := range []string{"list", "zset"} {
		_, err := Run(context.Background(), Config{Addr: s.addr(), Workload: workload(t, name), Conns: 1, Requests: 10})
		if err == nil || !strings.Contains(err.Error(), "does not implement") || !strings.Contains(err.Error(), "unknown command") {
			t.Errorf("%s: err = %v, want a clear 'does not implement' error", name, err)
		}
	}
}

func TestTemplates(t *testing.T) {
	tm, err := CompileTemplate("X", []string{"SET", "k:__rand_int__:__rand_member__", "__data__", "s__rand_score__"})
	if err != nil {
		t.Fatal(err)
	}
	ks, _ := newKeyShared(Sequential, 1000, 0)
	rng := rand.New(rand.NewPCG(1, 1))
	e := newEncoder(rng, ks.newKeyGen(rng, 0, 1), valueSize{5, 8}, 4)
	for i := range 50 {
		req := e.appendRequest(nil, tm)
		n, _, err := replyLen(req) // a request frames like an array reply
		if err != nil || n != len(req) {
			t.Fatalf("request %q does not frame: %v", req, err)
		}
		parts := strings.Split(string(req), "\r\n")
		key := parts[4]
		if want := "k:" + string(appendPadded(nil, uint64(i), 12)) + ":"; !strings.HasPrefix(key, want) {
			t.Errorf("key %q, want prefix %q (sequential)", key, want)
		}
		if v := parts[6]; len(v) < 5 || len(v) > 8 || strings.Trim(v, "x") != "" {
			t.Errorf("value %q, want 5-8 x's", v)
		}
		if !strings.HasPrefix(parts[8], "s") {
			t.Errorf("score arg %q", parts[8])
		}
	}
}

func TestZipfianSkew(t *testing.T) {
	for _, theta := range []float64{0.99, 1.2} {
		ks, err := newKeyShared(Zipfian, 10000, theta)
		if err != nil {
			t.Fatal(err)
		}
		g := ks.newKeyGen(rand.New(rand.NewPCG(5, 5)), 0, 1)
		counts := make([]int, 10000)
		for range 200000 {
			k := g.next()
			if k >= 10000 {
				t.Fatalf("key %d out of range", k)
			}
			counts[k]++
		}
		// Rank 0 is the hottest and the ratio of ranks 1 and 2 follows
		// (2/1)^theta within sampling noise.
		if counts[0] < counts[1] || counts[1] < counts[10] {
			t.Errorf("theta %v: not skewed: %d %d %d", theta, counts[0], counts[1], counts[10])
		}
		if r := float64(counts[0]) / float64(counts[1]); !near(r, math.Pow(2, theta), 0.1) {
			t.Errorf("theta %v: count(0)/count(1) = %.3f, want %.3f", theta, r, math.Pow(2, theta))
		}
	}
	if _, err := newKeyShared(Zipfian, 100, 1); err == nil {
		t.Error("theta 1 accepted")
	}
}

func TestReplyLen(t *testing.T) {
	for _, c := range []struct {
		in    string
		n     int
		isErr bool
		bad   bool
	}{
		{"+OK\r\n", 5, false, false},
		{"-ERR x\r\n", 8, true, false},
		{":12\r\n", 5, false, false},
		{"$3\r\nabc\r\n", 9, false, false},
		{"$3\r\nab", 0, false, false},
		{"$-1\r\n", 5, false, false},
		{"*2\r\n$1\r\na\r\n*1\r\n:1\r\n+x", 19, false, false},
		{"*2\r\n$1\r\na\r\n", 0, false, false},
		{"*-1\r\n", 5, false, false},
		{"*0\r\n", 4, false, false},
		{"%1\r\n+a\r\n:1\r\n", 12, false, false},
		{"_\r\n", 3, false, false},
		{"!3\r\nerr\r\n", 9, true, false},
		{"+OK", 0, false, false},
		{"?x\r\n", 0, false, true},
		{"$x\r\n", 0, false, true},
	} {
		n, isErr, err := replyLen([]byte(c.in))
		if (err != nil) != c.bad || n != c.n || isErr != c.isErr {
			t.Errorf("replyLen(%q) = %d, %v, %v; want %d, %v, bad=%v", c.in, n, isErr, err, c.n, c.isErr, c.bad)
		}
	}
}
