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
// They need the built package (`make build`: npm/dist and npm/node_modules)
// and are skipped without it. What they cover:
//
//   - TestSync: the behaviour every user relies on (API.md), in tabs of the
//     test page e2e/testdata/page.html, which loads the built ESM entry (or
//     the script-tag build) and zustand's vanilla store and puts helpers on
//     window for the tests to call. Subtests share the browser and reuse
//     idle tabs; each syncs on a channel of its own.
//   - TestLatency: a change's cross-tab latency next to a plain
//     BroadcastChannel message, 200 changes one at a time; it logs the
//     figures and fails only if a change never arrives. Alone:
//     go test -tags e2e -run TestLatency -v ./e2e/
//   - TestDemoLoads, TestDemoInSync, TestReactDemo: the plain and React
//     demos as `make demo` serves them. TestDemoInSync draws the two tabs
//     side by side; docs/images/demo.png is made with
//     TABSYNC_SCREENSHOT=$PWD/docs/images/demo.png go test -tags e2e -run TestDemoInSync ./e2e/
//   - TestPackedPackageInAnEmptyApp: npm pack, the tarball installed into
//     an empty app, used from a script tag and from an ESM import, as the
//     README says.
//   - TestFrameworkDemos, TestDevtools: the store adapters in the Vite-built
//     demos of examples/frameworks (Redux, Pinia, Vue, Svelte, Valtio,
//     Jotai), each in three tabs under first-write-wins: sync, no echo,
//     excluded keys, stop, destroy, a concurrent write, persistence; and the
//     DevTools hooks under a stub of the Redux DevTools extension.
//   - TestPersist, TestMeasureRestore: persistence in IndexedDB across
//     reloads and tabs.
//   - TestHostile: a table of hostile and broken messages posted on the
//     channel from a plain script (docs/SECURITY.md), the forbidden keys
//     under every strategy, replays, a forged sequence number, tabs of two
//     app versions.
//   - TestFaults: a tab crashed mid-burst, a hung tab resumed, a reload
//     loop, no IndexedDB, IndexedDB failing to open.
//   - TestSoak: 8 tabs writing while tabs crash, freeze and reload, for
//     SOAK_DURATION (12 s in make test); `make soak` runs it for 60 s and
//     prints its report: changes made, divergence, memory growth.
//
// The same behaviours in Firefox and WebKit as well as Chromium are the
// cross-engine suite in e2e/engines (Node's test runner, puppeteer-core and
// selenium-webdriver; `make engines`, part of make test), against the packed
// package; docs/BROWSERS.md describes it and what differs between engines.
//
// Every wait of the harness is bounded, and a failed wait reports the
// console of the tab, so that a hung page fails its test quickly and says
// why.
package e2e
