package store

import (
	"math"
	"math/big"
	"strconv"

	"github.com/ringkv/ringkv/conn/resp"
)

// Blocking commands, store's half. A blocking command (BLPOP, BZPOPMIN ...)
// that finds nothing to pop appends no reply and sets Ctx.Block instead;
// conn then parks the client on those keys (conn/blocking.go). Whenever a
// list or sorted set key is created, store calls Store.KeyReady, and conn
// runs each parked client's command again, in the order they blocked, until
// one of them blocks again or the key is gone. A command run again that
// finds something replies and logs its effect as the non-blocking command it
// amounts to (BLPOP -> LPOP key, BLMOVE -> LMOVE ..., BZPOPMIN -> ZPOPMIN
// key), as Redis propagates them; the same rewrite is logged when it does
// not block at all.

// BlockRequest is what a blocking command asks of conn.
type BlockRequest struct {
	// Keys are private copies (argv views do not outlive the command).
	Keys [][]byte
	// DeadlineMs is the absolute unix-ms time the wait ends with a null
	// reply; 0 waits forever.
	DeadlineMs int64
}

// signalReady tells conn that key was just created in db with a value a
// blocked client may be waiting for.
func (s *Store) signalReady(db int, key []byte) {
	if s.KeyReady != nil {
		s.KeyReady(db, key)
	}
}

// signalDBReady tells conn that db now holds other values altogether.
func (s *Store) signalDBReady(db int) {
	if s.DBReady != nil {
		s.DBReady(db)
	}
}

// signalIfBlockable calls signalReady for a key just added to db with a
// value of kind, when that kind is one a client can block on (Redis's
// dbAdd signals every key it adds; signalKeyAsReady drops the others).
func (s *Store) signalIfBlockable(db int, key []byte, kind Kind) {
	if kind == KindList || kind == KindZSet {
		s.signalReady(db, key)
	}
}

// block parks the running command on keys until deadlineMs.
func block(c *Ctx, keys [][]byte, deadlineMs int64) {
	req := &BlockRequest{Keys: make([][]byte, len(keys)), DeadlineMs: deadlineMs}
	for i, k := range keys {
		req.Keys[i] = append([]byte(nil), k...)
	}
	c.Block = req
}

var two63 = new(big.Float).SetFloat64(math.Exp2(63))

// parseTimeout is getTimeoutFromObjectOrReply with UNIT_SECONDS: a long
// double number of seconds, times 1000 and cast to long long (where x86-64
// turns anything out of range, infinities included, into LLONG_MIN:
// "timeout is negative"), then made absolute. It returns 0 for "forever".
func parseTimeout(c *Ctx, arg []byte) (int64, bool) {
	f, ok := parseLongDouble(arg)
	if !ok {
		c.Out = append(c.Out, resp.ErrTimeoutFloat...)
		return 0, false
	}
	var ms int64
	if f.IsInf() {
		ms = math.MinInt64
	} else {
		prod := new(big.Float).SetPrec(longDoublePrec).Mul(f, big.NewFloat(1000))
		if prod.Cmp(two63) >= 0 || prod.Cmp(new(big.Float).Neg(two63)) < 0 {
			ms = math.MinInt64
		} else {
			ms, _ = prod.Int64() // truncates toward zero, as the C cast
		}
	}
	if ms < 0 {
		c.Out = append(c.Out, resp.ErrTimeoutNegative...)
		return 0, false
	}
	if ms > 0 {
		// Redis 7.0 adds without a check; a sum past int64 waits forever.
		if ms > math.MaxInt64-c.NowMs {
			ms = math.MaxInt64
		} else {
			ms += c.NowMs
		}
	}
	return ms, true
}

func appendIntBytes(dst []byte, n int64) []byte { return strconv.AppendInt(dst, n, 10) }
