#!/bin/sh
# tools/check-layers.sh [BUILDDIR]: check that the folders are layers.
#
# Run from the top of the tree.  Prints every violation as "file:line: rule"
# and exits 1, or prints "layers OK" and exits 0 (2 on a usage error).  The
# rules are those of house-style.md section 10.1 and issue 11:
#  - every #include is resolved to the top-level folder holding the file
#    (quoted: the includer's own directory first, then the path from the top
#    or include/, then the file name anywhere under the top-level folders;
#    angle brackets: only <mgw/...> and names that exist in the tree), and
#    the includer's folder must be allowed to include that folder (table
#    below; .h files are checked like .c files, so a header cannot relay a
#    forbidden include);
#  - a quoted include that names no file in the tree (other than generated
#    headers) or that matches files in two folders is a violation too;
#  - no "extern" declaration in a .c file (extern "C" aside), no #include of
#    a .c file, anywhere in the tree, tests included;
#  - the undefined symbols (nm -u) of the lib/ and shm/ archives must not be
#    defined by another mgw folder: lib/ may use only lib/, shm/ only lib/
#    and shm/; anything else is taken to come from a system library.
# BUILDDIR (default ./build) is where the objects are; without it the nm
# check is skipped with a note on stderr.
# shellcheck disable=SC2034	# the ALLOW_ variables are read through eval
set -u
LC_ALL=C
export LC_ALL

# worker/ and status/ may include nothing from master/ but the generation
# handle the master gives them: the parsed configuration they serve and
# render (conf-t.h, types only).  By file name.
WORKER_MASTER_ALLOW="conf-t.h"

# Which folders each folder may include (its own is always allowed).
# "include" is include/mgw/, the public plugin API.  worker/ may use status/
# because the admin handler serves the metrics and status page from there.
# master/ hosts everything; tests/ and bench/ get the file rules only.
ALLOW_lib="lib"
ALLOW_shm="lib shm"
ALLOW_include="include"
ALLOW_plugins="include lib shm plugins"
ALLOW_worker="include lib shm status worker"
ALLOW_ctl="lib ctl"
ALLOW_status="include lib shm status"
RULED="lib shm include plugins worker ctl status"

# Headers the build generates: they live in BUILDDIR, not in the tree.
GENERATED="config.h"

FOLDERS="lib shm include plugins worker ctl status master tests bench"

usage() { echo "usage: sh tools/check-layers.sh [BUILDDIR]" >&2; exit 2; }
[ $# -le 1 ] || usage
case "${1:-}" in -*) usage ;; esac
if [ ! -d lib ] || [ ! -d shm ] || [ ! -f configure.ac ]; then
	echo "check-layers: run from the top of the tree" >&2
	exit 2
