#!/usr/bin/env bash
# bench/viewers: a simulated HLS audience (bench/viewers.py, which plays like hls.js) against
# two `kadr api` replicas on S3 storage (SeaweedFS), with a baseline measured in the same run.
#
# Starts everything in target/bench-viewers and stops it on exit (Ctrl-C included): a
# throwaway Postgres 15 cluster (Debian's binaries, a free TCP port), SeaweedFS
# (tests/s3/seaweed.sh, from `make test-deps`), `kadr migrate up`, one `kadr upload-api`, two
# `kadr api` replicas (one api.media_secret, distinct ports) and one `kadr worker`. A
# registered user, made verified by the admin (published without review), uploads three
# public videos: the shared clip (5 s), the shared clip looped to CLIP_SECS and a testsrc2
# pattern of CLIP_SECS (both 720p25 with sound); the bench waits until they are ready.
#
# Then, for SECONDS each, the same audience (viewers, seed, ramp, videos) plays:
#   1. through the two api replicas: playlists answered by the api (read from SeaweedFS),
#      init and media segments as 302s to presigned SeaweedFS URLs, bytes from SeaweedFS;
#   2. the baseline: nginx (2 workers, one port per "replica") answering the same URLs with
#      the same playlists (static files) and a 302 to the same presigned URLs, taken from the
#      api just before (a map), so the storage side is the same and only the origin differs.
# CPU seconds of each api replica (and of nginx, SeaweedFS, Postgres, the client) come from
# /proc/PID/stat before and after; api CPU-s per viewer-minute and p99s are compared with
# nginx's. Figures are printed and written to target/bench-viewers/result.json.
# Also printed, to tell where time went: the replicas' own /media latency (their /metrics
# histograms, bucket bounds), the client's CPU and event-loop lag, and the machine's busy
# share with what other processes took meanwhile (a build or a test run on the same machine
# makes the figures those of a busy machine; a NOTE says so).
#
#   VIEWERS=500 SECONDS=60 bench/viewers.sh      (the defaults)
#   RAMP=20                                      (viewers start evenly over this long)
#   CLIP_SECS=60                                 (length of the two generated videos)
#   BENCH_VIEWERS_PART=kadr                      (no baseline run)
#   CLIENT_ARGS="--procs 2 --skip-storage"       (more options of bench/viewers.py: --procs,
#                                                 --pool viewer, --link-mbps, --skip-storage
#                                                 for a load on the api alone, ...)
#   MAX_PER_ADDRESS=64                           (keep server.max_requests_per_address)
#   KADR_BIN=...                                 (another kadr binary)
#
# Every viewer comes from 127.0.0.1 here, where a real audience comes from many addresses:
# the per-address cap on requests in flight (server.max_requests_per_address, 64) is raised
# for the bench (KADR_SERVER__MAX_REQUESTS_PER_ADDRESS=1000000), or a slow moment would
# answer 429 to "everyone" (MAX_PER_ADDRESS=64 keeps the default). Presigned URLs live
# SECONDS + 300 s (api.presign_ttl_secs) so the baseline's copies outlast its run.
#
# Against a real cluster, nothing started (the client alone; see bench/viewers.py --help):
#   python3 -m venv target/bench-venv && target/bench-venv/bin/pip install -r bench/requirements.txt
#   API_URLS="https://api1.example.org https://api2.example.org" VIDEO_IDS="<id> <id> <id>" \
#     bench/viewers.py --viewers 50000 --seconds 300 --ramp 120 --procs 8 --out result.json
# (public videos, or any: the master URL comes from /api/v1/videos/{id}/playback of the first
# replica, so every replica needs the same api.media_secret; from one load machine the
# replicas see one address: raise server.max_requests_per_address there too, or spread the
# client over several machines, and mind `ulimit -n`).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# SECONDS is bash's own clock: what the caller exported is read from the environment.
RUN_SECS=$(printenv SECONDS || true); RUN_SECS=${RUN_SECS:-${BENCH_VIEWERS_SECS:-60}}
VIEWERS=${VIEWERS:-500}
RAMP=${RAMP:-$(python3 -c "print(round(min(20, $RUN_SECS / 3), 1))")}
CLIP_SECS=${CLIP_SECS:-60}
PART=${BENCH_VIEWERS_PART:-all}
KADR=${KADR_BIN:-$ROOT/target/release/kadr}
# kadr reads every KADR_* variable as configuration and refuses unknown ones.
unset KADR_BIN
WORK=${BENCH_DIR:-$ROOT/target/bench-viewers}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
CLIP=$ROOT/../shared/media/bigbuckbunny.mp4
VENV=$ROOT/target/bench-venv
[ -x "$KADR" ] || { echo "bench: build first (cargo build --release)" >&2; exit 1; }
[ -x "$ROOT/target/seaweed-venv/bin/weed" ] || { echo "bench/viewers: SeaweedFS missing: make test-deps" >&2; exit 1; }
[ -x "$PGBIN/initdb" ] || { echo "bench/viewers: no Postgres 15 in $PGBIN (apt-get install postgresql-15)" >&2; exit 1; }
for t in nginx ffmpeg curl python3 bc; do
  command -v "$t" >/dev/null || { echo "bench/viewers: $t missing: run deploy/install-deps.sh --bench" >&2; exit 1; }
