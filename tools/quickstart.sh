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
  curl http://127.0.0.1:9091/metrics
  open http://127.0.0.1:9091/status.html in a browser on this machine
  ls $top/build/run/analytics     (usage events, one JSON line per call)
  $top/build/mgwctl -s $top/build/run/mgwd.sock status

EOT
# Everything stays under ./build/run, which may be inside /root where the
# default worker user ("nobody") cannot reach: the demo keeps its workers
# as root.  An installed mgwd uses $localstatedir and drops privileges.
exec env MGW_GATEWAY_USER=root \
    MGW_GATEWAY_PID_FILE="$top/build/run/mgwd.pid" \
    MGW_GATEWAY_CONTROL_SOCKET="$top/build/run/mgwd.sock" \
    MGW_GATEWAY_ACCESS_LOG="$top/build/run/access.log" \
    MGW_ANALYTICS_DIRECTORY="$top/build/run/analytics" \
    MGW_SECURITY_REVOCATION_FILE="$top/build/run/revoked" \
    ./mgwd -d -f "$top/etc/mgw.conf"
