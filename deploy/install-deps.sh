#!/usr/bin/env bash
# Installs what building, running and testing Kadr needs on Debian/Ubuntu: PostgreSQL server
# binaries (the embedded database and the test clusters), FFmpeg's development libraries and
# CLI, clang/libclang (bindgen for ffmpeg-next), pkg-config, and the Rust tools used by
# `make test`. Elsewhere it says what to install. Safe to run again: it does nothing when
# everything is present.
set -euo pipefail

APT_PACKAGES=(
  postgresql
  libavcodec-dev libavformat-dev libavfilter-dev libavdevice-dev
  libswscale-dev libswresample-dev libavutil-dev
  libclang-dev clang pkg-config ffmpeg
  curl bc
)

SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
fi

if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then
      echo "kadr: missing packages: ${missing[*]}" >&2
      echo "kadr: run as root: apt-get install -y ${missing[*]}" >&2
      exit 1
    fi
    echo "kadr: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
elif ! command -v dpkg-query >/dev/null 2>&1; then
  ok=1
  command -v pkg-config >/dev/null 2>&1 && pkg-config --exists libavcodec libavformat libswscale || ok=0
  command -v initdb >/dev/null 2>&1 || command -v pg_config >/dev/null 2>&1 || ok=0
  if [ "$ok" -eq 0 ]; then
    cat >&2 <<'MSG'
kadr: this is not Debian/Ubuntu, so nothing was installed. Kadr needs:
  - PostgreSQL 13+ server binaries (initdb, postgres)
  - FFmpeg 5.x or 6.x development libraries (libavcodec, libavformat, libavfilter, libavdevice,
    libswscale, libswresample, libavutil) and the ffmpeg CLI (tests only)
  - clang/libclang and pkg-config
MSG
    exit 1
  fi
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "kadr: cargo not found: install Rust (https://rustup.rs), version 1.95 or newer" >&2
  exit 1
fi
if command -v rustup >/dev/null 2>&1; then
  for c in rustfmt clippy; do
    rustup component list --installed 2>/dev/null | grep -q "^$c" || rustup component add "$c"
  done
fi
# The web UI is built with Node.js (Vite 7 wants Node 20.19 or newer).
if ! command -v npm >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  echo "kadr: installing nodejs npm" >&2
  ${SUDO:-} apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
if ! node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' 2>/dev/null; then
  echo "kadr: Node.js 20.19 or newer is needed to build the web UI (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
if [ "${1:-}" = "--test" ]; then
  # The official tus clients (tus-js-client on Node, tuspy on Python) drive the upload tests;
  # the web UI's tests drive Debian's chromium with playwright-core.
  extra=()
  python3 -m venv --help >/dev/null 2>&1 || extra+=(python3-venv)
  command -v systemd-analyze >/dev/null 2>&1 || extra+=(systemd)
  command -v curl >/dev/null 2>&1 || extra+=(curl)
  [ -x /usr/bin/chromium ] || extra+=(chromium)
  # deploy/check.sh: kubectl (kustomize), promtool (the alert rules), and nginx, which both
  # it and tests/it/deploy.rs run on the proxy's config. (Debian's prometheus package also
  # installs a Prometheus service; where systemd runs it, `systemctl disable --now
  # prometheus` stops it.)
  command -v kubectl >/dev/null 2>&1 || extra+=(kubernetes-client)
  command -v promtool >/dev/null 2>&1 || extra+=(prometheus)
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || extra+=(nginx-light)
  if [ ${#extra[@]} -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "kadr: installing ${extra[*]}" >&2
    ${SUDO:-} apt-get install -y -qq --no-install-recommends "${extra[@]}" >/dev/null
  fi
fi
if [ "${1:-}" = "--bench" ]; then
  # bench/serve measures against nginx with wrk.
  extra=()
  command -v wrk >/dev/null 2>&1 || extra+=(wrk)
  command -v nginx >/dev/null 2>&1 || extra+=(nginx-light)
  command -v psql >/dev/null 2>&1 || extra+=(postgresql-client)
  if [ ${#extra[@]} -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "kadr: installing ${extra[*]}" >&2
    ${SUDO:-} apt-get install -y -qq --no-install-recommends "${extra[@]}" >/dev/null
  fi
fi
if [ "${1:-}" = "--test" ] && ! cargo nextest --version >/dev/null 2>&1; then
  echo "kadr: installing cargo-nextest" >&2
  cargo install cargo-nextest --locked
fi
