#!/usr/bin/env bash
# sizecheck.sh WASM FLOOR PERCENT checks one module's size budget: WASM,
# gzipped with gzip -9, must be at most PERCENT/100 times FLOOR (PERCENT
# may have decimals), a Go
# program (a package path such as ./tools/sizefloor) built the same way
# (-trimpath -ldflags='-s -w'). Both are built by the same Go, so the ratio
# holds across Go versions. make size checks each module against its own
# floor: tabsync.wasm against a program using go-indexeddb, and
# tabsync-nopersist.wasm against one using only syscall/js.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
wasm=${1:?usage: sizecheck.sh WASM FLOOR PERCENT}
floorpkg=${2:?usage: sizecheck.sh WASM FLOOR PERCENT}
budget_percent=${3:?usage: sizecheck.sh WASM FLOOR PERCENT}
go=${GO:-go}

floor=$(mktemp "${TMPDIR:-/tmp}/sizefloor.XXXXXX.wasm")
trap 'rm -f "$floor"' EXIT
(cd "$root" && GOOS=js GOARCH=wasm "$go" build -trimpath -ldflags='-s -w' -o "$floor" "$floorpkg")

gz() { gzip -9 -n -c "$1" | wc -c | tr -d ' '; }
ours=$(gz "$wasm")
base=$(gz "$floor")
limit=$(awk -v b="$base" -v p="$budget_percent" 'BEGIN { printf "%d", b * p / 100 }')
ratio=$(awk -v a="$ours" -v b="$base" 'BEGIN { printf "%.4f", a / b }')
budget=$(awk -v p="$budget_percent" 'BEGIN { printf "%.3f", p / 100 }')
printf 'sizecheck: %s is %d B gzipped, its floor (%s) %d B: %s times (budget %s: %d B)\n' \
	"$(basename "$wasm")" "$ours" "$floorpkg" "$base" "$ratio" "$budget" "$limit"
if [ "$ours" -gt "$limit" ]; then
	echo "sizecheck: over the budget by $((ours - limit)) B gzipped; see README.md, Size" >&2
	exit 1
fi
