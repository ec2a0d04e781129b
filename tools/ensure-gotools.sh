#!/usr/bin/env bash
# ensure-gotools.sh installs the project's pinned Go tools into the
# project-local bin directory (default .bin/ at the repository root, or $1).
#
# wasmbrowsertest is also installed as go_js_wasm_exec: with that directory
# first on PATH, `GOOS=js GOARCH=wasm go test` runs the tests in a headless
# browser instead of Node.js. A stamp file per tool records the pinned
# version, so a second run only checks a few files.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/.bin}
mkdir -p "$bin"
bin=$(cd "$bin" && pwd)

log() { printf 'ensure-gotools: %s\n' "$*" >&2; }

# Pinned tools: import path and version. Bump a version here and every
# checkout reinstalls it on the next make.
tools=(
	"github.com/agnivade/wasmbrowsertest v0.11.0"
)

for entry in "${tools[@]}"; do
	read -r pkg version <<<"$entry"
	name=${pkg##*/}
	stamp="$bin/.$name.version"
	if [ -x "$bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then
		continue
	fi
	log "installing $pkg@$version into $bin"
	# GOFLAGS may carry -mod=vendor or tags for the project; the tool build
	# must not see them. GOOS/GOARCH must be the host's, not js/wasm.
	if ! GOBIN="$bin" GOFLAGS= GOOS= GOARCH= go install "$pkg@$version"; then
		log "go install $pkg@$version failed; check that the Go module proxy is reachable (go env GOPROXY)"
		exit 1
	fi
	printf '%s\n' "$version" >"$stamp"
done

# go test looks for go_js_wasm_exec on PATH when GOOS=js GOARCH=wasm.
# A copy (not a symlink) works on filesystems without symlinks too.
if ! cmp -s "$bin/wasmbrowsertest" "$bin/go_js_wasm_exec" 2>/dev/null; then
	cp -f "$bin/wasmbrowsertest" "$bin/go_js_wasm_exec"
fi
