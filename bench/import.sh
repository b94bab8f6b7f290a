#!/usr/bin/env bash
# bench/import: catalogue imports, against baselines measured in the same run.
#
#   1. URL import of a large file (default 2 GiB) from a local HTTP server with Range
#      (bench/range_server.py): `kadr worker` running `fetch` jobs against curl writing the
#      same bytes to the same disk (then synced, as the worker syncs its part file). Printed:
#      both throughputs and their ratio.
#   2. The same import with the worker killed by SIGKILL half-way and another worker started:
#      the bytes the server sent in all, against the file's size (resumed, not started over).
#   3. 10,000 manifest entries whose media already sit in the same S3 endpoint (SeaweedFS,
#      a source without an endpoint: copied inside the S3 server), through `kadr import`:
#      entries per second until every import is fetched, and the server's peak RSS growth;
#      against the storage's own CopyObject rate (curl --aws-sigv4, as many at a time as Kadr
#      copies: BENCH_IMPORT_CONCURRENCY).
#
#   BENCH_IMPORT_MIB=2048      size of the URL import
#   BENCH_IMPORT_ENTRIES=10000 manifest entries
#   BENCH_IMPORT_CONCURRENCY=16 fetch jobs per worker (import.concurrency) in part 3
#   BENCH_IMPORT_PARTS=url,s3  which to run: url (parts 1 and 2), s3 (part 3)
#
# Targets (issue 17): URL import >= 0.8x curl; resumed after SIGKILL without starting over;
# >= 200 entries/s with bounded memory.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KADR=${KADR_BIN:-$ROOT/target/release/kadr}
# kadr reads every KADR_* variable as configuration and refuses unknown ones.
unset KADR_BIN
WORK=${BENCH_DIR:-$ROOT/target/bench-import}
MIB=${BENCH_IMPORT_MIB:-2048}
ENTRIES=${BENCH_IMPORT_ENTRIES:-10000}
CONC=${BENCH_IMPORT_CONCURRENCY:-16}
PARTS=${BENCH_IMPORT_PARTS:-url,s3}
[ -x "$KADR" ] || { echo "bench: build first (cargo build --release)" >&2; exit 1; }
for t in curl psql python3 bc ffmpeg; do
  command -v "$t" >/dev/null || { echo "bench/import: $t missing: run deploy/install-deps.sh --bench" >&2; exit 1; }
done

rm -rf "$WORK"
mkdir -p "$WORK/files"
WORK=$(cd "$WORK" && pwd)
now() { date +%s.%N; }
verdict() { if [ "$(echo "$1" | bc -l)" -eq 1 ]; then echo ok; else echo MISSED; fi; }
PIDS=()
WEED_DIR="$WORK/seaweed"
cleanup() {
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -f "$WEED_DIR/env" ] && "$ROOT/tests/s3/seaweed.sh" stop "$WEED_DIR" > /dev/null 2>&1 || true
}
trap cleanup EXIT

wait_listen() { # $1: log file; prints the address
  local addr=""
  for _ in $(seq 1 600); do
    addr=$(grep -o 'listening on http://[0-9.:]*' "$1" | head -1 | sed 's#listening on http://##' || true)
    [ -n "$addr" ] && break; sleep 0.1
  done
  [ -n "$addr" ] || { echo "bench/import: no server in $1:" >&2; cat "$1" >&2; exit 1; }
  echo "$addr"
}
account() { # $1: server; prints a token
  curl -sf -XPOST "$1/api/v1/users" -H 'content-type: application/json' \
    -d '{"username":"bench","email":"bench@example.org","password":"bench-password"}' > /dev/null
  curl -sf -XPOST "$1/api/v1/auth/token" -H 'content-type: application/json' \
    -d '{"username":"bench","password":"bench-password"}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["token"])'
}

# ---- 1 and 2: a large file from a local HTTP server --------------------------------------
if [[ ",$PARTS," == *,url,* ]]; then
echo "bench/import: generating ${MIB} MiB" >&2
head -c $((MIB * 1048576)) /dev/urandom > "$WORK/files/big.bin"
cp "$WORK/files/big.bin" "$WORK/files/big2.bin"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 "$ROOT/bench/range_server.py" "$WORK/files" 127.0.0.1 "$PORT" "$WORK/served.log" &
PIDS+=($!)
ORIGIN="http://127.0.0.1:$PORT"
for _ in $(seq 1 100); do curl -sf -o /dev/null -r 0-0 "$ORIGIN/big.bin" && break; sleep 0.1; done
: > "$WORK/served.log"

