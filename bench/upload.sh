#!/usr/bin/env bash
# bench/upload: a large upload through `kadr upload` on loopback into `kadr all` (local
# storage), against a raw baseline measured in the same run: the same bytes copied to the
# same disk with dd and fsync. Prints throughput of both, their ratio, and the peak RSS growth
# of the server during the upload.
#
#   BENCH_UPLOAD_MIB=2048 bench/upload.sh      (size of the upload; default 2048 = 2 GiB)
#
# Targets (issue 3): ratio >= 0.8, RSS growth <= 64 MiB.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KADR=${KADR_BIN:-$ROOT/target/release/kadr}
# kadr reads every KADR_* variable as configuration and refuses unknown ones.
unset KADR_BIN
WORK=${BENCH_DIR:-$ROOT/target/bench-upload}
MIB=${BENCH_UPLOAD_MIB:-2048}
[ -x "$KADR" ] || { echo "bench: build first (cargo build --release)" >&2; exit 1; }

rm -rf "$WORK"
mkdir -p "$WORK"
echo "bench/upload: generating ${MIB} MiB of random input" >&2
head -c $((MIB * 1048576)) /dev/urandom > "$WORK/input.bin"

now() { date +%s.%N; }

# Baseline: the same bytes written to the same disk, synced.
sync
t0=$(now)
dd if="$WORK/input.bin" of="$WORK/baseline.bin" bs=16M conv=fsync status=none
t1=$(now)
rm -f "$WORK/baseline.bin"
base_secs=$(echo "$t1 - $t0" | bc -l)

# The server: kadr all, local storage in the same work dir.
KADR_ADMIN_PASSWORD=bench-admin-password "$KADR" all --data-dir "$WORK/var" --listen 127.0.0.1:0 \
  2> "$WORK/kadr.log" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null || true; wait $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  ADDR=$(grep -o 'listening on http://[0-9.:]*' "$WORK/kadr.log" | head -1 | sed 's#listening on http://##' || true)
  [ -n "$ADDR" ] && break
  sleep 0.1
done
[ -n "${ADDR:-}" ] || { echo "bench: kadr did not start" >&2; cat "$WORK/kadr.log" >&2; exit 1; }
SERVER="http://$ADDR"
curl -sf -XPOST "$SERVER/api/v1/users" -H 'content-type: application/json' \
  -d '{"username":"bench","email":"bench@example.org","password":"bench-password"}' > /dev/null