done
[ -f "$CLIP" ] || { echo "bench/viewers: no clip at $CLIP" >&2; exit 1; }

# The client's venv, made or brought up to date when bench/requirements.txt changes.
if ! cmp -s "$ROOT/bench/requirements.txt" "$VENV/requirements.txt" 2>/dev/null; then
  echo "bench/viewers: installing the client's packages into $VENV" >&2
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q -r "$ROOT/bench/requirements.txt"
  cp "$ROOT/bench/requirements.txt" "$VENV/requirements.txt"
fi

rm -rf "$WORK"; mkdir -p "$WORK"; chmod 755 "$WORK"
PIDS=()
NGINX_PID=""
CLIENT_PID=""
METRICS=""
PG_STARTED=""
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  set +e
  trap - INT TERM
  [ -n "$CLIENT_PID" ] && kill "$CLIENT_PID" 2>/dev/null && wait "$CLIENT_PID" 2>/dev/null
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
  for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  "$ROOT/tests/s3/seaweed.sh" stop "$WORK/seaweed" 2>/dev/null
  [ -n "$PG_STARTED" ] && as_pg "$PGBIN/pg_ctl" -D "$WORK/pg/data" -m fast -w stop > /dev/null 2>&1
  rm -rf "$WORK/pg/data" "$WORK/seaweed/data" "$WORK/clips"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
json() { python3 -c "import sys,json; d=json.load(sys.stdin); print($1)"; }
# CPU seconds of processes and their children now (all threads; children that ended counted
# in their parent once reaped): utime stime cutime cstime of each.
cpu() {
  python3 - "$@" <<'PY'
import os, sys
hz = os.sysconf("SC_CLK_TCK")
total = 0
pids = []
for pid in sys.argv[1:]:
    pids.append(pid)
    try:
        pids += open(f"/proc/{pid}/task/{pid}/children").read().split()
    except OSError:
        pass
for pid in pids:
    try:
        f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
        total += sum(int(x) for x in f[11:15])  # utime stime cutime cstime
    except OSError:
        pass
print(f"{total / hz:.2f}")
PY
}
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }
# CPU ticks of every process now ("pid comm ticks" lines), to name what else ran meanwhile.
snapshot() {
  python3 - <<'PY'
import os
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try:
            head, tail = open(f"/proc/{pid}/stat").read().rsplit(")", 1)
            f = tail.split()
            print(pid, head.split("(", 1)[1].replace(" ", "_"), sum(int(x) for x in f[11:15]))
        except OSError:
            pass
PY
}
# The processes other than ours that took the most CPU between two snapshots (% of a core).
others() { # before after wall ours...
  python3 - "$@" <<'PY'
import os, sys
before, after, wall, ours = sys.argv[1], sys.argv[2], float(sys.argv[3]), set(sys.argv[4:])
def read(path):
    return {l.split()[0]: (l.split()[1], int(l.split()[2])) for l in open(path) if l.strip()}
b, a = read(before), read(after)
mine = set()
for pid in ours:  # ours and their children
    mine.add(pid)
    try:
        mine.update(open(f"/proc/{pid}/task/{pid}/children").read().split())
    except OSError:
        pass
hz = os.sysconf("SC_CLK_TCK")
use = {}
for pid, (comm, t) in a.items():
    if pid in mine or pid == str(os.getppid()):
        continue
    use[comm] = use.get(comm, 0) + t - b.get(pid, (comm, 0))[1]
top = sorted(((v, k) for k, v in use.items() if v > 0), reverse=True)[:4]
print(" ".join(f"{k}:{100 * v / hz / wall:.0f}" for v, k in top) or "-")
PY
}

