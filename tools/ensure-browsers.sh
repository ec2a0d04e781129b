#!/usr/bin/env bash
# ensure-browsers.sh makes sure the engines of the cross-engine suite
# (e2e/engines) are installed, installing Debian's packages when one is
# missing and apt-get can be used without a password prompt:
#
#   Firefox   firefox-esr                      (or $FIREFOX)
#   WebKit    webkit2gtk-driver (WebKitWebDriver, or $WEBKIT_DRIVER),
#             libwebkit2gtk-4.1-0 (MiniBrowser, or $MINIBROWSER), and
#             xvfb (Xvfb: MiniBrowser has no headless mode)
#
# Chromium is tools/ensure-chromium.sh's. Progress and errors go to stderr;
# when everything is there the script prints nothing and does nothing else,
# so it is cheap to call from every make target.
#
# Where apt-get is not usable, install the same programs another way and
# point the variables at them: Firefox ESR or Firefox (FIREFOX), WebKitGTK's
# WebKitWebDriver and MiniBrowser (WEBKIT_DRIVER, MINIBROWSER; Fedora:
# webkit2gtk4.1 and its devel tools, Arch: webkit2gtk-4.1) and an X server
# without a display, Xvfb (Fedora: xorg-x11-server-Xvfb, Arch:
# xorg-server-xvfb). Safari and its safaridriver are not driven by the
# suite; on a Mac run it with ENGINES=chromium,firefox.
set -euo pipefail

log() { printf 'ensure-browsers: %s\n' "$*" >&2; }

has() { [ -n "${1:-}" ] && command -v "$1" >/dev/null 2>&1; }

minibrowser() {
	if [ -n "${MINIBROWSER:-}" ]; then
		[ -x "$MINIBROWSER" ]
		return
	fi
	local files
	files=$(dpkg -L libwebkit2gtk-4.1-0 2>/dev/null) || return 1
	grep -q '/MiniBrowser$' <<<"$files"
}

# missing prints the Debian packages whose programs are not there.
missing() {
	if ! has "${FIREFOX:-}" && ! has firefox-esr && ! has firefox; then echo firefox-esr; fi
	if ! has "${WEBKIT_DRIVER:-WebKitWebDriver}"; then echo webkit2gtk-driver; fi
	if ! minibrowser; then echo libwebkit2gtk-4.1-0; fi
	if ! has Xvfb; then echo xvfb; fi
}

mapfile -t need < <(missing)
if [ ${#need[@]} -eq 0 ]; then
	exit 0
fi

hint="install ${need[*]} (see the comment at the top of tools/ensure-browsers.sh), or run the suite with fewer engines: ENGINES=chromium"
if ! command -v apt-get >/dev/null 2>&1; then
	log "missing ${need[*]} and apt-get is not available; $hint"
	exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
	sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	sudo=(sudo -n)
else
	log "missing ${need[*]} and apt-get needs root; $hint"
	exit 1
fi

logfile="${TMPDIR:-/tmp}/ensure-browsers.$$.log"
log "installing ${need[*]} from Debian (log: $logfile)"
start=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
# Another install may hold apt's lock for a while: wait for it.
if ! { "${sudo[@]}" apt-get update &&
	"${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${need[@]}"; } >"$logfile" 2>&1; then
	log "apt-get install failed; last lines of $logfile:"
	tail -n 20 "$logfile" >&2
	log "$hint"
	exit 1
fi
log "installed ${need[*]} in $(($(date +%s) - start))s"

mapfile -t still < <(missing)
if [ ${#still[@]} -ne 0 ]; then
	log "still missing after the install: ${still[*]} (see $logfile); $hint"
	exit 1
fi
rm -f "$logfile"