TOKEN=$(curl -sf -XPOST "$SERVER/api/v1/auth/token" -H 'content-type: application/json' \
  -d '{"username":"bench","password":"bench-password"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$PID/status"; }
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$PID/status"; }
# Start the peak count from now (resets VmHWM to the current RSS).
echo 5 > "/proc/$PID/clear_refs" 2>/dev/null || true
rss_before=$(rss_kib)

t0=$(now)
VIDEO=$(XDG_STATE_HOME="$WORK/state" "$KADR" upload "$WORK/input.bin" --title bench --privacy private \
  --server "$SERVER" --token "$TOKEN" 2> "$WORK/upload.log")
t1=$(now)
up_secs=$(echo "$t1 - $t0" | bc -l)
hwm_after=$(hwm_kib)

stored=$(stat -c %s "$WORK/var/media/originals/$VIDEO/source")
[ "$stored" -eq $((MIB * 1048576)) ] || { echo "bench: stored $stored bytes, expected $((MIB * 1048576))" >&2; exit 1; }

base_mbs=$(echo "$MIB / $base_secs" | bc -l)
up_mbs=$(echo "$MIB / $up_secs" | bc -l)
ratio=$(echo "$up_mbs / $base_mbs" | bc -l)
growth_mib=$(echo "($hwm_after - $rss_before) / 1024" | bc -l)
verdict() { if [ "$(echo "$1" | bc -l)" -eq 1 ]; then echo ok; else echo MISSED; fi; }

printf 'bench/upload: %d MiB\n' "$MIB"
printf '  raw baseline (dd, fsync, same disk): %8.1f MiB/s  (%.2f s)\n' "$base_mbs" "$base_secs"
printf '  kadr upload over loopback:           %8.1f MiB/s  (%.2f s)\n' "$up_mbs" "$up_secs"
printf '  ratio upload/baseline:               %8.2f   (target >= 0.80: %s)\n' "$ratio" "$(verdict "$ratio >= 0.8")"
printf '  server peak RSS growth:              %8.1f MiB (target <= 64: %s)\n' "$growth_mib" "$(verdict "$growth_mib <= 64")"
rm -rf "$WORK/input.bin" "$WORK/var/media"

# Part 2: on SeaweedFS, tus through the upload API against direct-to-S3 uploads (the parts
# sent by `kadr upload --direct` straight to storage with presigned URLs), the same file, the
# same run. A standalone `kadr upload-api` (on the Postgres of a `kadr all` that keeps the
# catalog) is the process measured: its CPU seconds per GiB, from /proc/PID/stat.
#
#   BENCH_S3_MIB=1024 (size of the upload; default 1024)
S3_MIB=${BENCH_S3_MIB:-1024}
WEED_DIR="$WORK/seaweed"
echo "bench/upload: SeaweedFS, ${S3_MIB} MiB, tus through the app vs direct to S3" >&2
"$ROOT/tests/s3/seaweed.sh" start "$WEED_DIR" > /dev/null
# shellcheck disable=SC1091
. "$WEED_DIR/env"
kill -TERM $PID 2>/dev/null || true; wait $PID 2>/dev/null || true
S3ENV=(KADR_STORAGE__BACKEND=s3 KADR_STORAGE__S3__ENDPOINT="$KADR_TEST_S3_ENDPOINT"
  KADR_STORAGE__S3__BUCKET="$KADR_TEST_S3_BUCKET" KADR_STORAGE__S3__ACCESS_KEY_ID="$KADR_TEST_S3_ACCESS_KEY_ID"
  KADR_STORAGE__S3__SECRET_ACCESS_KEY="$KADR_TEST_S3_SECRET_ACCESS_KEY" KADR_STORAGE__S3__PATH_STYLE=true
  KADR_API__MEDIA_SECRET=bench-media-secret-bench-media-secret KADR_UPLOAD__USER_QUOTA_BYTES=0)
env "${S3ENV[@]}" KADR_ADMIN_PASSWORD=bench-admin-password "$KADR" all --data-dir "$WORK/var-s3" \
  --listen 127.0.0.1:0 2> "$WORK/kadr-s3.log" &
PID=$!
UP_PID=""
trap 'kill -TERM $PID $UP_PID 2>/dev/null || true; wait $PID $UP_PID 2>/dev/null || true; "$ROOT/tests/s3/seaweed.sh" stop "$WEED_DIR"' EXIT
for _ in $(seq 1 300); do
  grep -q 'listening on http://' "$WORK/kadr-s3.log" && break
  sleep 0.1
done
DB_URL="postgres://kadr@localhost/kadr?host=$(cd "$WORK/var-s3/postgres" && pwd)"
env "${S3ENV[@]}" KADR_DATABASE__URL="$DB_URL" KADR_UPLOAD_API__LISTEN=127.0.0.1:0 \
  "$KADR" upload-api 2> "$WORK/upload-api.log" &
UP_PID=$!
for _ in $(seq 1 300); do
  UADDR=$(grep -o 'listening on http://[0-9.:]*' "$WORK/upload-api.log" | head -1 | sed 's#listening on http://##' || true)
  [ -n "$UADDR" ] && break
  sleep 0.1
done
[ -n "${UADDR:-}" ] || { echo "bench: upload-api did not start" >&2; cat "$WORK/upload-api.log" >&2; exit 1; }
USERVER="http://$UADDR"
curl -sf -XPOST "$USERVER/api/v1/users" -H 'content-type: application/json' \
  -d '{"username":"bench","email":"bench@example.org","password":"bench-password"}' > /dev/null
TOKEN=$(curl -sf -XPOST "$USERVER/api/v1/auth/token" -H 'content-type: application/json' \
  -d '{"username":"bench","password":"bench-password"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])')
head -c $((S3_MIB * 1048576)) /dev/urandom > "$WORK/input-s3.bin"
ticks() { awk '{print $14 + $15}' "/proc/$UP_PID/stat"; }
HZ=$(getconf CLK_TCK)
run_upload() { # $1: extra flag ("" or --direct); prints "seconds cpu_seconds"
  local c0 c1 t0 t1
  c0=$(ticks); t0=$(now)
  # shellcheck disable=SC2086
  XDG_STATE_HOME="$WORK/state-s3" "$KADR" upload "$WORK/input-s3.bin" $1 --title bench --privacy private \
    --server "$USERVER" --token "$TOKEN" --restart > /dev/null 2>> "$WORK/upload-s3.log"
  t1=$(now); c1=$(ticks)
  echo "$(echo "$t1 - $t0" | bc -l) $(echo "($c1 - $c0) / $HZ" | bc -l)"
}
read -r tus_secs tus_cpu < <(run_upload "")
read -r dir_secs dir_cpu < <(run_upload --direct)
grep -q "straight to storage" "$WORK/upload-s3.log" || { echo "bench: the direct upload fell back to tus" >&2; exit 1; }
gib=$(echo "$S3_MIB / 1024" | bc -l)
printf 'bench/upload: %d MiB on SeaweedFS (one machine: client, upload API and storage share 2 cores)\n' "$S3_MIB"
printf '  tus through the upload API:  %8.1f MiB/s, upload API %6.2f CPU-s per GiB\n' \
  "$(echo "$S3_MIB / $tus_secs" | bc -l)" "$(echo "$tus_cpu / $gib" | bc -l)"
printf '  direct to S3 (presigned):    %8.1f MiB/s, upload API %6.2f CPU-s per GiB\n' \
  "$(echo "$S3_MIB / $dir_secs" | bc -l)" "$(echo "$dir_cpu / $gib" | bc -l)"
printf '  ratio direct/tus throughput: %8.2f\n' "$(echo "$tus_secs / $dir_secs" | bc -l)"
rm -rf "$WORK/input-s3.bin" "$WORK/seaweed/data"