fi
if [ $# -eq 1 ]; then
	BUILDDIR=$1 explicit=1
	if [ ! -d "$BUILDDIR" ]; then
		echo "check-layers: $BUILDDIR: no such directory" >&2
		exit 2
	fi
else
	BUILDDIR=build explicit=0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-layers.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
trap 'exit 2' HUP INT TERM

dirs=
for d in $FOLDERS; do [ -d "$d" ] && dirs="$dirs $d"; done
# shellcheck disable=SC2086
find $dirs -type f \( -name '*.c' -o -name '*.h' \) | sort > "$tmp/files"

# Includes and externs: one awk pass over every source file.
rules='' a=''
for f in $RULED; do
	eval "a=\$ALLOW_$f"
	rules="$rules$f=$a;"
done
# shellcheck disable=SC2046
awk -v rules="$rules" -v wm="$WORKER_MASTER_ALLOW" -v gen="$GENERATED" \
    -v list="$tmp/files" '
function folder(p) { sub(/\/.*/, "", p); return p }
function dir(p) { if (p !~ /\//) return ""; sub(/\/[^\/]*$/, "", p); return p }
function base(p) { sub(/.*\//, "", p); return p }
# p without "." and "dir/.." components.
function norm(p,    a, n, i, o, k, r) {
	n = split(p, a, "/")
	k = 0
	for (i = 1; i <= n; i++) {
		if (a[i] == "." || a[i] == "")
			continue
		if (a[i] == ".." && k > 0 && o[k] != "..")
			k--
		else
			o[++k] = a[i]
	}
	r = ""
	for (i = 1; i <= k; i++)
		r = r (i > 1 ? "/" : "") o[i]
	return r
}
function shown(f,    s, a, n, i) {
	n = split(f, a, " ")
	for (i = 1; i <= n; i++)
		s = s (i == 1 ? "" : i == n ? " and " : ", ") \
		    (a[i] == "include" ? "include/mgw" : a[i]) "/"
	return s
}
BEGIN {
	while ((getline p < list) > 0) {
		known[p] = 1
		byname[base(p)] = byname[base(p)] " " p
	}
	n = split(rules, r, ";")
	for (i = 1; i <= n; i++) {
		if (r[i] == "")
			continue
		split(r[i], kv, "=")
		ruled[kv[1]] = 1
		allowtext[kv[1]] = kv[2]
		m = split(kv[2], a, " ")
		for (j = 1; j <= m; j++)
			allow[kv[1], a[j]] = 1
		allow[kv[1], kv[1]] = 1
	}
	m = split(wm, a, " ")
	for (j = 1; j <= m; j++)
		wmallow[a[j]] = 1
	m = split(gen, a, " ")
	for (j = 1; j <= m; j++)
		generated[a[j]] = 1
}
FNR == 1 { incomment = 0 }
# Resolve name as included from file; sets rpath, returns the folder, ""
# for none, "?" when files in several folders match.
function resolve(name, file, quoted,    d, c, n, i, f, fs, cand, p) {
	rpath = ""
	d = dir(file)
	if (quoted && ((p = norm(d "/" name)) in known)) {
		rpath = p
		return folder(p)
	}
	if (name in known) { rpath = name; return folder(name) }
	if (("include/" name) in known) {
		rpath = "include/" name
		return "include"
	}
	n = split(byname[base(name)], cand, " ")
	fs = ""
	for (i = 1; i <= n; i++) {
		p = cand[i]
		if (p != name && substr(p, length(p) - length(name)) != "/" name)
			continue
		f = folder(p)
		if (rpath == "") { rpath = p; fs = f }
		else if (f != fs) { rpath = rpath ", " p; fs = "?" }
	}
	return fs
}
{
	line = $0
	# Drop comments, so that neither counts when commented out.
	out = ""
	while (line != "") {
		if (incomment) {
			i = index(line, "*/")
			if (i == 0) { line = ""; break }
			line = substr(line, i + 2); incomment = 0
		} else {
			i = index(line, "/*")
			j = index(line, "//")
			if (j > 0 && (i == 0 || j < i)) {
				out = out substr(line, 1, j - 1)
				line = ""
				break
			}
			if (i == 0) { out = out line; line = ""; break }
			out = out substr(line, 1, i - 1) " "
			line = substr(line, i + 2); incomment = 1
		}
	}
	line = out
	file = FILENAME
	f = folder(file)
	where = file ":" FNR ": "
	if (file ~ /\.c$/ && line ~ /(^|[^A-Za-z0-9_])extern[ \t]/ &&
	    line !~ /extern[ \t]*"C"/)
		print where "extern declaration in a .c file (declare it in a header)"
	if (line !~ /^[ \t]*#[ \t]*include[ \t]*[<"]/)
		next
	quoted = line ~ /^[ \t]*#[ \t]*include[ \t]*"/
	name = line
	sub(/^[ \t]*#[ \t]*include[ \t]*[<"]/, "", name)
	sub(/[>"].*/, "", name)
	if (name ~ /\.c$/) {
		print where "#include of a .c file (" name ")"
		next
	}
	tf = resolve(name, file, quoted)
	if (tf == "?") {
		print where "\"" name "\" is ambiguous: " rpath
		next
	}
	if (tf == "") {
		if (quoted && !(base(name) in generated))
			print where "\"" name "\" names no file in the tree"
		next
	}
	if (!(f in ruled) || ((f, tf) in allow))
		next
	if ((f == "worker" || f == "status") && tf == "master" &&
	    (base(rpath) in wmallow))
		next
	print where shown(f) " may include only " shown(allowtext[f]) \
	    " headers: " (quoted ? "\"" name "\"" : "<" name ">") " is " rpath
}' $(cat "$tmp/files") > "$tmp/out"

# nm: who defines what the lib/ and shm/ archives leave undefined.
# objs FOLDER: the object files of FOLDER, from its archive if there is one.
objs() {
	if [ -f "$BUILDDIR/libmgw$1.a" ]; then
		echo "$BUILDDIR/libmgw$1.a"
	else
		for o in "$BUILDDIR/$1"/*.o; do [ -f "$o" ] && echo "$o"; done
	fi
}
nmcheck=1
if [ ! -d "$BUILDDIR" ] || [ -z "$(objs lib)" ] || [ -z "$(objs shm)" ]; then
	if [ "$explicit" = 1 ]; then
		echo "check-layers: $BUILDDIR: no lib/ and shm/ objects; build first" >&2
		exit 2
	fi
	echo "check-layers: no objects in $BUILDDIR, nm check skipped" >&2
	nmcheck=0
fi
if [ "$nmcheck" = 1 ]; then
	fb=
	for f in lib shm; do
		[ -f "$BUILDDIR/libmgw$f.a" ] || fb="$fb $BUILDDIR/$f/*.o"
	done
	[ -n "$fb" ] && echo "check-layers: no per-folder archive, nm reads$fb" >&2
	# "folder symbol" for every global symbol each folder defines.
	for f in lib shm include plugins worker ctl status master; do
		o=$(objs "$f")
		[ -n "$o" ] || continue
		# shellcheck disable=SC2086
		nm -g --defined-only $o 2>/dev/null |
		    awk -v f="$f" 'NF == 3 { print f, $3 }'
	done > "$tmp/defs"
	for f in lib shm; do
		# shellcheck disable=SC2046
		nm -A -u $(objs "$f") 2>/dev/null | awk -v f="$f" '{ print f, $0 }'
	done > "$tmp/undef"
	awk -v tmp="$tmp" '
	FILENAME ~ /defs$/ { def[$2] = def[$2] " " $1; next }
	{
		# "lib build/lib/log.o: U sym" or
		# "shm build/libmgwshm.a:libmgwshm_a-metrics.o: U sym"
		f = $1; sym = $NF; obj = $2
		sub(/:$/, "", obj); sub(/.*[:\/]/, "", obj)
		sub(/^lib[A-Za-z0-9_]*_a-/, "", obj)
		src = f "/" obj; sub(/\.o$/, ".c", src)
		n = split(def[sym], d, " ")
		ok = 0; by = ""
		for (i = 1; i <= n; i++) {
			if (d[i] == f || d[i] == "lib")
				ok = 1
			else
				by = by (by == "" ? "" : ", ") d[i] "/"
		}
		if (ok || by == "" || seen[src, sym]++)
			next
		print src "\t" sym "\t" f "\t" by
	}' "$tmp/defs" "$tmp/undef" > "$tmp/nm"
	# Point at the first line of the source that names the symbol.
	while IFS='	' read -r src sym f by; do
		ln=$(grep -n -w -m1 -- "$sym" "$src" 2>/dev/null | cut -d: -f1)
		allowed="lib/"
		[ "$f" = shm ] && allowed="lib/, shm/"
		echo "$src:${ln:-1}: $f/ archive uses $sym, defined in $by" \
		    "(nm -u may resolve only to $allowed and system libraries)"
	done < "$tmp/nm" >> "$tmp/out"
fi

if [ -s "$tmp/out" ]; then
	cat "$tmp/out"
	echo "check-layers: $(wc -l < "$tmp/out" | tr -d ' ') violations" >&2
	exit 1
fi
echo "layers OK"
exit 0
