#!/bin/sh
# tools/quickstart.sh: install the build dependencies, build mgw in ./build
# and run mgwd in the foreground on etc/mgw.conf (the demo API on :9090,
# the admin listener on 127.0.0.1:9091).  Stop it with Ctrl-C.
set -e
cd "$(dirname "$0")/.."
top=$(pwd)
sh tools/deps.sh build
[ -x configure ] && [ configure -nt configure.ac ] && [ Makefile.in -nt Makefile.am ] ||
    autoreconf -fi >/dev/null 2>&1
mkdir -p build/run
cd build
[ -f Makefile ] || ../configure --quiet
make -s -j"$(nproc)" mgwd mgwctl
cat <<EOT

mgwd is starting on the sample configuration (etc/mgw.conf). Try:
  curl -i http://127.0.0.1:9090/demo/v1/hello
  curl -i http://127.0.0.1:9090/demo/v1/items/42
  curl -i -X DELETE http://127.0.0.1:9090/demo/v1/hello
  curl http://127.0.0.1:9091/status
  $top/build/mgwctl -s $top/build/run/mgwd.sock status

EOT
exec env MGW_GATEWAY_PID_FILE="$top/build/run/mgwd.pid" \
    MGW_GATEWAY_CONTROL_SOCKET="$top/build/run/mgwd.sock" \
    MGW_GATEWAY_ACCESS_LOG="$top/build/run/access.log" \
    ./mgwd -d -f "$top/etc/mgw.conf"
