#!/usr/bin/env bash
# precompress.sh FILE... writes FILE.gz (gzip -9) and FILE.br (brotli,
# quality 11) next to each FILE, for servers and CDNs that serve
# precompressed assets (tools/devserver does).
#
# Brotli comes from the brotli command when it is installed, else from
# Node.js's built-in zlib (Node is needed for the npm build anyway), else
# Debian's brotli package is installed (as root or with passwordless sudo).
set -euo pipefail

log() { printf 'precompress: %s\n' "$*" >&2; }

brotli_node() {
	# Quality 11 and a size hint: the same output as `brotli -q 11`.
	node -e '
		const fs = require("fs"), zlib = require("zlib");
		const [src, dst] = process.argv.slice(1);
		const data = fs.readFileSync(src);
		const out = zlib.brotliCompressSync(data, { params: {
			[zlib.constants.BROTLI_PARAM_QUALITY]: 11,
			[zlib.constants.BROTLI_PARAM_SIZE_HINT]: data.length,
		}});
		fs.writeFileSync(dst + ".tmp", out);
		fs.renameSync(dst + ".tmp", dst);
	' "$1" "$2"
}

ensure_brotli() {
	if command -v brotli >/dev/null 2>&1; then
		echo cli
		return
	fi
	if command -v node >/dev/null 2>&1; then
		echo node
		return
	fi
	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
			sudo=(sudo -n)
		else
			log "no brotli and no node: install one (sudo apt-get install brotli)"
			exit 1
		fi
	fi
	local logfile="${TMPDIR:-/tmp}/precompress-apt.$$.log"
	log "installing Debian's brotli (log: $logfile)"
	if ! { DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get update &&
		DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends brotli; } >"$logfile" 2>&1; then
		tail -n 20 "$logfile" >&2
		log "apt-get install brotli failed; install brotli or Node.js"
		exit 1
	fi
	rm -f "$logfile"
	echo cli
}

if [ $# -eq 0 ]; then
	log "usage: precompress.sh FILE..."
	exit 2
fi
how=$(ensure_brotli)
for f in "$@"; do
	# -n leaves the name and time out of the header, so the output depends
	# only on the input.
	gzip -9 -n -c "$f" >"$f.gz.tmp" && mv -f "$f.gz.tmp" "$f.gz"
	case $how in
	cli) brotli -q 11 -f -o "$f.br" "$f" ;;
	node) brotli_node "$f" "$f.br" ;;
	esac
done
