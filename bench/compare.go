package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
)

// Figure is one compared number (a throughput or a percentile of one command
// type) over the rounds of a comparison.
type Figure struct {
	Name        string    `json:"name"`
	A           []float64 `json:"a"`
	B           []float64 `json:"b"`
	MedianA     float64   `json:"median_a"`
	MedianB     float64   `json:"median_b"`
	RatioMin    float64   `json:"ratio_min"`
	RatioMedian float64   `json:"ratio_median"`
	RatioMax    float64   `json:"ratio_max"`
}

// Comparison is a compare-mode run: the same workload against A and B,
// alternated, with ratios A/B per round.
type Comparison struct {
	Schema   string    `json:"schema"`
	Workload string    `json:"workload"`
	LabelA   string    `json:"label_a"`
	LabelB   string    `json:"label_b"`
	Rounds   int       `json:"rounds"`
	Figures  []Figure  `json:"figures"`
	A        []*Result `json:"a"`
	B        []*Result `json:"b"`
}

// median of xs (the mean of the middle two for an even count); xs is not
// modified.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// newFigure computes the medians and the ratio statistics of paired rounds:
// ratio i is a[i]/b[i], the two runs made next to each other. A round where
// b is 0 has no ratio.
func newFigure(name string, a, b []float64) Figure {
	f := Figure{Name: name, A: a, B: b, MedianA: median(a), MedianB: median(b)}
	var ratios []float64
	for i := range min(len(a), len(b)) {
		if b[i] != 0 {
			ratios = append(ratios, a[i]/b[i])
		}
	}
	if len(ratios) > 0 {
		f.RatioMedian = median(ratios)
		f.RatioMin, f.RatioMax = ratios[0], ratios[0]
		for _, r := range ratios {
			f.RatioMin = min(f.RatioMin, r)
			f.RatioMax = max(f.RatioMax, r)
		}
	}
	return f
}

// compareFigures turns the rounds' results into figures: req/s, p50, p99,
// p99.9 and max for all commands, then for each command type when there are
// several.
func compareFigures(a, b []*Result) []Figure {
	if len(a) == 0 || len(b) == 0 {
		return nil
	}
	type metric struct {
		name string
		get  func(o OpResult) float64
	}
	metrics := []metric{
		{"req/s", func(o OpResult) float64 { return o.OpsPerSec }},
		{"p50 ms", func(o OpResult) float64 { return o.Latency.P50Us / 1e3 }},
		{"p99 ms", func(o OpResult) float64 { return o.Latency.P99Us / 1e3 }},
		{"p99.9 ms", func(o OpResult) float64 { return o.Latency.P999Us / 1e3 }},
		{"max ms", func(o OpResult) float64 { return o.Latency.MaxUs / 1e3 }},
	}
	pick := func(rs []*Result, op int, m metric) []float64 {
		var xs []float64
		for _, r := range rs {
			o := r.All
			if op >= 0 {
				o = r.Ops[op]
			}
			xs = append(xs, m.get(o))
		}
		return xs
	}
	var figs []Figure
	for _, m := range metrics {
		figs = append(figs, newFigure("all "+m.name, pick(a, -1, m), pick(b, -1, m)))
	}
	if len(a[0].Ops) > 1 {
		for i, o := range a[0].Ops {
			for _, m := range metrics {
				figs = append(figs, newFigure(o.Name+" "+m.name, pick(a, i, m), pick(b, i, m)))
			}
		}
	}
	return figs
}

// Compare runs cfgA and cfgB alternately, A B A B ..., rounds times each. Give
// both the same workload and load; only the target and label should differ.
// round, when not nil, is told of each run as it ends.
func Compare(ctx context.Context, cfgA, cfgB Config, rounds int, round func(i int, res *Result)) (*Comparison, error) {
	if rounds < 1 {
		return nil, fmt.Errorf("compare needs at least 1 round")
	}
	cfgA.Defaults()
	cfgB.Defaults()
	c := &Comparison{Schema: SchemaVersion, Workload: cfgA.Workload.Name, LabelA: cfgA.Label, LabelB: cfgB.Label, Rounds: rounds}
	for i := range rounds {
		for side, cfg := range []Config{cfgA, cfgB} {
			// Each round uses a fresh seed pair shared by both sides, so
			// A and B see the same key sequence in the same round.
			cfg.Seed = cfgA.Seed + uint64(i)
			res, err := Run(ctx, cfg)
			if err != nil {
				return c, fmt.Errorf("round %d, %s: %w", i+1, cfg.Label, err)
			}
			if side == 0 {
				c.A = append(c.A, res)
			} else {
				c.B = append(c.B, res)
			}
			if round != nil {
				round(i, res)
			}
		}
	}
	c.Figures = compareFigures(c.A, c.B)
	return c, nil
}

// WriteTable writes the comparison: medians of both sides and the ratio's
// spread over the rounds.
func (c *Comparison) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "== compare %s: A = %s, B = %s, %d rounds (A B A B ...); ratio = A/B per round\n",
		c.Workload, c.LabelA, c.LabelB, c.Rounds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "figure\tA median\tB median\tratio min\tratio median\tratio max\t")
	for _, f := range c.Figures {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.3f\t%.3f\t%.3f\t\n", f.Name, num(f.MedianA), num(f.MedianB), f.RatioMin, f.RatioMedian, f.RatioMax)
	}
	tw.Flush()
	for i := range c.A {
		for _, s := range c.A[i].Warnings {
			fmt.Fprintf(w, "warning: round %d, A: %s\n", i+1, s)
		}
		if i < len(c.B) {
			for _, s := range c.B[i].Warnings {
				fmt.Fprintf(w, "warning: round %d, B: %s\n", i+1, s)
			}
		}
	}
}

func num(x float64) string {
	if x >= 1000 {
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.3f", x)
}

// Merged returns, for the plot, one result per side whose "all" histogram
// merges every round's.
func (c *Comparison) Merged() []*Result {
	merge := func(rs []*Result, label string) *Result {
		h := newHist()
		for _, r := range rs {
			if r.All.hist != nil {
				h.Merge(r.All.hist)
			}
		}
		return &Result{Label: label, Workload: c.Workload, All: OpResult{Name: "all", Requests: h.TotalCount(), Latency: summarize(h), Curve: curve(h), hist: h}}
	}
	return []*Result{merge(c.A, c.LabelA), merge(c.B, c.LabelB)}
}

// WriteComparisonJSON writes comparisons as JSON: one object, or an array
// for several workloads.
func WriteComparisonJSON(w io.Writer, cs []*Comparison) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if len(cs) == 1 {
		return enc.Encode(cs[0])
	}
	return enc.Encode(cs)
}
