// Package tabsync is the root of the tabsync module: the product lives in
// the packages below it (sync, jsbridge, server, ...) and in npm/. This
// package only embeds the test data shared by every layer, testdata/ (see
// testdata/README.md), so that tests that run where there is no file
// system read it too: the jsbridge tests run inside a browser page
// (wasmbrowsertest), and go:embed cannot reach a directory above a
// package's own.
package tabsync

import "embed"

// Testdata holds testdata/wire/*.json, the wire-format corpus; read it
// through internal/wirecorpus.
//
//go:embed testdata/wire/*.json
var Testdata embed.FS
