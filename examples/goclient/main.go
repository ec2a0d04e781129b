//go:build !js

// Command goclient syncs a table through tabsync-server from the terminal,
// with the Go client package. Run the server, then, in two terminals:
//
//	go run ./examples/goclient watch game_scores
//	go run ./examples/goclient set game_scores player1 '{"name":"player1","score":1500}'
//	go run ./examples/goclient delete game_scores player1
//
// The first prints the table, then every change as it happens.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"time"

	"github.com/tabsync/tabsync/client"
	"github.com/tabsync/tabsync/tableproto"
)

func main() {
	url := flag.String("url", "ws://127.0.0.1:8081/sync", "the server's /sync URL")
	token := flag.String("token", os.Getenv("TOKEN"), "token (default: $TOKEN)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: goclient [-url U] [-token T] watch TABLE | set TABLE KEY JSON | delete TABLE KEY")
		flag.PrintDefaults()
	}
	flag.Parse()
	args := flag.Args()
	if len(args) < 2 {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	opts := client.Options{URLs: []string{*url}, Token: *token,
		OnError: func(err error) { fmt.Fprintln(os.Stderr, "tabsync:", err) }}
	if args[0] == "watch" {
		opts.OnUpdate = func(f *tableproto.Frame) {
			if f.Type != tableproto.Update {
				return
			}
			if f.Change.Operation == tableproto.Delete {
				fmt.Printf("v%d %s deleted (by %s)\n", f.TableVersion, f.Change.Key, f.OriginID)
			} else {
				fmt.Printf("v%d %s = %s (by %s)\n", f.TableVersion, f.Change.Key, f.Change.Value, f.OriginID)
			}
		}
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	c, err := client.Dial(dctx, opts)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "goclient:", err)
		os.Exit(1)
	}
	defer c.Close()
	table := args[1]
	switch {
	case args[0] == "watch":
		if err := c.Subscribe(ctx, table); err != nil {
			fmt.Fprintln(os.Stderr, "goclient:", err)
			os.Exit(1)
		}
		rows, v := c.Rows(table)
		keys := make([]string, 0, len(rows))
		for k := range rows {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Printf("%s at version %d, %d rows:\n", table, v, len(rows))
		for _, k := range keys {
			fmt.Printf("  %s = %s\n", k, rows[k])
		}
		<-ctx.Done()
	case args[0] == "set" && len(args) == 4:
		if !json.Valid([]byte(args[3])) {
			fmt.Fprintln(os.Stderr, "goclient: the value must be JSON, e.g. '\"text\"' or '{\"score\":1}'")
			os.Exit(2)
		}
		v, err := c.SetRaw(ctx, table, args[2], json.RawMessage(args[3]))
		report(v, err)
	case args[0] == "delete" && len(args) == 3:
		v, err := c.Delete(ctx, table, args[2])
		report(v, err)
	default:
		flag.Usage()
		os.Exit(2)
	}
}

func report(v uint64, err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "goclient:", err)
		os.Exit(1)
	}
	fmt.Printf("stored at version %d\n", v)
}
