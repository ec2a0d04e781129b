// Package client is a Go client of tabsync-server: it keeps local copies of
// the tables it subscribes to in step with the server, and writes with
// idempotent operations that survive reconnects.
//
//	c, err := client.Dial(ctx, client.Options{URLs: []string{"ws://127.0.0.1:8081/sync"}, Token: "secret"})
//	defer c.Close()
//	err = c.Subscribe(ctx, "game_scores")        // returns once the copy is in step
//	v, err := c.Set(ctx, "game_scores", "player1", map[string]any{"score": 1500})  // the tableVersion
//	raw, ok := c.Get("game_scores", "player1")    // local copy, JSON text
//
// The client reconnects by itself (exponential backoff with jitter, trying
// each URL in turn), resumes every table with since = the last version it
// applied, and sends again every operation not yet acknowledged, with its
// original opId, so the server applies it once. Writes of one table and
// key go one at a time, in the order they were made: each is sent once the
// one before it is acknowledged, refused for good or given up, so a write
// the server refused as rateLimited and sent again later cannot land after
// a later write of its key. Writes of different keys go concurrently.
//
// # Wasm
//
// The client is for native Go programs; in the browser, the npm package's
// table sync speaks the same protocol.
package client
