#!/bin/sh
# Check that a distribution directory holds every file and directory README names: backticked
# relative paths (`docs/api.md`, `./run.sh`, `feeds/schema/`), bare file names (`results.json`,
# found anywhere), and the first column of the "Layout and design" list. Paths from the root
# (installed files, URL paths), paths outside the tree (../), the build directories that
# ./test.sh creates and npm's node_modules are not files of the tree.
# Used by `make distcheck` (distcheck-hook).
#   sh packaging/check-dist.sh DISTDIR
set -u
dir=${1:?usage: check-dist.sh DISTDIR}
readme="$dir/README"
[ -f "$readme" ] || { echo "check-dist: $readme missing"; exit 1; }
{
	grep -oE '`[^` ]+`' "$readme" | tr -d '`' |
		grep -E '^\.?/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]*)+$|^[A-Za-z0-9_-]+\.(sh|md|json|ac|am|h|c|py|conf)$'
	awk '/^Layout and design/ { f = 1 } f && /^    [A-Za-z.]/ { print $1 } /^The core is/ { f = 0 }' \
		"$readme" | tr -d ','
} | sort -u | while read -r p; do
	case $p in
	/* | ../* | build/ | build-asan/ | */node_modules*) continue ;; # not files of the tree
	*/*) [ -e "$dir/${p#./}" ] || { echo "check-dist: README names $p, not in the tarball"; echo x; } ;;
	*) [ -n "$(find "$dir" -name "$p" -print -quit)" ] ||
		{ echo "check-dist: README names $p, not in the tarball"; echo x; } ;;
	esac
done | { out=$(cat); printf '%s' "$out" | grep -v '^x$'; ! printf '%s\n' "$out" | grep -qx x; }