# Postgres: a throwaway cluster on a free port (durability off).
echo "bench/viewers: starting Postgres, SeaweedFS and kadr" >&2
mkdir -p "$WORK/pg"
[ "$(id -u)" = 0 ] && chown postgres "$WORK/pg"
PGPORT=$(free_port)
as_pg "$PGBIN/initdb" -D "$WORK/pg/data" -U kadr --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync > "$WORK/pg/initdb.log"
PG_STARTED=1
as_pg "$PGBIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/log" -w -o \
  "-c listen_addresses=127.0.0.1 -p $PGPORT -c unix_socket_directories='$WORK/pg' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start > /dev/null
"$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U kadr kadr
PG_PID=$(head -1 "$WORK/pg/data/postmaster.pid")

# SeaweedFS, its keys in $WORK/seaweed/env.
"$ROOT/tests/s3/seaweed.sh" start "$WORK/seaweed" > /dev/null
# shellcheck disable=SC1091
. "$WORK/seaweed/env"
WEED_PID=$(cat "$WORK/seaweed/pid")

export KADR_DATABASE__URL="postgres://kadr@127.0.0.1:$PGPORT/kadr"
export KADR_STORAGE__BACKEND=s3
export KADR_STORAGE__S3__ENDPOINT=$KADR_TEST_S3_ENDPOINT
export KADR_STORAGE__S3__BUCKET=$KADR_TEST_S3_BUCKET
export KADR_STORAGE__S3__REGION=$KADR_TEST_S3_REGION
export KADR_STORAGE__S3__ACCESS_KEY_ID=$KADR_TEST_S3_ACCESS_KEY_ID
export KADR_STORAGE__S3__SECRET_ACCESS_KEY=$KADR_TEST_S3_SECRET_ACCESS_KEY
# One media secret for every replica: a signed URL from one opens on the other.
KADR_API__MEDIA_SECRET=$(head -c 36 /dev/urandom | base64 | tr -d '/+=')
export KADR_API__MEDIA_SECRET
export KADR_API__PRESIGN_TTL_SECS=$(( ${RUN_SECS%.*} + 300 ))
export KADR_SERVER__MAX_REQUESTS_PER_ADDRESS=${MAX_PER_ADDRESS:-1000000}
export KADR_ADMIN_PASSWORD=bench-admin-password
export KADR_LOG__FORMAT=json

KADR_DATA_DIR="$WORK/data-migrate" "$KADR" migrate up > "$WORK/migrate.log" 2>&1
start() { # name role env...: starts `kadr ROLE` with its log in $WORK/NAME.log
  local name=$1 role=$2; shift 2
  env "$@" KADR_DATA_DIR="$WORK/data-$name" "$KADR" "$role" > "$WORK/$name.log" 2>&1 &
  PIDS+=($!)
}
start upload upload-api KADR_UPLOAD_API__LISTEN=127.0.0.1:0
UP_PID=${PIDS[-1]}
start api1 api KADR_API__LISTEN=127.0.0.1:0
API1_PID=${PIDS[-1]}
start api2 api KADR_API__LISTEN=127.0.0.1:0
API2_PID=${PIDS[-1]}
start worker worker KADR_WORKER__LISTEN=127.0.0.1:0
WORKER_PID=${PIDS[-1]}
addr() { # the address in NAME's "listening on" line
  local a=""
  for _ in $(seq 1 300); do
    a=$(grep -o 'listening on http://[0-9.:]*' "$WORK/$1.log" | head -1 | sed 's#listening on ##' || true)
    [ -n "$a" ] && { echo "$a"; return; }
    kill -0 "$2" 2>/dev/null || break
    sleep 0.1
  done
  echo "bench/viewers: $1 did not start; its log:" >&2; tail -20 "$WORK/$1.log" >&2; exit 1
}
UP=$(addr upload "$UP_PID"); API1=$(addr api1 "$API1_PID"); API2=$(addr api2 "$API2_PID")
WORKER_URL=$(addr worker "$WORKER_PID")
for u in "$UP" "$API1" "$API2" "$WORKER_URL"; do
  for _ in $(seq 1 100); do curl -sf "$u/readyz" > /dev/null && break; sleep 0.1; done
  curl -sf "$u/readyz" > /dev/null || { echo "bench/viewers: $u/readyz fails" >&2; exit 1; }