# Baseline: curl to the same disk, then the file synced.
sync
t0=$(now)
curl -sf -o "$WORK/curl.bin" "$ORIGIN/big.bin"
sync -d "$WORK/curl.bin"
t1=$(now)
rm -f "$WORK/curl.bin"
curl_secs=$(echo "$t1 - $t0" | bc -l)

# kadr all keeps the API and the database; `kadr worker` processes run the fetch jobs.
ENV=(KADR_ADMIN_PASSWORD=bench-admin-password KADR_UPLOAD__USER_QUOTA_BYTES=0
  KADR_UPLOAD__MAX_SIZE_BYTES=$(( (MIB + 64) * 1048576 )) KADR_OUTBOUND__ALLOW='["127.0.0.1"]'
  KADR_QUEUE__LEASE_SECS=5 KADR_QUEUE__HEARTBEAT_SECS=1 KADR_QUEUE__POLL_INTERVAL_MS=200
  KADR_QUEUE__BACKOFF_BASE_SECS=0)
env "${ENV[@]}" KADR_WORKER__KINDS='["cleanup"]' "$KADR" all --data-dir "$WORK/var" \
  --listen 127.0.0.1:0 2> "$WORK/kadr.log" &
PIDS+=($!)
SERVER="http://$(wait_listen "$WORK/kadr.log")"
TOKEN=$(account "$SERVER")
DB_URL="postgres://kadr@localhost/kadr?host=$WORK/var/postgres"
worker() { # $1: log name; starts a fetch worker, prints its pid
  env "${ENV[@]}" KADR_DATABASE__URL="$DB_URL" KADR_DATA_DIR="$WORK/var-worker" \
    KADR_STORAGE__LOCAL__ROOT="$WORK/var/media" KADR_WORKER__KINDS='["fetch"]' \
    KADR_WORKER__LISTEN=127.0.0.1:0 "$KADR" worker > /dev/null 2> "$WORK/$1.log" &
  echo $!
}
import_url() { # $1: URL, $2: external id; prints the import id
  curl -sf -XPOST "$SERVER/api/v1/videos/import" -H "Authorization: Bearer $TOKEN" \
    -H 'content-type: application/json' -d "{\"url\":\"$1\",\"external_id\":\"$2\",\"privacy\":\"private\"}" |
    python3 -c 'import sys,json; print(json.load(sys.stdin)["id"])'
}
state() { # $1: import id; prints "state bytes_done"
  curl -sf "$SERVER/api/v1/imports/$1" -H "Authorization: Bearer $TOKEN" |
    python3 -c 'import sys,json; v=json.load(sys.stdin); print(v["state"], v["bytes_done"])'
}
wait_fetched() { # $1: import id
  local s
  for _ in $(seq 1 36000); do
    read -r s _ < <(state "$1")
    [ "$s" = fetched ] && return 0
    [ "$s" = failed ] && { echo "bench/import: the import failed" >&2; state "$1" >&2; exit 1; }
    sleep 0.05
  done
  echo "bench/import: the import did not finish" >&2; exit 1
}

W1=$(worker worker1); PIDS+=("$W1")
wait_listen "$WORK/worker1.log" > /dev/null
t0=$(now)
ID=$(import_url "$ORIGIN/big.bin" bench-big)
wait_fetched "$ID"
t1=$(now)
kadr_secs=$(echo "$t1 - $t0" | bc -l)
VIDEO=$(psql -X -At -h "$WORK/var/postgres" -U kadr kadr -c "SELECT video_id FROM imports WHERE id = '$ID'")
stored=$(stat -c %s "$WORK/var/media/originals/$VIDEO/source")
[ "$stored" -eq $((MIB * 1048576)) ] || { echo "bench/import: stored $stored bytes" >&2; exit 1; }

