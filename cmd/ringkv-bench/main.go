// Command ringkv-bench is ringkv's latency benchmark: redis-benchmark's
// flags where they mean the same, HdrHistogram percentiles per command type,
// closed and open loop, JSON/.hgrm/HTML plot output, and an interleaved
// comparison of two servers. See package bench for what it measures and how.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/ringkv/ringkv/bench"
)

const usageHead = `ringkv-bench: latency benchmark for Redis-compatible servers

usage:
  ringkv-bench [flags] [command template ...]
  ringkv-bench plot [-o out.html] [-per-op] [-title T] run.json ...

A command template after the flags replaces the workloads, as in
redis-benchmark: ringkv-bench -r 10000 lpush mylist __rand_int__
Placeholders: __rand_int__ (key index from -r/--dist, 12 digits), __data__
(a value of -d bytes), __rand_member__ (0..999), __rand_score__ (0..999999).

workloads (-t, comma-separated, run one after another):
`

type options struct {
	host, password, user               string
	port, db, conns, pipeline, threads int
	requests                           int64
	duration, warmup                   time.Duration
	quiet, prefill                     bool
	tests, dataSize, dist              string
	keySpace                           uint64
	zipf, rate                         float64
	seed                               uint64
	jsonOut, hgrm, plot, label         string
	compare, compareLabel, comparePass string
	rounds                             int
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "plot" {
		if err := plotMain(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "ringkv-bench plot:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	fs := flag.NewFlagSet("ringkv-bench", flag.ExitOnError)
	fs.StringVar(&o.host, "h", "127.0.0.1", "server host")
	fs.IntVar(&o.port, "p", 6379, "server port")
	fs.StringVar(&o.password, "a", "", "password for AUTH")
	fs.StringVar(&o.user, "user", "", "user for AUTH (ACL), with -a")
	fs.IntVar(&o.db, "dbnum", 0, "database number (SELECT)")
	fs.IntVar(&o.conns, "c", 50, "connections")
	fs.IntVar(&o.pipeline, "P", 1, "pipeline depth (closed loop)")
	fs.IntVar(&o.threads, "threads", 1, "threads (GOMAXPROCS and histogram shards)")
	fs.Int64Var(&o.requests, "n", 0, "requests to record per workload (0: run for --duration)")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured time per workload, when -n is 0")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "warm-up before measuring (not recorded)")
	fs.BoolVar(&o.quiet, "q", false, "quiet: one line per command, no progress line")
	fs.StringVar(&o.tests, "t", "set,get", "workloads, comma-separated (see above)")
	fs.StringVar(&o.dataSize, "d", "3", "value size in bytes, or a range min-max")
	fs.Uint64Var(&o.keySpace, "r", 100000, "key space size: __rand_int__ is in [0, r)")
	fs.StringVar(&o.dist, "dist", "uniform", "key distribution: uniform, zipfian, sequential")
	fs.Float64Var(&o.zipf, "zipf", 0.99, "zipfian parameter (theta; != 1)")
	fs.Float64Var(&o.rate, "rate", 0, "open loop: requests/s across all connections, latency from the intended send time (0: closed loop)")
	fs.Uint64Var(&o.seed, "seed", 0, "random seed (0: from the clock; printed in the JSON)")
	fs.BoolVar(&o.prefill, "prefill", false, "SET every key of -r before each workload")
	fs.StringVar(&o.jsonOut, "json", "", "write the results as JSON to this file (- for stdout)")
	fs.StringVar(&o.hgrm, "hgrm", "", "write .hgrm percentile files with this path prefix")
	fs.StringVar(&o.plot, "plot", "", "write an HTML plot of latency by percentile to this file")
	fs.StringVar(&o.label, "label", "", "name of the target in reports (default host:port)")
	fs.StringVar(&o.compare, "compare", "", "compare with the server at host:port, interleaved A B A B ...")
	fs.StringVar(&o.compareLabel, "compare-label", "", "name of the compared server (default its host:port)")
	fs.StringVar(&o.comparePass, "compare-a", "", "password of the compared server (default -a)")
	fs.IntVar(&o.rounds, "rounds", 5, "compare mode: rounds per server")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageHead, bench.WorkloadHelp(), "\nflags:\n")
		fs.PrintDefaults()
	}
	fs.Parse(os.Args[1:])
	if err := benchMain(o, fs.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "ringkv-bench:", err)
		os.Exit(1)
	}
}

func parseSize(s string) (lo, hi int, err error) {
	a, b, isRange := strings.Cut(s, "-")
	if lo, err = strconv.Atoi(a); err != nil {
		return 0, 0, fmt.Errorf("-d %q: want a size or min-max", s)
	}
	hi = lo
	if isRange {
		if hi, err = strconv.Atoi(b); err != nil || hi < lo {
			return 0, 0, fmt.Errorf("-d %q: want a size or min-max with min <= max", s)
		}
	}
	return lo, hi, nil
}

