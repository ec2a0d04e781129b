//go:build !js

// Command tabsync-server keeps tabsync tables in step between devices: a
// WebSocket relay at /sync that stores the tables in NATS JetStream
// (embedded by default, or an existing cluster with --nats).
//
//	go run ./cmd/tabsync-server                  # ws://127.0.0.1:8081/sync, data in ./tabsync-data
//	TOKEN=secret go run ./cmd/tabsync-server --listen 0.0.0.0:8081 --data /var/lib/tabsync
//
// Run it with --help for every flag; docs/SERVER-PROTOCOL.md describes the
// protocol.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/tabsync/tabsync/server"
)

const usage = `tabsync-server keeps keyed tables in step between browsers and devices.

Clients (the tabsync npm package's createTableSync, or the Go package
github.com/tabsync/tabsync/client) connect to ws://HOST:PORT/sync. Tables are
stored in NATS JetStream: by default an embedded server keeps them in --data
(nothing else to install, no NATS port opened); with --nats, an existing NATS
cluster holds them and several relays can share it behind a load balancer.

Authentication: set the TOKEN environment variable, or give --token-file.
Without either, anyone who can reach the port may read and write every table.

Also served: /healthz (200 "ok" while the relay can serve) and /metrics
(Prometheus text format). SIGTERM or Ctrl-C stops it gracefully.

Usage:
  tabsync-server [flags]

Examples:
  tabsync-server                                    # ws://127.0.0.1:8081/sync
  TOKEN=s3cret tabsync-server --listen 0.0.0.0:8081 --data /var/lib/tabsync
  tabsync-server --nats nats://n1:4222,nats://n2:4222 --replicas 3

Flags:
`

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("tabsync-server", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	opts, err := server.ConfigureOptions(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tabsync-server:", err)
		return 2
	}
	opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	srv, err := server.New(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tabsync-server:", err)
		return 2
	}
	// TABSYNC_CPUPROFILE=file writes a CPU profile of the whole run (used
	// by make bench-server to explain its numbers).
	if path := os.Getenv("TABSYNC_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer func() { pprof.StopCPUProfile(); f.Close() }()
		}
	}
	if err := srv.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "tabsync-server:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	stop() // a second signal kills the process
	opts.Logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 2*opts.ShutdownTimeout+server.DefaultShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		fmt.Fprintln(os.Stderr, "tabsync-server:", err)
		return 1
	}
	return 0
}
