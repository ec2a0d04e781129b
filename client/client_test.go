//go:build !js

package client_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/client"
	"github.com/tabsync/tabsync/server"
	"github.com/tabsync/tabsync/server/servertest"
	"github.com/tabsync/tabsync/tableproto"
)

// A write refused as rateLimited is sent again later; a later write of the
// same key waits for it, so the key ends with the later value. (Sent at
// once, the later write was stored first and the resent earlier one
// overwrote it.)
func TestAWriteRefusedAsRateLimitedLandsBeforeALaterWriteOfItsKey(t *testing.T) {
	s := servertest.Run(t, &server.Options{OpsPerSecond: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	limited := make(chan struct{}, 16)
	c, err := client.Dial(ctx, client.Options{URLs: []string{s.URL()}, OnError: func(err error) {
		var se *client.ServerError
		if errors.As(err, &se) && se.Code == tableproto.CodeRateLimited {
			limited <- struct{}{}
		}
	}})
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Subscribe(ctx, "t"))

	_, err = c.Set(ctx, "t", "other", 0) // takes the one operation of this second
	require.NoError(t, err)
	first := make(chan uint64, 1)
	go func() {
		v, err := c.Set(ctx, "t", "k", 1)
		assert.NoError(t, err)
		first <- v
	}()
	for range 5 { // refused at about 0, 50, 150, 350 and 750 ms; next at 1550 ms
		select {
		case <-limited:
		case <-ctx.Done():
			t.Fatal("the first write was not refused")
		}
	}
	// Sent now, the later write would be stored at about 1100 ms, when the
	// next operation is allowed, before the first one.
	v2, err := c.Set(ctx, "t", "k", 2)
	require.NoError(t, err)
	v1 := <-first
	assert.Less(t, v1, v2, "the earlier write of the key is stored first")
	require.NoError(t, c.WaitVersion(ctx, "t", v2))
	got, ok := c.Get("t", "k")
	require.True(t, ok)
	assert.JSONEq(t, `2`, string(got))
}
