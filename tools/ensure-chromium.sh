#!/usr/bin/env bash
# ensure-chromium.sh prints the path of a usable Chrome or Chromium binary on
# stdout, installing Debian's chromium package first when none is found and
# apt-get can be used without a password prompt. Progress and errors go to
# stderr so that callers can write CHROME=$(tools/ensure-chromium.sh).
#
# Lookup order: $CHROME, then google-chrome, google-chrome-stable, chromium,
# chromium-browser on PATH. When one is found the script does nothing else,
# so it is cheap to call from every make target.
set -euo pipefail

log() { printf 'ensure-chromium: %s\n' "$*" >&2; }

# usable reports whether $1 names an executable that answers --version.
# Running it catches snap/wrapper stubs that exist but cannot start.
usable() {
	[ -n "$1" ] && [ -x "$1" ] && "$1" --version >/dev/null 2>&1
}

find_browser() {
	if [ -n "${CHROME:-}" ]; then
		local c
		c=$(command -v "$CHROME" 2>/dev/null || true)
		if usable "$c"; then
			printf '%s\n' "$c"
			return 0
		fi
		log "CHROME=$CHROME is not an executable browser; looking on PATH instead"
	fi
	local name p
	for name in google-chrome google-chrome-stable chromium chromium-browser; do
		p=$(command -v "$name" 2>/dev/null || true)
		if usable "$p"; then
			printf '%s\n' "$p"
			return 0
		fi
	done
	return 1
}

if find_browser; then
	exit 0
fi

hint="install Chromium: sudo apt-get install chromium, or set CHROME=/path/to/chrome"

# apt-get is usable as root, or through sudo when it needs no password
# (sudo -n fails instead of prompting, which would hang CI).
if ! command -v apt-get >/dev/null 2>&1; then
	log "no Chrome or Chromium found and apt-get is not available; $hint"
	exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
	sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	sudo=(sudo -n)
else
	log "no Chrome or Chromium found and apt-get needs root; $hint"
	exit 1
fi

logfile="${TMPDIR:-/tmp}/ensure-chromium.$$.log"
log "no browser found; installing Debian's chromium (log: $logfile)"
start=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
if ! { "${sudo[@]}" apt-get update &&
	"${sudo[@]}" apt-get install -y --no-install-recommends chromium; } >"$logfile" 2>&1; then
	log "apt-get install chromium failed; last lines of $logfile:"
	tail -n 20 "$logfile" >&2
	log "$hint"
	exit 1
fi
log "installed chromium in $(($(date +%s) - start))s"

if find_browser; then
	rm -f "$logfile"
	exit 0
fi
log "chromium was installed but no usable binary is on PATH (see $logfile); $hint"
exit 1
