package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// SchemaVersion names the JSON report's layout; it changes when a field is
// renamed or removed.
const SchemaVersion = "ringkv-bench/1"

// Latency is a percentile summary, in microseconds.
type Latency struct {
	MinUs  float64 `json:"min_us"`
	MeanUs float64 `json:"mean_us"`
	P50Us  float64 `json:"p50_us"`
	P95Us  float64 `json:"p95_us"`
	P99Us  float64 `json:"p99_us"`
	P999Us float64 `json:"p99_9_us"`
	MaxUs  float64 `json:"max_us"`
}

// CurvePoint is one point of the latency-by-percentile curve.
type CurvePoint struct {
	Percentile float64 `json:"percentile"`
	Us         float64 `json:"us"`
}

// OpResult is the figures of one command type, or of all of them ("all").
type OpResult struct {
	Name      string  `json:"name"`
	Requests  int64   `json:"requests"`
	Errors    int64   `json:"errors"`
	OpsPerSec float64 `json:"ops_per_sec"`
	Latency   Latency `json:"latency"`
	// Corrected is, for closed-loop runs, the latency corrected for
	// coordinated omission with the median as the expected interval.
	Corrected *Latency     `json:"co_corrected,omitempty"`
	Curve     []CurvePoint `json:"curve,omitempty"`

	hist *hdrhistogram.Histogram
}

// RunConfig is the part of Config a report records.
type RunConfig struct {
	Mode      string   `json:"mode"` // closed or open
	Conns     int      `json:"connections"`
	Pipeline  int      `json:"pipeline"`
	Threads   int      `json:"threads"`
	Rate      float64  `json:"rate,omitempty"`
	Requests  int64    `json:"requests,omitempty"`
	DurationS float64  `json:"duration_s,omitempty"`
	WarmupS   float64  `json:"warmup_s"`
	KeySpace  uint64   `json:"key_space"`
	Dist      string   `json:"distribution"`
	ZipfTheta float64  `json:"zipf_theta,omitempty"`
	ValueMin  int      `json:"value_min"`
	ValueMax  int      `json:"value_max"`
	Seed      uint64   `json:"seed"`
	DB        int      `json:"db"`
	Commands  []string `json:"commands"`
}

// Result is one run.
type Result struct {
	Schema   string     `json:"schema"`
	Label    string     `json:"label"`
	Target   string     `json:"target"`
	Workload string     `json:"workload"`
	Config   RunConfig  `json:"config"`
	ElapsedS float64    `json:"elapsed_s"`
	All      OpResult   `json:"all"`
	Ops      []OpResult `json:"ops"`
	// Clamped counts latencies above LatencyMaxNs recorded as that value.
	Clamped int64 `json:"clamped"`
	// SendLag is, for open-loop runs, how late requests left the client
	// after their intended send time; it is part of every latency.
	SendLag *Latency `json:"send_lag,omitempty"`
	// Warnings are things a reader must know to trust the figures, such as
	// a stall that a closed loop's percentiles hide.
	Warnings []string `json:"warnings,omitempty"`
}

func summarize(h *hdrhistogram.Histogram) Latency {
	us := func(ns int64) float64 { return float64(ns) / 1e3 }
	if h.TotalCount() == 0 {
		return Latency{}
	}
	return Latency{
		MinUs:  us(h.Min()),
		MeanUs: h.Mean() / 1e3,
		P50Us:  us(h.ValueAtPercentile(50)),
		P95Us:  us(h.ValueAtPercentile(95)),
		P99Us:  us(h.ValueAtPercentile(99)),
		P999Us: us(h.ValueAtPercentile(99.9)),
		MaxUs:  us(h.Max()),
	}
}

// curvePercentiles are the points the JSON curve and the plot use: dense
// toward the tail, as HdrHistogram's percentile iteration is.
func curvePercentiles() []float64 {
	var ps []float64
	for _, base := range []float64{0, 90, 99, 99.9, 99.99, 99.999} {
		step := (100 - base) / 10
		for i := range 9 {
			ps = append(ps, base+float64(i)*step)
		}
	}
	return append(ps, 100)
}

func curve(h *hdrhistogram.Histogram) []CurvePoint {
	if h.TotalCount() == 0 {
		return nil
	}
	var pts []CurvePoint
	for _, p := range curvePercentiles() {
		if p > 0 && 1/(1-p/100) > float64(h.TotalCount())*2 && p < 100 {
			continue // beyond what the sample size can resolve
		}
		pts = append(pts, CurvePoint{p, float64(h.ValueAtPercentile(p)) / 1e3})
	}
	return pts
}

// correctedCopy is HdrHistogram's copyCorrectedForCoordinatedOmission: each
// value v above the expected interval also stands for the requests a closed
// loop would have sent during it, at v-interval, v-2*interval, ... The
// values are taken per bucket, so this costs a walk of the buckets plus one
// record per missing request class.
func correctedCopy(h *hdrhistogram.Histogram, intervalNs int64) *hdrhistogram.Histogram {
	c := newHist()
	for _, b := range h.Distribution() {
		if b.Count == 0 {
			continue
		}
		v := b.To
		_ = c.RecordValues(min(v, LatencyMaxNs), b.Count)
		if intervalNs <= 0 {
			continue
		}
		for m := v - intervalNs; m >= intervalNs; m -= intervalNs {
			_ = c.RecordValues(m, b.Count)
		}
	}
	return c
}