done

# A creator: registered, then made verified by the admin (published without review).
curl -sf -XPOST "$UP/api/v1/users" -H 'content-type: application/json' \
  -d '{"username":"bench","email":"bench@example.org","password":"bench-creator-password"}' > /dev/null
login() { curl -sf -XPOST "$UP/api/v1/auth/token" -H 'content-type: application/json' \
  -d "{\"username\":\"$1\",\"password\":\"$2\"}" | json 'd["token"]'; }
ADMIN=$(login admin bench-admin-password)
TOKEN=$(login bench bench-creator-password)
USER_ID=$(curl -sf -H "authorization: Bearer $TOKEN" "$UP/api/v1/me" | json 'd["id"]')
curl -sf -XPATCH "$UP/api/v1/admin/users/$USER_ID" -H "authorization: Bearer $ADMIN" \
  -H 'content-type: application/json' -d '{"verified":true}' > /dev/null

# Three public videos: the shared clip, the clip looped, and a test pattern.
mkdir -p "$WORK/clips"
ffmpeg -v error -stream_loop -1 -i "$CLIP" -t "$CLIP_SECS" -c copy "$WORK/clips/loop.mp4"
ffmpeg -v error -f lavfi -i "testsrc2=size=1280x720:rate=25:duration=$CLIP_SECS" \
  -f lavfi -i "sine=frequency=440:sample_rate=48000:duration=$CLIP_SECS" \
  -c:v libx264 -preset veryfast -crf 23 -pix_fmt yuv420p -c:a aac -b:a 128k -shortest "$WORK/clips/pattern.mp4"
VIDEOS=()
for f in "$CLIP" "$WORK/clips/loop.mp4" "$WORK/clips/pattern.mp4"; do
  VIDEOS+=("$(XDG_STATE_HOME="$WORK/state" "$KADR" upload "$f" --title "bench $(basename "$f")" \
    --privacy public --server "$UP" --token "$TOKEN" 2>> "$WORK/upload.log")")
done
echo "bench/viewers: transcoding ${#VIDEOS[@]} videos" >&2
for v in "${VIDEOS[@]}"; do
  for _ in $(seq 1 3000); do
    s=$(curl -sf -H "authorization: Bearer $TOKEN" "$API1/api/v1/videos/$v" | json 'd["status"]')
    [ "$s" = ready ] && break
    [ "$s" = failed ] && { echo "bench/viewers: transcode of $v failed" >&2; exit 1; }
    sleep 0.2
  done
  [ "$s" = ready ] || { echo "bench/viewers: $v not ready in time" >&2; exit 1; }
done
LADDER=$(curl -sf "$API1/media/${VIDEOS[1]}/hls/master.m3u8" | grep -c '^#EXT-X-STREAM-INF' || true)

CLIENT=("$VENV/bin/python" "$ROOT/bench/viewers.py" --viewers "$VIEWERS" --seconds "$RUN_SECS" --ramp "$RAMP")
for v in "${VIDEOS[@]}"; do CLIENT+=(--video "$v"); done
# shellcheck disable=SC2206
CLIENT+=(${CLIENT_ARGS:-})

