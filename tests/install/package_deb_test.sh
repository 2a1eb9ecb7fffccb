#!/usr/bin/env bash
# The Debian packages as an operator gets them: `cpack -G DEB` from the build directory, then
#  1. the control data (names, Depends from dpkg-shlibdeps, adduser, the conffile) and the
#     files (stripped binaries, the systemd unit, the default zoo.cfg);
#  2. the extracted package's corral-server run on its default zoo.cfg (port and dataDir
#     moved into a temporary directory) and used through the extracted corral CLI;
#  3. as root, when no corral package is installed already: a real `dpkg -i`: the corral
#     user and /var/lib/corral exist, `systemd-analyze verify` accepts corral@zoo.service,
#     the unit's ExecStart runs as the corral user on a copy of /etc/corral/zoo.cfg, then
#     `dpkg --purge` removes the files and keeps the user and data (the test removes them).
#     Otherwise this part is skipped and says why (it installs and removes a package).
#   tests/install/package_deb_test.sh BUILD_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
work=$(mktemp -d /tmp/corral-deb-test.XXXXXX)
server_pid=""
installed_here=0
cleanup() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if ((installed_here)); then
    dpkg --purge corral >/dev/null 2>&1 || true
    deluser --system corral >/dev/null 2>&1 || true
    rm -rf /var/lib/corral /etc/corral/pkgtest.cfg
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*"
  exit 1
}
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# Waits (at most 10 s) until the server $3 listens on 127.0.0.1:$2, then creates and reads
# /pkg through the CLI at $1.
check_server() {
  local cli=$1 port=$2 pid=$3
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || { cat "$work/server.log"; fail "the packaged server exited"; }
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  "$cli" -s "127.0.0.1:$port" --timeout 5000 create /pkg hello >/dev/null ||
    { cat "$work/server.log"; fail "create /pkg on the packaged server (port $port)"; }
  [[ $("$cli" -s "127.0.0.1:$port" --timeout 5000 get /pkg) == hello ]] ||
    fail "the packaged server on port $port does not serve /pkg"
}

(cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log"; fail "cpack -G DEB"; }
deb=$(ls "$work"/out/corral_*_amd64.deb)
dev=$(ls "$work"/out/corral-dev_*_amd64.deb)
echo "built $(basename "$deb") ($(stat -c %s "$deb") bytes), $(basename "$dev")"

# 1. control data and files
control=$(dpkg-deb -f "$deb")
grep -q '^Package: corral$' <<<"$control" || fail "package name"
depends=$(dpkg-deb -f "$deb" Depends)
for dep in adduser libsqlite3-0 libprotobuf libssl3 libabsl20220623; do
  grep -q "$dep" <<<"$depends" || fail "Depends lacks $dep: $depends"
done
[[ $(dpkg-deb -I "$deb" conffiles) == /etc/corral/zoo.cfg ]] || fail "conffiles"
[[ $(dpkg-deb -f "$dev" Package) == corral-dev ]] || fail "dev package name"
files=$(dpkg-deb -c "$deb")
for f in ./usr/bin/corral-server ./usr/bin/corral ./usr/lib/systemd/system/corral@.service \
  ./etc/corral/zoo.cfg ./usr/share/doc/corral/LICENSE; do
  grep -q " $f\$" <<<"$files" || fail "$f not in the package"
done
dev_files=$(dpkg-deb -c "$dev")
grep -q " ./usr/include/corral/client/client.h$" <<<"$dev_files" || fail "dev headers"
root="$work/root"
dpkg -x "$deb" "$root"
readelf -S "$root/usr/bin/corral-server" | grep -q debug_line && fail "corral-server not stripped"

# 2. the extracted server on the packaged configuration
port=$(free_port)
mkdir -p "$work/data"
sed -e "s|^dataDir=.*|dataDir=$work/data|" -e "s|^clientPort=.*|clientPort=$port|" \
  "$root/etc/corral/zoo.cfg" >"$work/zoo.cfg"
"$root/usr/bin/corral-server" "$work/zoo.cfg" >"$work/server.log" 2>&1 &
server_pid=$!
check_server "$root/usr/bin/corral" "$port" "$server_pid"
kill "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
server_pid=""
echo "ok: the extracted package serves on its default zoo.cfg"

# 3. a real installation
if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP dpkg -i: not root"
  exit 0
fi
status=$(dpkg-query -W -f='${Status}' corral 2>/dev/null || true)
if [[ $status == *installed* || -e /var/lib/corral ]] || getent passwd corral >/dev/null; then
  echo "SKIP dpkg -i: a corral package, user or /var/lib/corral is already on this machine"
  exit 0
fi
installed_here=1
dpkg -i "$deb" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i"; }
getent passwd corral >/dev/null || fail "no corral user after dpkg -i"
[[ $(stat -c %U /var/lib/corral) == corral ]] || fail "/var/lib/corral not owned by corral"
cp /usr/lib/systemd/system/corral@.service "$work/corral@zoo.service"
systemd-analyze verify --man=no "$work/corral@zoo.service" || fail "systemd-analyze verify"
# The unit runs `corral-server /etc/corral/%i.cfg` as corral; a copy on a free port stands in
# for /etc/corral/zoo.cfg (2181 may be taken), with the packaged dataDir.
port=$(free_port)
sed -e "s|^clientPort=.*|clientPort=$port|" /etc/corral/zoo.cfg >/etc/corral/pkgtest.cfg
exec_start=$(sed -n 's/^ExecStart=//p' /usr/lib/systemd/system/corral@.service)
runuser -u corral -- ${exec_start//%i/pkgtest} >"$work/server.log" 2>&1 &
server_pid=$!
check_server /usr/bin/corral "$port" "$server_pid"
[[ $(stat -c %U /var/lib/corral/"$(ls /var/lib/corral | head -1)") == corral ]] ||
  fail "the server's files in /var/lib/corral are not the corral user's"
kill "$server_pid" 2>/dev/null || true
wait "$server_pid" 2>/dev/null || true
server_pid=""
rm -f /etc/corral/pkgtest.cfg
dpkg --purge corral >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg --purge"; }
[[ ! -e /usr/bin/corral-server && ! -e /etc/corral/zoo.cfg ]] || fail "files left after purge"
getent passwd corral >/dev/null || fail "purge removed the corral user (Debian keeps system users)"
deluser --system corral >/dev/null
rm -rf /var/lib/corral
installed_here=0
echo "ok: dpkg -i, the unit's command as the corral user, dpkg --purge"