// result merges the shards into a Result.
func (r *run) result() *Result {
	cfg := r.cfg
	res := &Result{
		Schema:   SchemaVersion,
		Label:    cfg.Label,
		Target:   cfg.Addr,
		Workload: cfg.Workload.Name,
		Config: RunConfig{
			Mode: cfg.Mode(), Conns: cfg.Conns, Pipeline: cfg.Pipeline, Threads: cfg.Threads,
			Rate: cfg.Rate, Requests: cfg.Requests, DurationS: cfg.Duration.Seconds(),
			WarmupS: cfg.Warmup.Seconds(), KeySpace: cfg.KeySpace, Dist: string(cfg.Dist),
			ValueMin: cfg.ValueMin, ValueMax: cfg.ValueMax, Seed: cfg.Seed, DB: cfg.DB,
		},
	}
	if cfg.Dist == Zipfian {
		res.Config.ZipfTheta = cfg.ZipfTheta
	}
	if cfg.Rate > 0 {
		res.Config.Pipeline = 0 // not used by the open loop
	}
	var last int64
	for _, s := range r.shards {
		last = max(last, s.lastNs)
		res.Clamped += s.clamped
	}
	res.ElapsedS = max(float64(last-r.measureStart)/1e9, 0)
	all := newHist()
	var allErrors int64
	for i, t := range r.cw.templates {
		res.Config.Commands = append(res.Config.Commands, fmt.Sprintf("%d%% %s", r.cw.w.Ops[i].Weight*100/r.cw.total, t.String()))
		h := newHist()
		var errs int64
		for _, s := range r.shards {
			h.Merge(s.hist[i])
			errs += s.errors[i]
		}
		all.Merge(h)
		allErrors += errs
		res.Ops = append(res.Ops, r.opResult(t.Name, h, errs, res.ElapsedS))
	}
	res.All = r.opResult("all", all, allErrors, res.ElapsedS)
	if cfg.Rate > 0 {
		lag := newHist()
		for _, s := range r.shards {
			lag.Merge(s.sendLag)
		}
		l := summarize(lag)
		res.SendLag = &l
	}
	res.Warnings = r.warnings(res)
	return res
}

func (r *run) opResult(name string, h *hdrhistogram.Histogram, errs int64, elapsedS float64) OpResult {
	o := OpResult{Name: name, Requests: h.TotalCount(), Errors: errs, Latency: summarize(h), Curve: curve(h), hist: h}
	if elapsedS > 0 {
		o.OpsPerSec = float64(o.Requests) / elapsedS
	}
	if r.cfg.Rate == 0 && h.TotalCount() > 0 {
		c := summarize(correctedCopy(h, h.ValueAtPercentile(50)))
		o.Corrected = &c
	}
	return o
}

// coFactor: a closed-loop run whose p99.9 corrected for coordinated
// omission is this many times the measured one (and whose max is over 1 ms)
// had a stall its percentiles hide, and the report says so.
const coFactor = 2

func (r *run) warnings(res *Result) []string {
	var w []string
	a := res.All
	if a.Requests == 0 {
		w = append(w, "no requests were recorded")
		return w
	}
	if r.cfg.Rate == 0 && a.Corrected != nil && a.Corrected.P999Us >= coFactor*a.Latency.P999Us && a.Latency.MaxUs > 1000 {
		w = append(w, fmt.Sprintf("closed loop: max %.3f ms against p99.9 %.3f ms: a stall, which closed-loop percentiles "+
			"hide (coordinated omission); corrected for it, p99.9 is %.3f ms; use --rate for open-loop percentiles",
			a.Latency.MaxUs/1e3, a.Latency.P999Us/1e3, a.Corrected.P999Us/1e3))
	}
	if r.cfg.Rate > 0 && res.ElapsedS > 0 {
		achieved := float64(a.Requests) / res.ElapsedS
		if achieved < 0.95*r.cfg.Rate {
			w = append(w, fmt.Sprintf("open loop: achieved %.0f req/s of the %.0f asked: the server (or the client) could not keep up, "+
				"and the latencies include the queueing", achieved, r.cfg.Rate))
		}
	}
	if a.Errors > 0 {
		w = append(w, fmt.Sprintf("%d error replies", a.Errors))
	}
	if res.Clamped > 0 {
		w = append(w, fmt.Sprintf("%d latencies above %.0f s recorded as %.0f s", res.Clamped, float64(LatencyMaxNs)/1e9, float64(LatencyMaxNs)/1e9))
	}
	return w
}