# Runs the audience against the given base URLs; CPU of the named processes around it.
# Writes $WORK/NAME.json (the client's) and $WORK/NAME.cpu ("label cpu_s" lines, then "wall").
audience() {
  local name=$1; shift
  local -n procs=$1; shift
  local before=() after=() label b0 b1 t0 t1 i
  for label in "${!procs[@]}"; do before+=("$(cpu ${procs[$label]})"); done
  snapshot > "$WORK/$name.before"
  for m in $METRICS; do curl -sf "$m/metrics"; done > "$WORK/$name.metrics.before"
  b0=$(busy); t0=$(date +%s.%N)
  # In the background, so that a signal to this script stops the run at once (see cleanup).
  "${CLIENT[@]}" "$@" --out "$WORK/$name.json" > /dev/null &
  CLIENT_PID=$!
  wait "$CLIENT_PID"
  CLIENT_PID=""
  t1=$(date +%s.%N); b1=$(busy)
  snapshot > "$WORK/$name.after"
  for m in $METRICS; do curl -sf "$m/metrics"; done > "$WORK/$name.metrics.after"
  : > "$WORK/$name.cpu"
  i=0
  for label in "${!procs[@]}"; do
    after=$(cpu ${procs[$label]})
    echo "$label $(echo "$after - ${before[$i]}" | bc -l)" >> "$WORK/$name.cpu"
    i=$((i + 1))
  done
  echo "wall $(echo "$t1 - $t0" | bc -l)" >> "$WORK/$name.cpu"
  read -r busy0 all0 <<< "$b0"; read -r busy1 all1 <<< "$b1"
  echo "machine_busy_pct $(echo "100 * ($busy1 - $busy0) / ($all1 - $all0)" | bc -l)" >> "$WORK/$name.cpu"
  # shellcheck disable=SC2086
  others "$WORK/$name.before" "$WORK/$name.after" "$(echo "$t1 - $t0" | bc -l)" $$ ${procs[*]} \
    > "$WORK/$name.others"
}

echo "bench/viewers: $VIEWERS viewers for $RUN_SECS s (ramp $RAMP s) through api replicas $API1 and $API2" >&2
# shellcheck disable=SC2034
declare -A KPROCS=([api1]="$API1_PID" [api2]="$API2_PID" [seaweedfs]="$WEED_PID"
  [postgres]="$PG_PID" [upload_api]="$UP_PID" [worker]="$WORKER_PID")
# The replicas' own latency histograms (/metrics) are read around the run too: time spent
# inside the api, against what the client saw.
METRICS="$API1 $API2"
audience kadr KPROCS --api "$API1" --api "$API2"
METRICS=""

if [ "$PART" != kadr ]; then
  # The baseline origin: nginx with the api's playlists as files and its redirects as a map.
  echo "bench/viewers: the same audience against nginx (static playlists, 302 to the same presigned URLs)" >&2
  mkdir -p "$WORK/nginx/root"
  "$VENV/bin/python" - "$API1" "$WORK/nginx" "${VIDEOS[@]}" <<'PY'
import os, sys, urllib.request
from urllib.parse import urljoin, urlsplit
api, out, videos = sys.argv[1], sys.argv[2], sys.argv[3:]
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None
opener = urllib.request.build_opener(NoRedirect)
def get(url):
    try:
        with opener.open(url) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers
def save(path, body):
    f = os.path.join(out, "root", path.lstrip("/"))
    os.makedirs(os.path.dirname(f), exist_ok=True)
    open(f, "wb").write(body)
lines = []
for v in videos:
    master = f"{api}/media/{v}/hls/master.m3u8"
    _, body, _ = get(master)
    save(urlsplit(master).path, body)
    for rung in [l for l in body.decode().splitlines() if l and not l.startswith("#")]:
        url = urljoin(master, rung)
        _, text, _ = get(url)
        save(urlsplit(url).path, text)
        for l in text.decode().splitlines():
            if l.startswith("#EXT-X-MAP:"):
                l = l.split('URI="', 1)[1].split('"', 1)[0]
            elif not l or l.startswith("#"):
                continue
            media = urljoin(url, l)
            status, _, headers = get(media)
            assert status == 302, (media, status)
            lines.append(f'  {urlsplit(media).path} "{headers["Location"]}";')
open(os.path.join(out, "redirects.map"), "w").write("\n".join(lines) + "\n")
PY
  NPORT1=$(free_port); NPORT2=$(free_port)
  cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 16384; }