# 2: killed half-way, resumed by another worker.
: > "$WORK/served.log"
ID2=$(import_url "$ORIGIN/big2.bin" bench-resume)
for _ in $(seq 1 36000); do
  read -r s done < <(state "$ID2")
  [ "$done" -ge $((MIB * 1048576 / 2)) ] && break
  [ "$s" = fetched ] && { echo "bench/import: finished before the kill" >&2; exit 1; }
  sleep 0.02
done
kill -KILL "$W1"
killed_at=$done
W2=$(worker worker2); PIDS+=("$W2")
t2=$(now)
wait_fetched "$ID2"
t3=$(now)
served=$(awk '$1 == "big2.bin" { s += $3 } END { printf "%d\n", s }' "$WORK/served.log")
requests=$(awk '$1 == "big2.bin"' "$WORK/served.log" | wc -l)
resumed_from=$(awk '$1 == "big2.bin" && $2 > 0 { print $2; exit }' "$WORK/served.log")
rm -f "$WORK/files/big.bin" "$WORK/files/big2.bin"
rm -rf "$WORK/var/media/originals"

curl_mbs=$(echo "$MIB / $curl_secs" | bc -l)
kadr_mbs=$(echo "$MIB / $kadr_secs" | bc -l)
ratio=$(echo "$kadr_mbs / $curl_mbs" | bc -l)
sent_ratio=$(echo "$served / ($MIB * 1048576)" | bc -l)
printf 'bench/import: URL import of %d MiB from a local HTTP server\n' "$MIB"
printf '  baseline (curl to the same disk, synced): %8.1f MiB/s  (%.2f s)\n' "$curl_mbs" "$curl_secs"
printf '  kadr fetch job (import to fetched):       %8.1f MiB/s  (%.2f s)\n' "$kadr_mbs" "$kadr_secs"
printf '  ratio kadr/curl:                          %8.2f   (target >= 0.80: %s)\n' "$ratio" "$(verdict "$ratio >= 0.8")"
printf '  SIGKILL at %d MiB reported; resumed from byte %s after the lease lapsed; %d requests\n' \
  "$((killed_at / 1048576))" "${resumed_from:-none}" "$requests"
printf '  bytes sent in all / file size:            %8.2f   (target: < 1.5, not started over: %s)\n' \
  "$sent_ratio" "$(verdict "$sent_ratio < 1.5 && ${resumed_from:-0} > 0")"
printf '  from the kill to fetched:                 %8.2f s\n' "$(echo "$t3 - $t2" | bc -l)"
for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
PIDS=()
fi

# ---- 3: 10,000 entries already in the same S3 endpoint -----------------------------------
[[ ",$PARTS," == *,s3,* ]] || exit 0
echo "bench/import: SeaweedFS, $ENTRIES manifest entries from a bucket beside Kadr's" >&2
"$ROOT/tests/s3/seaweed.sh" start "$WEED_DIR" > /dev/null
# shellcheck disable=SC1091
. "$WEED_DIR/env"
SIG=(--aws-sigv4 "aws:amz:us-east-1:s3" --user "$KADR_TEST_S3_ACCESS_KEY_ID:$KADR_TEST_S3_SECRET_ACCESS_KEY")
EP=$KADR_TEST_S3_ENDPOINT
curl -sf "${SIG[@]}" -XPUT "$EP/archive" > /dev/null
ffmpeg -v error -y -f lavfi -i testsrc=size=320x240:rate=15 -t 2 -pix_fmt yuv420p "$WORK/clip.mp4"
curl -sf "${SIG[@]}" -T "$WORK/clip.mp4" "$EP/archive/shows/clip.mp4" > /dev/null

# Baseline: the storage's own copy rate, as many CopyObject requests at a time as Kadr makes.
COPIES=$(( ENTRIES / 10 ))
t0=$(now)
seq 1 "$COPIES" | xargs -P"$CONC" -I{} curl -sf "${SIG[@]}" -XPUT -H "x-amz-copy-source: /archive/shows/clip.mp4" \
  -o /dev/null "$EP/archive/copies/{}.mp4"
t1=$(now)
copy_rate=$(echo "$COPIES / ($t1 - $t0)" | bc -l)