func benchMain(o options, template []string) error {
	runtime.GOMAXPROCS(o.threads)
	lo, hi, err := parseSize(o.dataSize)
	if err != nil {
		return err
	}
	var wls []bench.Workload
	if len(template) > 0 {
		wls = append(wls, bench.CustomWorkload(template))
	} else {
		for _, name := range strings.Split(o.tests, ",") {
			w, err := bench.WorkloadByName(strings.TrimSpace(name))
			if err != nil {
				return err
			}
			wls = append(wls, w)
		}
	}
	seed := o.seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	base := bench.Config{
		Addr: net.JoinHostPort(o.host, strconv.Itoa(o.port)), Password: o.password, User: o.user, DB: o.db,
		Conns: o.conns, Pipeline: o.pipeline, Threads: o.threads,
		Requests: o.requests, Warmup: o.warmup, Rate: o.rate,
		KeySpace: o.keySpace, Dist: bench.Distribution(o.dist), ZipfTheta: o.zipf,
		ValueMin: lo, ValueMax: hi, Seed: seed, Prefill: o.prefill, Label: o.label,
	}
	if o.requests == 0 {
		base.Duration = o.duration
	}
	progress := !o.quiet && bench.IsTerminal(os.Stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	var results []*bench.Result
	var comparisons []*bench.Comparison
	for _, w := range wls {
		cfg := base
		cfg.Workload = w
		if progress {
			cfg.Progress = os.Stderr
		}
		if o.compare != "" {
			other := cfg
			other.Addr = o.compare
			other.Label = o.compareLabel
			if o.comparePass != "" {
				other.Password = o.comparePass
			}
			cmp, err := bench.Compare(ctx, cfg, other, o.rounds, func(i int, r *bench.Result) {
				if !o.quiet {
					fmt.Fprintf(os.Stderr, "round %d %s %s: %.0f req/s, p99 %.3f ms\n", i+1, r.Label, r.Workload, r.All.OpsPerSec, r.All.Latency.P99Us/1e3)
				}
			})
			if err != nil {
				return err
			}
			cmp.WriteTable(os.Stdout)
			fmt.Println()
			comparisons = append(comparisons, cmp)
			continue
		}
		res, err := bench.Run(ctx, cfg)
		if res != nil {
			if o.quiet {
				res.WriteQuiet(os.Stdout)
			} else {
				res.WriteTable(os.Stdout)
				fmt.Println()
			}
			results = append(results, res)
		}
		if err != nil {
			return err
		}
	}
	return writeOutputs(o, results, comparisons)
}

func writeOutputs(o options, results []*bench.Result, comparisons []*bench.Comparison) error {
	plotted := results
	for _, c := range comparisons {
		plotted = append(plotted, c.Merged()...)
	}
	if o.jsonOut != "" {
		err := withOutput(o.jsonOut, func(w io.Writer) error {
			if len(comparisons) > 0 {
				return writeComparisons(w, comparisons)
			}
			return bench.WriteJSON(w, results)
		})
		if err != nil {
			return err
		}
	}
	if o.hgrm != "" {
		for _, r := range plotted {
			prefix := o.hgrm
			if len(comparisons) > 0 {
				prefix += "." + strings.NewReplacer(":", "-", "/", "-", " ", "-").Replace(r.Label)
			}
			names, err := r.WriteHgrmFiles(prefix)
			if err != nil {
				return err
			}
			if !o.quiet {
				fmt.Fprintf(os.Stderr, "wrote %s\n", strings.Join(names, " "))
			}
		}
	}
	if o.plot != "" {
		err := withOutput(o.plot, func(w io.Writer) error {
			return bench.WritePlot(w, "ringkv-bench: latency by percentile", bench.SeriesOf(plotted, false))
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func writeComparisons(w io.Writer, cs []*bench.Comparison) error {
	return bench.WriteComparisonJSON(w, cs)
}

func withOutput(name string, write func(io.Writer) error) error {
	if name == "-" {
		return write(os.Stdout)
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func plotMain(args []string) error {
	fs := flag.NewFlagSet("ringkv-bench plot", flag.ExitOnError)
	out := fs.String("o", "latency.html", "output HTML file")
	perOp := fs.Bool("per-op", false, "one curve per command type instead of one per run")
	title := fs.String("title", "ringkv-bench: latency by percentile", "page title")
	fs.Parse(args)
	if fs.NArg() == 0 {
		return errors.New("give one or more JSON files written by --json")
	}
	var all []*bench.Result
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		rs, err := bench.ReadJSON(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		all = append(all, rs...)
	}
	return withOutput(*out, func(w io.Writer) error { return bench.WritePlot(w, *title, bench.SeriesOf(all, *perOp)) })
}