http {
  access_log off;
  sendfile on;
  keepalive_timeout 15s;
  client_body_temp_path $WORK/nginx;
  proxy_temp_path $WORK/nginx;
  fastcgi_temp_path $WORK/nginx;
  uwsgi_temp_path $WORK/nginx;
  scgi_temp_path $WORK/nginx;
  types { application/vnd.apple.mpegurl m3u8; }
  map_hash_bucket_size 256;
  map_hash_max_size 65536;
  map \$uri \$storage { default ""; include $WORK/nginx/redirects.map; }
  server {
    listen 127.0.0.1:$NPORT1;
    listen 127.0.0.1:$NPORT2;
    root $WORK/nginx/root;
    location ~ \.m3u8\$ { add_header Cache-Control "public, max-age=300"; }
    location /media/ {
      if (\$storage = "") { return 404; }
      add_header Cache-Control "private, max-age=60";
      return 302 \$storage;
    }
  }
}
CONF
  nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
  NGINX_PID=$!
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$NPORT2/media/${VIDEOS[0]}/hls/master.m3u8" > /dev/null && break; sleep 0.1; done
  # shellcheck disable=SC2034
  declare -A NPROCS=([nginx]="$NGINX_PID" [seaweedfs]="$WEED_PID")
  audience nginx NPROCS --api "http://127.0.0.1:$NPORT1" --api "http://127.0.0.1:$NPORT2"
fi

# The figures.
"$VENV/bin/python" - "$WORK" "$PART" "$LADDER" "${#VIDEOS[@]}" <<'PY'
import json, os, sys
work, part, ladder, nvideos = sys.argv[1], sys.argv[2], int(sys.argv[3] or 0), int(sys.argv[4])
ncpu = os.cpu_count()

def load(name):
    d = json.load(open(os.path.join(work, f"{name}.json")))
    d["cpu_s"] = {k: float(v) for k, v in (line.split() for line in open(os.path.join(work, f"{name}.cpu")))}
    d["other_processes"] = open(os.path.join(work, f"{name}.others")).read().strip()
    d["server_media_ms"] = server_latency(name)
    return d

def server_latency(name):
    """p50/p99 (bucket upper bounds) of the /media route from the replicas' histograms."""
    def buckets(path):
        out = {}
        if not os.path.exists(path):
            return out
        for line in open(path):
            if line.startswith("kadr_http_request_duration_seconds_bucket") and 'route="/media/{id}/{tail:.*}"' in line \
                    and 'method="GET"' in line:
                le = line.split('le="', 1)[1].split('"', 1)[0]
                out[le] = out.get(le, 0) + float(line.rsplit(" ", 1)[1])
        return out
    b0 = buckets(os.path.join(work, f"{name}.metrics.before"))
    b1 = buckets(os.path.join(work, f"{name}.metrics.after"))
    if not b1:
        return None
    delta = sorted(((float("inf") if le == "+Inf" else float(le), b1[le] - b0.get(le, 0)) for le in b1))
    total = delta[-1][1]
    def q(x):
        for le, n in delta:
            if n >= x * total:
                return "inf" if le == float("inf") else round(le * 1000, 1)
    return {"n": int(total), "p50_at_most": q(0.5), "p99_at_most": q(0.99)}

runs = {"kadr": load("kadr")}
if part != "kadr":
    runs["nginx"] = load("nginx")

def figures(name, d):
    cpu = dict(d["cpu_s"])
    wall, busy = cpu.pop("wall"), cpu.pop("machine_busy_pct")
    cpu["client"] = d["client"]["cpu_s"]
    origin = cpu["api1"] + cpu["api2"] if name == "kadr" else cpu["nginx"]
    lat = d["latency_ms"]
    return {
        "viewers": d["viewers"], "viewer_minutes": d["viewer_minutes"],
        "requests_per_s": d["requests_per_s"], "origin_requests_per_s": d["api_requests_per_s"],
        "errors": d["error_count"],
        "playlist_ms": {k: lat["playlist"].get(k) for k in ("p50", "p90", "p99")},
        "segment_redirect_ms": {k: lat["segment_redirect"].get(k) for k in ("p50", "p90", "p99")},
        "storage_fetch_ms": {k: lat["storage"].get(k) for k in ("p50", "p90", "p99")},
        "startup_ms": {k: d["startup_ms"].get(k) for k in ("p50", "p99")},
        "stalls": d["stalls"], "viewers_with_stalls": d["viewers_with_stalls"],
        "mbit_per_s": d["mbit_per_s"],
        "origin_cpu_s": round(origin, 2),
        "origin_cpu_s_per_viewer_minute": round(origin / max(d["viewer_minutes"], 1e-9), 5),
        "cpu_pct_of_a_core": {k: round(100 * v / wall, 1) for k, v in cpu.items()},
        "machine_busy_pct": round(busy, 1),
        # What the machine spent beyond the processes above: another user's work (a build, a
        # test run) when large; the figures are then to be taken with care.
        "others_pct_of_a_core": round(max(0.0, busy * ncpu - 100 * sum(cpu.values()) / wall), 1),
        "other_processes": d["other_processes"],
        "server_media_ms": d["server_media_ms"],
        "client_loop_lag_ms": d["client"]["loop_lag_ms"],
    }

