#!/bin/sh
# tools/test.sh: install the test dependencies, build mgw twice (normal,
# and ASan+UBSan), run `make check` in both, build with clang, check the
# folder layers (tools/check-layers.sh), and print one summary line.
set -u
cd "$(dirname "$0")/.."
sh tools/deps.sh test || exit 1
if ! { [ -x configure ] && [ configure -nt configure.ac ] &&
    [ Makefile.in -nt Makefile.am ]; }; then
	autoreconf -fi >/dev/null 2>&1 || { echo "autoreconf failed"; exit 1; }
fi
jobs=$(nproc)
pass=0 fail=0 skip=0 rc=0
for v in check asan; do
	d=build-$v
	flags=
	[ $v = asan ] && flags=--enable-asan
	mkdir -p $d
	echo "=== $v build"
	if ! (cd $d && { [ -f Makefile ] || ../configure --quiet $flags; } &&
	    make -s -j"$jobs" >build.log 2>&1); then
		tail -30 $d/build.log
		echo "0 passed, 1 failed"
		exit 1
	fi
	echo "=== $v: make check"
	(cd $d && ASAN_OPTIONS=detect_leaks=1 \
	    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    make -j"$jobs" check >check.log 2>&1) || rc=1
	grep -E '^(PASS|FAIL|SKIP|XFAIL|XPASS|ERROR):' $d/check.log
	for t in $(sed -n 's/^\(FAIL\|ERROR\|XPASS\): //p' $d/check.log); do
		echo "--- $v: $t"
		tail -40 "$d/$t.log" 2>/dev/null
	done
	p=$(grep -c '^PASS:' $d/check.log)
	f=$(grep -Ec '^(FAIL|ERROR|XPASS):' $d/check.log)
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		# make check itself broke before reporting: show why, count it.
		tail -20 $d/check.log
		f=1
	fi
	s=$(grep -Ec '^(SKIP|XFAIL):' $d/check.log)
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
done
# The code must also build warning-free under clang (-Werror).
echo "=== clang build"
mkdir -p build-clang
if (cd build-clang && { [ -f Makefile ] || ../configure --quiet CC=clang; } &&
    make -s -j"$jobs" all tests/unit/test-conf >build.log 2>&1); then
	echo "PASS: clang build"
	pass=$((pass + 1))
else
	tail -30 build-clang/build.log
	echo "FAIL: clang build"
	fail=$((fail + 1))
fi
# The folders are layers (issue 11): every include and every undefined
# symbol of the leaf archives is checked against the rules.
echo "=== layers"
if sh tools/check-layers.sh build-check; then
	echo "PASS: tools/check-layers.sh"
	pass=$((pass + 1))
else
	echo "FAIL: tools/check-layers.sh"
	fail=$((fail + 1))
fi
[ $fail -gt 0 ] && rc=1
[ $pass -eq 0 ] && rc=1
echo "$pass passed, $fail failed, $skip skipped"
exit $rc
