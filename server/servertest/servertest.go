//go:build !js

// Package servertest starts a tabsync-server for tests.
package servertest

import (
	"context"
	"testing"
	"time"

	"github.com/tabsync/tabsync/server"
)

// Run starts a server on 127.0.0.1 with a free port and a temporary data
// directory (unless opts set them) and shuts it down when the test ends.
// opts may be nil.
func Run(t testing.TB, opts *server.Options) *server.Server {
	t.Helper()
	o := server.Options{}
	if opts != nil {
		o = *opts
	}
	if o.Listen == "" {
		o.Listen = "127.0.0.1:0"
	}
	if o.DataDir == "" && len(o.NATSURLs) == 0 {
		o.DataDir = t.TempDir()
	}
	s, err := server.New(&o)
	if err != nil {
		t.Fatalf("servertest: %v", err)
	}
	if err := s.Start(); err != nil {
		t.Fatalf("servertest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("servertest: shutdown: %v", err)
		}
	})
	return s
}
