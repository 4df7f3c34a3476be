package bench

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// Series is one curve of the plot.
type Series struct {
	Label  string
	Points []CurvePoint
}

// SeriesOf returns one series per result: its "all" curve, or, with perOp,
// each command type's.
func SeriesOf(results []*Result, perOp bool) []Series {
	var out []Series
	for _, r := range results {
		name := r.Label + " " + r.Workload
		if perOp && len(r.Ops) > 1 {
			for _, o := range r.Ops {
				out = append(out, Series{name + " " + o.Name, o.Curve})
			}
			continue
		}
		out = append(out, Series{name, r.All.Curve})
	}
	return out
}

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"}

// niceCeil rounds x up to 1, 2 or 5 times a power of ten.
func niceCeil(x float64) float64 {
	if x <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}

// WritePlot writes a self-contained HTML page with an inline SVG of latency
// (ms) by percentile, x on HdrHistogram's log scale of 1/(1-percentile),
// and a table of the plotted percentiles.
func WritePlot(w io.Writer, title string, series []Series) error {
	const (
		width, height            = 960, 540
		left, right, top, bottom = 80, 260, 40, 60
		plotW, plotH             = width - left - right, height - top - bottom
	)
	maxX, maxY := 3.0, 0.0
	for _, s := range series {
		for _, p := range s.Points {
			maxX = max(maxX, math.Ceil(percentileX(p.Percentile)))
			maxY = max(maxY, p.Us/1e3)
		}
	}
	maxX = min(maxX, 6)
	maxY = niceCeil(maxY * 1.05)
	x := func(p float64) float64 { return left + percentileX(p)/maxX*plotW }
	y := func(ms float64) float64 { return top + plotH - ms/maxY*plotH }

	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title>\n", html.EscapeString(title))
	b.WriteString("<style>body{font-family:sans-serif;margin:2em} table{border-collapse:collapse} td,th{padding:2px 8px;text-align:right;border-bottom:1px solid #ddd} svg text{font-size:12px}</style></head><body>\n")
	fmt.Fprintf(&b, "<h2>%s</h2>\n", html.EscapeString(title))
	fmt.Fprintf(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n", width, height, width, height)
	fmt.Fprintf(&b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#888\"/>\n", left, top, plotW, plotH)
	labels := []string{"0%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%"}
	for i := 0; i <= int(maxX); i++ {
		px := left + float64(i)/maxX*plotW
		fmt.Fprintf(&b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#eee\"/>\n", px, top, px, top+plotH)
		fmt.Fprintf(&b, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", px, top+plotH+18, labels[i])
	}
	for i := 0; i <= 5; i++ {
		v := maxY * float64(i) / 5
		py := y(v)
		fmt.Fprintf(&b, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>\n", left, py, left+plotW, py)
		fmt.Fprintf(&b, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", left-6, py+4, trimFloat(v))
	}
	fmt.Fprintf(&b, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">percentile</text>\n", left+plotW/2, height-15)
	fmt.Fprintf(&b, "<text transform=\"translate(20,%d) rotate(-90)\" text-anchor=\"middle\">latency (ms)</text>\n", top+plotH/2)
	for i, s := range series {
		color := palette[i%len(palette)]
		var pts []string
		for _, p := range s.Points {
			if percentileX(p.Percentile) > maxX {
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(p.Percentile), y(p.Us/1e3)))
		}
		fmt.Fprintf(&b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"%s\"/>\n", color, strings.Join(pts, " "))
		ly := top + 10 + i*20
		fmt.Fprintf(&b, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>\n", left+plotW+12, ly, left+plotW+32, ly, color)
		fmt.Fprintf(&b, "<text x=\"%d\" y=\"%d\">%s</text>\n", left+plotW+38, ly+4, html.EscapeString(s.Label))
	}
	b.WriteString("</svg>\n<table><tr><th>series</th>")
	marks := []float64{50, 90, 99, 99.9, 99.99, 100}
	for _, m := range marks {
		fmt.Fprintf(&b, "<th>p%s ms</th>", trimFloat(m))
	}
	b.WriteString("</tr>\n")
	for _, s := range series {
		fmt.Fprintf(&b, "<tr><td style=\"text-align:left\">%s</td>", html.EscapeString(s.Label))
		for _, m := range marks {
			fmt.Fprintf(&b, "<td>%s</td>", pointAt(s.Points, m))
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</table>\n</body></html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// pointAt is the curve's value at percentile p (the first point at or above
// it), in ms.
func pointAt(pts []CurvePoint, p float64) string {
	for _, c := range pts {
		if c.Percentile >= p-1e-9 {
			return fmt.Sprintf("%.3f", c.Us/1e3)
		}
	}
	return "-"
}

func trimFloat(v float64) string {
	s := fmt.Sprintf("%.4f", v)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
