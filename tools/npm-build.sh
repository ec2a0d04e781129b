#!/usr/bin/env bash
# npm-build.sh DIR [SCRIPT] runs `npm ci` in DIR when its node_modules is
# missing or older than its package-lock.json, then `npm run SCRIPT`
# (default build).
#
# npm writes node_modules/.package-lock.json at the end of every install, so
# that file's time says when the install last completed.
set -euo pipefail

dir=${1:?usage: npm-build.sh DIR [SCRIPT]}
script=${2:-build}
cd "$dir"

if ! command -v npm >/dev/null 2>&1; then
	echo "npm-build: npm not found; install Node.js (sudo apt-get install nodejs npm)" >&2
	exit 1
fi

stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || { [ -f package-lock.json ] && [ package-lock.json -nt "$stamp" ]; }; then
	echo "==> npm ci in $dir"
	logfile="${TMPDIR:-/tmp}/npm-ci.$$.log"
	if [ -f package-lock.json ]; then cmd=(npm ci); else cmd=(npm install); fi
	if ! "${cmd[@]}" --no-audit --no-fund >"$logfile" 2>&1; then
		tail -n 30 "$logfile" >&2
		echo "npm-build: ${cmd[*]} failed in $dir (log: $logfile)" >&2
		exit 1
	fi
	rm -f "$logfile"
fi
echo "==> npm run $script in $dir"
npm run "$script" --silent
