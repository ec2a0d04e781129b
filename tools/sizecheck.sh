#!/usr/bin/env bash
# sizecheck.sh WASM checks the size budget: WASM (npm/dist/tabsync.wasm),
# gzipped with gzip -9, must be at most 1.16 times the floor, the program
# tools/sizefloor built the same way (-trimpath -ldflags='-s -w'). Both are
# built by the same Go, so the ratio holds across Go versions. Then the
# adapters' and other JavaScript files' budgets (tools/jssize.mjs).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
wasm=${1:?usage: sizecheck.sh WASM}
budget_percent=116
go=${GO:-go}

floor=$(mktemp "${TMPDIR:-/tmp}/sizefloor.XXXXXX.wasm")
trap 'rm -f "$floor"' EXIT
(cd "$root" && GOOS=js GOARCH=wasm "$go" build -trimpath -ldflags='-s -w' -o "$floor" ./tools/sizefloor)

gz() { gzip -9 -n -c "$1" | wc -c | tr -d ' '; }
ours=$(gz "$wasm")
base=$(gz "$floor")
limit=$((base * budget_percent / 100))
ratio=$(awk -v a="$ours" -v b="$base" 'BEGIN { printf "%.4f", a / b }')
printf 'sizecheck: %s is %d B gzipped, the floor %d B: %s times (budget 1.16: %d B)\n' \
	"$(basename "$wasm")" "$ours" "$base" "$ratio" "$limit"
if [ "$ours" -gt "$limit" ]; then
	echo "sizecheck: over the budget by $((ours - limit)) B gzipped; see README.md, Size" >&2
	exit 1
fi

# The adapters and the other JavaScript files an app may import beside the
# core, minified and gzipped, each within its budget (tools/jssize.mjs).
if [ -f "$root/npm/dist/adapter.mjs" ]; then
	node "$root/tools/jssize.mjs" "$root/npm/dist"
fi
