package e2e

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// expireKeys keys get TTLs spread evenly over expireSpread.
	expireKeys   = 100_000
	expireSpread = time.Second
	// expireLead is how far in the future the first TTL lies, so that
	// loading the keys (slow under -race) normally ends before any expires.
	expireLead = 2 * time.Second
	// expireGrace is how long after the last TTL every key must be gone:
	// the requirement.
	expireGrace = time.Second
	// expirePipeline is how many commands go in one pipeline.
	expirePipeline = 1000
)

// TestActiveExpiry loads 100k keys whose absolute expiry times are spread
// over one second, then touches none of them: active expiry alone must
// remove them all within a second of the last TTL. DBSIZE (which expires
// nothing itself) is polled to see it, and INFO's expired_keys must count
// every key.
func TestActiveExpiry(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		s := startServer(t, backend)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		rdb := s.client(t, nil)

		base := time.Now().Add(expireLead)
		last := base.Add(expireSpread)
		for i := 0; i < expireKeys; i += expirePipeline {
			pipe := rdb.Pipeline()
			for j := i; j < min(i+expirePipeline, expireKeys); j++ {
				at := base.Add(time.Duration(j) * expireSpread / expireKeys)
				pipe.Do(ctx, "SET", "key:"+strconv.Itoa(j), "v", "PXAT", at.UnixMilli())
			}
			if _, err := pipe.Exec(ctx); err != nil {
				t.Fatalf("loading keys: %v", err)
			}
		}
		if time.Now().Before(base) {
			n, err := rdb.DBSize(ctx).Result()
			if err != nil || n != expireKeys {
				t.Fatalf("DBSIZE after loading = %d, %v; want %d", n, err, expireKeys)
			}
			expires := infoField(t, ctx, rdb, "keyspace", "db0")
			if !strings.Contains(expires, "expires="+strconv.Itoa(expireKeys)+",") {
				t.Errorf("INFO keyspace db0 = %q; want expires=%d", expires, expireKeys)
			}
		} else {
			t.Logf("loading took longer than %v; the first keys expired while loading", expireLead)
		}

		deadline := last.Add(expireGrace)
		var n int64
		for {
			var err error
			if n, err = rdb.DBSize(ctx).Result(); err != nil {
				t.Fatalf("DBSIZE: %v", err)
			}
			if n == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if n != 0 {
			t.Fatalf("DBSIZE = %d %v after the last TTL; want 0 within %v", n, time.Since(last).Round(time.Millisecond), expireGrace)
		}
		t.Logf("all keys gone %v after the last TTL", time.Since(last).Round(time.Millisecond))
		if got := infoField(t, ctx, rdb, "stats", "expired_keys"); got != strconv.Itoa(expireKeys) {
			t.Errorf("INFO expired_keys = %s; want %d", got, expireKeys)
		}
	})
}

// infoField returns field's value in INFO section.
func infoField(t *testing.T, ctx context.Context, rdb *redis.Client, section, field string) string {
	t.Helper()
	info, err := rdb.Info(ctx, section).Result()
	if err != nil {
		t.Fatalf("INFO %s: %v", section, err)
	}
	for _, ln := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(ln, field+":"); ok {
			return v
		}
	}
	return ""
}
