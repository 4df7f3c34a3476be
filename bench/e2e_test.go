package bench

import (
	"context"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// startRedis starts a real redis-server on a free port, without persistence,
// and stops it when the test ends. The test is skipped, saying why, only when
// redis-server is not installed.
func startRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed (apt-get install redis-server): skipping the end-to-end run")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not listen on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestEndToEndRedis(t *testing.T) {
	addr := startRedis(t)
	for _, c := range []struct {
		name     string
		workload Workload
		cfg      Config
	}{
		{"get prefilled zipfian", workload(t, "get"), Config{Prefill: true, KeySpace: 5000, Dist: Zipfian, Pipeline: 8}},
		{"mixed sequential value range", workload(t, "mixed"), Config{Dist: Sequential, ValueMin: 1, ValueMax: 4096}},
		{"ttl", workload(t, "ttl"), Config{Threads: 2}},
		{"list", workload(t, "list"), Config{KeySpace: 100, Pipeline: 4}},
		{"zset", workload(t, "zset"), Config{KeySpace: 100}},
		{"custom template", CustomWorkload([]string{"HSET", "h:__rand_int__", "f__rand_member__", "__data__"}), Config{}},
		{"open loop", workload(t, "set"), Config{Rate: 4000, Duration: 500 * time.Millisecond, Warmup: 100 * time.Millisecond}},
		{"db and pipeline", workload(t, "set"), Config{DB: 3, Pipeline: 32, Conns: 2}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := c.cfg
			cfg.Addr, cfg.Workload, cfg.Seed = addr, c.workload, 42
			if cfg.Conns == 0 {
				cfg.Conns = 4
			}
			want := int64(2000)
			if cfg.Rate > 0 {
				want = 2000 // 4000/s for 0.5 s
			} else {
				cfg.Requests = want
			}
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.All.Requests != want || res.All.Errors != 0 {
				t.Errorf("requests %d errors %d, want %d and 0; warnings %q", res.All.Requests, res.All.Errors, want, res.Warnings)
			}
			var sum int64
			for _, o := range res.Ops {
				sum += o.Requests
				if o.Requests == 0 {
					t.Errorf("%s never ran", o.Name)
				}
			}
			if sum != want || res.All.Latency.P50Us <= 0 || res.All.OpsPerSec <= 0 {
				t.Errorf("ops sum %d, p50 %v, ops/s %v", sum, res.All.Latency.P50Us, res.All.OpsPerSec)
			}
		})
	}
}
