package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Distribution names the order in which keys of the key space are chosen.
type Distribution string

const (
	Uniform    Distribution = "uniform"
	Zipfian    Distribution = "zipfian"
	Sequential Distribution = "sequential"
)

// zipfTable holds what Gray et al.'s zipfian generator ("Quickly generating
// billion-record synthetic databases", the one YCSB uses) precomputes for
// 0 < theta < 1. zeta(n) is a sum over the whole key space, so it is computed
// once per run and shared read-only by every connection.
type zipfTable struct {
	n                   uint64
	theta, alpha, eta   float64
	zetan, halfPowTheta float64
}

func newZipfTable(n uint64, theta float64) *zipfTable {
	zeta := func(n uint64) float64 {
		s := 0.0
		for i := uint64(1); i <= n; i++ {
			s += 1 / math.Pow(float64(i), theta)
		}
		return s
	}
	z := &zipfTable{n: n, theta: theta, alpha: 1 / (1 - theta), zetan: zeta(n)}
	z.eta = (1 - math.Pow(2/float64(n), 1-theta)) / (1 - zeta(2)/z.zetan)
	z.halfPowTheta = 1 + math.Pow(0.5, theta)
	return z
}

// next maps a uniform u in [0,1) to a rank in [0,n): rank 0 is the hottest.
func (z *zipfTable) next(u float64) uint64 {
	uz := u * z.zetan
	if uz < 1 {
		return 0
	}
	if uz < z.halfPowTheta {
		return 1
	}
	k := uint64(float64(z.n) * math.Pow(z.eta*u-z.eta+1, z.alpha))
	if k >= z.n {
		k = z.n - 1
	}
	return k
}

// keyGen picks key indexes in [0, space) for one connection. It is not shared.
type keyGen struct {
	dist  Distribution
	space uint64
	rng   *rand.Rand
	zipf  *zipfTable // 0 < theta < 1
	zipfS *rand.Zipf // theta > 1
	seq   uint64
}

// keyShared is what newKeyGen needs that is computed once per run.
type keyShared struct {
	dist  Distribution
	space uint64
	theta float64
	zipf  *zipfTable
}

func newKeyShared(dist Distribution, space uint64, theta float64) (*keyShared, error) {
	if space == 0 {
		return nil, fmt.Errorf("key space must be at least 1")
	}
	ks := &keyShared{dist: dist, space: space, theta: theta}
	switch dist {
	case Uniform, Sequential:
	case Zipfian:
		switch {
		case theta <= 0 || math.IsNaN(theta) || math.IsInf(theta, 0):
			return nil, fmt.Errorf("zipfian parameter must be > 0 (YCSB's default is 0.99), got %v", theta)
		case theta == 1:
			return nil, fmt.Errorf("zipfian parameter 1 is a pole of the generator: use 0.99 or 1.01")
		case theta < 1:
			if space < 2 {
				return nil, fmt.Errorf("zipfian needs a key space of at least 2")
			}
			ks.zipf = newZipfTable(space, theta)
		}
	default:
		return nil, fmt.Errorf("unknown key distribution %q (uniform, zipfian, sequential)", dist)
	}
	return ks, nil
}

// newKeyGen makes connection conn's generator. Sequential connections start
// at evenly spaced points of the key space so that together they sweep it.
func (ks *keyShared) newKeyGen(rng *rand.Rand, conn, conns int) *keyGen {
	g := &keyGen{dist: ks.dist, space: ks.space, rng: rng, zipf: ks.zipf}
	if ks.dist == Zipfian && ks.theta > 1 {
		g.zipfS = rand.NewZipf(rng, ks.theta, 1, ks.space-1)
	}
	if conns > 0 {
		g.seq = uint64(conn) * (ks.space / uint64(conns))
	}
	return g
}

func (g *keyGen) next() uint64 {
	switch g.dist {
	case Sequential:
		k := g.seq % g.space
		g.seq++
		return k
	case Zipfian:
		if g.zipfS != nil {
			return g.zipfS.Uint64()
		}
		return g.zipf.next(g.rng.Float64())
	default:
		return g.rng.Uint64N(g.space)
	}
}
