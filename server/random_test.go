//go:build !js

package server_test

import (
	"context"
	"flag"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/client"
)

var randomSeed = flag.Uint64("seed", 0, "TestRandomized: run only this seed")

// Many clients writing, dropping their connections and resuming, with the
// choices drawn from a seed: at the end every client's copy of every table
// it subscribed to equals a fresh snapshot. Replay a failure with
// go test ./server -run TestRandomized -seed N -v.
func TestRandomized(t *testing.T) {
	seeds := []uint64{1, 2, 3}
	if *randomSeed != 0 {
		seeds = []uint64{*randomSeed}
	}
	for _, seed := range seeds {
		t.Run("seed="+strconv.FormatUint(seed, 10), func(t *testing.T) {
			runRandomized(t, seed)
		})
	}
}

func runRandomized(t *testing.T, seed uint64) {
	s := start(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tables := []string{"r0", "r1", "r2"}
	const clients, steps = 5, 60
	cs := make([]*client.Client, clients)
	subs := make([]map[string]bool, clients)
	plans := make([][]int, clients) // the drawn choices, fixed before anything runs
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for i := range cs {
		cs[i] = dial(t, s)
		subs[i] = map[string]bool{}
		for j := 0; j < steps; j++ {
			plans[i] = append(plans[i], rng.IntN(100), rng.IntN(len(tables)), rng.IntN(6), rng.IntN(1000))
		}
	}
	var wg sync.WaitGroup
	for i := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, p := cs[i], plans[i]
			for j := 0; j < steps; j++ {
				what, tbl, key, val := p[4*j], tables[p[4*j+1]], "k"+strconv.Itoa(p[4*j+2]), p[4*j+3]
				var err error
				switch {
				case what < 10:
					c.Reconnect()
				case what < 25:
					err = c.Subscribe(ctx, tbl)
					subs[i][tbl] = err == nil
				case what < 40:
					_, err = c.Delete(ctx, tbl, key)
				default:
					_, err = c.Set(ctx, tbl, key, map[string]int{"c": i, "v": val})
				}
				if !assert.NoError(t, err, "seed %d client %d step %d", seed, i, j) {
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, tbl := range tables {
		fresh := dial(t, s)
		require.NoError(t, fresh.Subscribe(ctx, tbl))
		want, version := fresh.Rows(tbl)
		for i, c := range cs {
			if !subs[i][tbl] {
				continue
			}
			require.NoError(t, c.WaitVersion(ctx, tbl, version), "seed %d client %d", seed, i)
			got, v := c.Rows(tbl)
			assert.Equal(t, version, v, "seed %d client %d table %s", seed, i, tbl)
			assert.Equal(t, want, got, "seed %d client %d table %s", seed, i, tbl)
			assert.Zero(t, c.Stats().Duplicates, "seed %d client %d", seed, i)
		}
	}
}