figs = {n: figures(n, d) for n, d in runs.items()}
result = {"ladder_rungs": ladder, "videos": nvideos, "figures": figs, "runs": runs}
k, n = figs["kadr"], figs.get("nginx")
ratio = lambda a, b: round(a / b, 2) if a is not None and b else None
if n:
    result["ratios_kadr_to_nginx"] = {
        "cpu_s_per_viewer_minute": ratio(k["origin_cpu_s_per_viewer_minute"], n["origin_cpu_s_per_viewer_minute"]),
        "p99_playlist": ratio(k["playlist_ms"]["p99"], n["playlist_ms"]["p99"]),
        "p99_segment_redirect": ratio(k["segment_redirect_ms"]["p99"], n["segment_redirect_ms"]["p99"]),
    }
with open(os.path.join(work, "result.json"), "w") as f:
    json.dump(result, f, indent=2)

d = runs["kadr"]
print(f"\nbench/viewers: {k['viewers']} viewers for {d['seconds']:g} s (ramp {d['ramp']:g} s), {nvideos} videos x "
      f"{ladder} rungs, 2 kadr api replicas on SeaweedFS, client with {d['client']['procs']} process(es); "
      f"{k['viewer_minutes']:.0f} viewer-minutes, {k['mbit_per_s']} Mbit/s from storage")
pq = lambda x: f"{x['p50']} / {x['p99']}"
rows = [
    ("requests/s (storage included)", lambda f: f["requests_per_s"]),
    ("requests/s to the origin", lambda f: f["origin_requests_per_s"]),
    ("errors", lambda f: f["errors"]),
    ("playlist ms, p50 / p99", lambda f: pq(f["playlist_ms"])),
    ("segment redirect ms, p50 / p99", lambda f: pq(f["segment_redirect_ms"])),
    ("storage fetch ms, p50 / p99", lambda f: pq(f["storage_fetch_ms"])),
    ("startup ms, p50 / p99", lambda f: pq(f["startup_ms"])),
    ("stalls (viewers with one)", lambda f: f"{f['stalls']} ({f['viewers_with_stalls']})"),
    ("inside the api, /media ms, p50 / p99", lambda f: f"<= {f['server_media_ms']['p50_at_most']} / <= {f['server_media_ms']['p99_at_most']}"
        if f["server_media_ms"] else "-"),
    ("origin CPU-s per viewer-minute", lambda f: f["origin_cpu_s_per_viewer_minute"]),
    ("machine busy %", lambda f: f["machine_busy_pct"]),
    ("other processes, % of a core", lambda f: f["others_pct_of_a_core"]),
    ("client loop lag ms, p99 / max", lambda f: f"{f['client_loop_lag_ms']['p99']} / {f['client_loop_lag_ms']['max']}"),
]
print(f"  {'':<38} {'kadr api x2':>18} {'nginx' if n else '':>18}")
for label, get in rows:
    print(f"  {label:<38} {str(get(k)):>18} {str(get(n)) if n else '':>18}")
for name, f in figs.items():
    print(f"  CPU % of a core, {name} run: " + ", ".join(f"{p} {v}" for p, v in f["cpu_pct_of_a_core"].items())
          + f"; the most of the rest: {f['other_processes']}")
if n:
    r = result["ratios_kadr_to_nginx"]
    print(f"  kadr/nginx: origin CPU-s per viewer-minute {r['cpu_s_per_viewer_minute']}x, "
          f"p99 playlist {r['p99_playlist']}x, p99 segment redirect {r['p99_segment_redirect']}x")
for name, f in figs.items():
    if f["others_pct_of_a_core"] > 25:
        print(f"  NOTE: other work took {f['others_pct_of_a_core']} % of a core during the {name} run "
              f"({f['other_processes']}): its figures are not those of a quiet machine")
for name, dd in runs.items():
    if dd["error_count"]:
        print(f"  {name} errors: {json.dumps(dd['errors'])}; first: {dd['first_errors'][:3]}")
print(f"  (all figures in {os.path.join(work, 'result.json')})")
PY