// WriteTable writes the human-readable report.
func (res *Result) WriteTable(w io.Writer) {
	c := res.Config
	load := fmt.Sprintf("closed loop, %d connections, pipeline %d", c.Conns, c.Pipeline)
	if c.Mode == "open" {
		load = fmt.Sprintf("open loop at %.0f req/s, %d connections", c.Rate, c.Conns)
	}
	dist := c.Dist
	if c.ZipfTheta != 0 {
		dist = fmt.Sprintf("%s(%.2f)", c.Dist, c.ZipfTheta)
	}
	value := fmt.Sprintf("%d B", c.ValueMin)
	if c.ValueMax != c.ValueMin {
		value = fmt.Sprintf("%d-%d B", c.ValueMin, c.ValueMax)
	}
	fmt.Fprintf(w, "== %s  %s: %s, %d threads, %.2fs measured after %.1fs warm-up, %d keys %s, values %s\n",
		res.Label, res.Workload, load, c.Threads, res.ElapsedS, c.WarmupS, c.KeySpace, dist, value)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "command\trequests\treq/s\tp50 ms\tp95 ms\tp99 ms\tp99.9 ms\tmax ms\terrors\t")
	row := func(o OpResult) {
		l := o.Latency
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%d\t\n", o.Name, o.Requests, o.OpsPerSec,
			l.P50Us/1e3, l.P95Us/1e3, l.P99Us/1e3, l.P999Us/1e3, l.MaxUs/1e3, o.Errors)
	}
	for _, o := range res.Ops {
		row(o)
	}
	if len(res.Ops) > 1 {
		row(res.All)
	}
	tw.Flush()
	if res.SendLag != nil {
		fmt.Fprintf(w, "client send lag (included above): p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
			res.SendLag.P50Us/1e3, res.SendLag.P99Us/1e3, res.SendLag.MaxUs/1e3)
	}
	for _, s := range res.Warnings {
		fmt.Fprintf(w, "warning: %s\n", s)
	}
}

// WriteQuiet writes one line per command, as redis-benchmark -q does.
func (res *Result) WriteQuiet(w io.Writer) {
	for _, o := range res.Ops {
		fmt.Fprintf(w, "%s %s: %.2f requests per second, p50=%.3f msec p99=%.3f msec\n",
			res.Workload, o.Name, o.OpsPerSec, o.Latency.P50Us/1e3, o.Latency.P99Us/1e3)
	}
	for _, s := range res.Warnings {
		fmt.Fprintf(w, "warning: %s\n", s)
	}
}

// WriteJSON writes results as JSON: one object for one result, an array for
// several.
func WriteJSON(w io.Writer, results []*Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if len(results) == 1 {
		return enc.Encode(results[0])
	}
	return enc.Encode(results)
}

// ReadJSON reads a file WriteJSON wrote (one object or an array).
func ReadJSON(r io.Reader) ([]*Result, error) {
	var raw json.RawMessage
	if err := json.NewDecoder(r).Decode(&raw); err != nil {
		return nil, err
	}
	var out []*Result
	if s := strings.TrimSpace(string(raw)); strings.HasPrefix(s, "[") {
		if err := json.Unmarshal(raw, &out); err != nil {
			return nil, err
		}
	} else if strings.Contains(s, `"figures"`) {
		// A comparison: its rounds, A then B.
		var c struct {
			Schema string    `json:"schema"`
			A      []*Result `json:"a"`
			B      []*Result `json:"b"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, err
		}
		out = append(c.A, c.B...)
	} else {
		var one Result
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, err
		}
		out = []*Result{&one}
	}
	for _, r := range out {
		if r.Schema != SchemaVersion {
			return nil, fmt.Errorf("schema %q, this ringkv-bench reads %q", r.Schema, SchemaVersion)
		}
	}
	return out, nil
}

// hgrmTicks is HdrHistogram's usual ticks per half distance for .hgrm files.
const hgrmTicks = 5

// WriteHgrm writes the percentile distribution of one histogram, values in
// milliseconds, in the text format HdrHistogram's plotters read.
func (o *OpResult) WriteHgrm(w io.Writer) error {
	if o.hist == nil {
		return fmt.Errorf("%s: no histogram (results read from JSON carry only the curve)", o.Name)
	}
	_, err := o.hist.PercentilesPrint(w, hgrmTicks, 1e6)
	return err
}

// WriteHgrmFiles writes prefix.<workload>.<command>.hgrm for each command and
// for all of them, and returns the file names.
func (res *Result) WriteHgrmFiles(prefix string) ([]string, error) {
	var names []string
	ops := append([]OpResult{res.All}, res.Ops...)
	for i := range ops {
		name := fmt.Sprintf("%s.%s.%s.hgrm", prefix, fileSafe(res.Workload), fileSafe(ops[i].Name))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			return names, err
		}
		f, err := os.Create(name)
		if err != nil {
			return names, err
		}
		err = ops[i].WriteHgrm(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return names, err
		}
		names = append(names, name)
	}
	return names, nil
}

func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '/' || r == ':' {
			return '-'
		}
		return r
	}, strings.ToLower(s))
}

// percentileX is the plot's x coordinate for a percentile: log10 of
// 1/(1-p), capped at the "100%" end.
func percentileX(p float64) float64 {
	if p >= 100 {
		p = 99.9999
	}
	return math.Log10(1 / (1 - p/100))
}
