#!/bin/bash
#
# man.sh: the man pages are clean under "mandoc -Tlint" (only STYLE notes
# are tolerated), carry no unsubstituted @PLACEHOLDER@, and mgwctl's usage
# message names every command that mgwctl(8) documents.
#
# Lints the pages of $top_srcdir/man with their paths substituted, as
# make install leaves them.
# Exit 0 pass, 1 fail, 77 skip (no mandoc), 99 hard error (automake).

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-.}
PAGES=(mgwd.8 mgwctl.8 mgw.conf.5 mgw-plugin.3)

if ! command -v mandoc >/dev/null 2>&1; then
	echo "man.sh: mandoc not found, skipping (apt-get install mandoc)"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mgw-man.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

fail=0

# The pages in the tree carry @PLACEHOLDER@ paths that make install fills
# in; lint them as installed, with the paths substituted.
mandir="$tmp"
for p in "${PAGES[@]}"; do
	if [ ! -f "$top_srcdir/man/$p" ]; then
		echo "man.sh: $top_srcdir/man/$p not found"
		exit 99
	fi
	sed -e 's|@SYSCONFDIR[@]|/usr/local/etc|g' \
	    -e 's|@SBINDIR[@]|/usr/local/sbin|g' \
	    -e 's|@RUNSTATEDIR[@]|/usr/local/var/run|g' \
	    -e 's|@LOCALSTATEDIR[@]|/usr/local/var|g' \
	    "$top_srcdir/man/$p" > "$tmp/$p" || exit 99
done
echo "man.sh: linting $top_srcdir/man/* with the paths substituted"

# Lint the pages in one run, so that their cross-references resolve
# among themselves.  mandoc's exit status also counts STYLE notes, so
# judge by what it prints.
(cd "$mandir" && mandoc -Tlint "${PAGES[@]}") > "$tmp/lint.out" 2>&1
rc=$?
if [ "$rc" -ge 5 ]; then
	cat "$tmp/lint.out"
	echo "man.sh: mandoc failed with status $rc"
	exit 99
fi
if grep -v -e '^$' -e ': STYLE: ' "$tmp/lint.out" > "$tmp/bad.out"; then
	echo "FAIL: mandoc -Tlint reports:"
	cat "$tmp/bad.out"
	fail=1
else
	echo "ok: mandoc -Tlint ${PAGES[*]}"
fi

# Every placeholder must have been substituted.
for p in "${PAGES[@]}"; do
	if grep -n '@[A-Z_]*@' "$mandir/$p"; then
		echo "FAIL: $p has unsubstituted placeholders"
		fail=1
	fi
done

# The usage message of mgwctl names every command of mgwctl(8): the words
# that follow Cm on its ".It Cm" lines (reload, stop, fast, log, ...).
mgwctl="$top_builddir/mgwctl"
if [ -x "$mgwctl" ]; then
	usage=$("$mgwctl" -h 2>&1 </dev/null)
	if ! grep -q 'usage:' <<<"$usage"; then
		echo "FAIL: '$mgwctl -h' prints no usage: line"
		printf '%s\n' "$usage"
		fail=1
	else
		# Skip mdoc macros (Op, Cm, ...), punctuation and the
		# placeholders that follow Ar.
		cmds=$(sed -n 's/^\.It Cm //p' "$mandir/mgwctl.8" |
		    awk '{ for (i = 1; i <= NF; i++) {
			if ($i == "Ar") { i++; continue }
			if ($i ~ /^[A-Z][a-z]$/ || $i !~ /[a-z]/) continue
			print $i } }' | sort -u)
		missing=0
		if [ -z "$cmds" ]; then
			echo "FAIL: no .It Cm lines in mgwctl.8"
			missing=1
		fi
		for c in $cmds; do
			if ! grep -qw -- "$c" <<<"$usage"; then
				echo "FAIL: mgwctl usage does not mention '$c'"
				missing=1
			fi
		done
		if [ "$missing" -eq 0 ]; then
			echo "ok: mgwctl usage names ${cmds//$'\n'/ }"
		else
			printf '%s\n' "$usage"
			fail=1
		fi
	fi
else
	echo "man.sh: $mgwctl not built, usage check skipped"
fi

exit "$fail"
