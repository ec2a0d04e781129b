// Package e2e is the harness for tabsync's multi-tab end-to-end tests. They
// run in one real headless Chromium, driven through the DevTools protocol
// with chromedp, so that its tabs share what tabsync relies on:
// BroadcastChannel, Web Locks and IndexedDB.
//
// The tests themselves carry the build tag e2e, so a plain `go test ./...`
// starts no browser. Run them with
//
//	make test                      # or, by hand:
//	CHROME=$(tools/ensure-chromium.sh) go test -tags e2e ./e2e/...
//
// Every wait of the harness is bounded, and a failed wait reports the
// console of the tab, so that a hung page fails its test quickly and says
// why.
package e2e
