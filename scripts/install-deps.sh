#!/usr/bin/env bash
# Installs everything Corral needs to build and test on Debian 12.
# Apache ZooKeeper 3.8 is installed only as the oracle for compat tests; python3-kazoo only for
# the kazoo interop test (tests/recipes/kazoo_interop_test.py) and, with python3-pure-sasl, the
# SASL test (tests/sasl); python3-pytest(-timeout), python3-mock and python3-objgraph only to
# run kazoo's own test suite (tests/kazoo); iproute2 and iptables only for
# the fault-injection tests (tests/nemesis, network namespaces); chromium and Node.js (with
# npm, for playwright-core) only for the dashboard's browser test (tests/web); adduser and
# systemd (systemd-analyze) only for the Debian package's test (tests/install); prometheus
# (for promtool) and the Jetty and servlet jars (ZooKeeper's AdminServer, as the oracle) only
# for the metrics and AdminServer tests (tests/ops).
set -euo pipefail
packages=(
  build-essential g++ cmake ninja-build pkg-config
  libasio-dev libprotobuf-dev protobuf-compiler libsqlite3-dev libxxhash-dev libcpprest-dev libssl-dev libjemalloc-dev
  libabsl-dev
  libspdlog-dev nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev libedit-dev
  clang libclang-rt-14-dev
  zookeeper zookeeper-bin libzookeeper-mt-dev default-jre-headless
  netcat-openbsd procps sqlite3 curl python3 python3-kazoo python3-pure-sasl
  python3-pytest python3-pytest-timeout python3-mock python3-objgraph
  iproute2 iptables
  adduser systemd
  chromium fonts-dejavu-core nodejs
  prometheus libjetty9-java libservlet-api-java
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
# npm comes with NodeSource's nodejs; Debian's nodejs needs Debian's npm package beside it.
if ! command -v npm >/dev/null; then
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO=sudo
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq npm
fi
