//go:build !js

package server_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/tabsync/tabsync/client"
	"github.com/tabsync/tabsync/server"
)

// Embedding the relay in a Go program, and two clients syncing a table
// through it.
func ExampleNew() {
	dir, _ := os.MkdirTemp("", "tabsync-example")
	defer os.RemoveAll(dir)
	srv, err := server.New(&server.Options{Listen: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		panic(err)
	}
	if err := srv.Start(); err != nil { // does not block
		panic(err)
	}
	defer srv.Shutdown(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	alice, _ := client.Dial(ctx, client.Options{URLs: []string{srv.URL()}})
	defer alice.Close()
	bob, _ := client.Dial(ctx, client.Options{URLs: []string{srv.URL()}})
	defer bob.Close()

	_ = bob.Subscribe(ctx, "game_scores")
	version, _ := alice.Set(ctx, "game_scores", "player1", map[string]int{"score": 1500})
	_ = bob.WaitVersion(ctx, "game_scores", version)
	v, _ := bob.Get("game_scores", "player1")
	fmt.Printf("version %d: player1 = %s\n", version, v)
	// Output: version 1: player1 = {"score":1500}
}