S3ENV=(KADR_STORAGE__BACKEND=s3 KADR_STORAGE__S3__ENDPOINT="$EP"
  KADR_STORAGE__S3__BUCKET="$KADR_TEST_S3_BUCKET" KADR_STORAGE__S3__ACCESS_KEY_ID="$KADR_TEST_S3_ACCESS_KEY_ID"
  KADR_STORAGE__S3__SECRET_ACCESS_KEY="$KADR_TEST_S3_SECRET_ACCESS_KEY" KADR_STORAGE__S3__PATH_STYLE=true
  KADR_API__MEDIA_SECRET=bench-media-secret-bench-media-secret KADR_UPLOAD__USER_QUOTA_BYTES=0
  KADR_IMPORT__SOURCES__ARCHIVE__BUCKETS='["archive"]' KADR_IMPORT__CONCURRENCY="$CONC" KADR_IMPORT__PER_OWNER="$CONC"
  KADR_IMPORT__MAX_PENDING=$(( ENTRIES * 2 )) KADR_UPLOAD__MAX_VIDEOS_WAITING=$(( ENTRIES * 2 ))
  KADR_WORKER__KINDS='["fetch"]' KADR_ADMIN_PASSWORD=bench-admin-password)
env "${S3ENV[@]}" "$KADR" all --data-dir "$WORK/var-s3" --listen 127.0.0.1:0 2> "$WORK/kadr-s3.log" &
PID=$!
PIDS+=("$PID")
SERVER="http://$(wait_listen "$WORK/kadr-s3.log")"
TOKEN=$(account "$SERVER")
python3 - "$WORK/manifest.csv" "$ENTRIES" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    f.write("source,external_id,title,privacy\n")
    for i in range(int(sys.argv[2])):
        f.write(f"s3://archive/archive/shows/clip.mp4,entry-{i},Выпуск {i},private\n")
PY
hwm_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$PID/status"; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$PID/status"; }
echo 5 > "/proc/$PID/clear_refs" 2>/dev/null || true
rss_before=$(rss_kib)
t0=$(now)
"$KADR" import "$WORK/manifest.csv" --no-wait --concurrency 16 --server "$SERVER" --token "$TOKEN" \
  --report "$WORK/report.csv" > "$WORK/import.out" 2> "$WORK/import.err" || {
  echo "bench/import: kadr import failed:" >&2; tail -5 "$WORK/import.err" "$WORK/import.out" >&2; exit 1; }
t1=$(now)
PSQL=(psql -X -At -h "$WORK/var-s3/postgres" -U kadr kadr)
for _ in $(seq 1 36000); do
  left=$("${PSQL[@]}" -c "SELECT count(*) FROM imports WHERE state IN ('queued', 'fetching')")
  [ "$left" -eq 0 ] && break
  sleep 0.1
done
t2=$(now)
fetched=$("${PSQL[@]}" -c "SELECT count(*) FROM imports WHERE state = 'fetched'")
growth_mib=$(echo "($(hwm_kib) - $rss_before) / 1024" | bc -l)
api_rate=$(echo "$ENTRIES / ($t1 - $t0)" | bc -l)
rate=$(echo "$fetched / ($t2 - $t0)" | bc -l)
printf 'bench/import: %d manifest entries in the same S3 endpoint (SeaweedFS; client, Kadr and storage share 2 cores)\n' "$ENTRIES"
printf '  baseline (CopyObject, %2d at a time):      %8.0f copies/s\n' "$CONC" "$copy_rate"
printf '  kadr import, the API calls alone:         %8.0f entries/s (%.1f s)\n' "$api_rate" "$(echo "$t1 - $t0" | bc -l)"
printf '  API and copy, to every import fetched:    %8.0f entries/s (%.1f s, %d fetched; target >= 200: %s)\n' \
  "$rate" "$(echo "$t2 - $t0" | bc -l)" "$fetched" "$(verdict "$rate >= 200 && $fetched == $ENTRIES")"
printf '  ratio to the storage copy rate:           %8.2f\n' "$(echo "$rate / $copy_rate" | bc -l)"
printf '  server peak RSS growth:                   %8.1f MiB\n' "$growth_mib"
