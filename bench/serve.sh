#!/usr/bin/env bash
# bench/serve: delivery and catalog speed of `kadr all` (local storage), with baselines
# measured in the same run.
#
# 1. Segments: wrk GETs of one HLS segment through kadr's /media route, and of the same file
#    served by nginx (sendfile) → requests/s ratio and p99 of both.
# 2. Catalog: 10k, then 1M listed videos generated in Postgres; wrk with 32 connections on the
#    catalog list and on a search for a word in 2 % of titles → p99 at each size and the
#    1M/10k ratio: anonymous, signed in as a plain viewer (both through the shared page
#    cache), and signed in as a moderator (every request queries Postgres).
#
#   BENCH_SERVE_SECS=10 bench/serve.sh     (seconds per wrk run)
#   BENCH_SERVE_BIG=1000000                (the large catalog's size)
#   BENCH_SERVE_PART=segments              (the segment comparison alone)
#
# Targets (issue 5): segments ≥ 0.8× nginx requests/s; catalog p99 ≤ 10 ms; 1M/10k ≤ 1.3.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KADR=${KADR_BIN:-$ROOT/target/release/kadr}
# kadr reads every KADR_* variable as configuration and refuses unknown ones.
unset KADR_BIN
WORK=${BENCH_DIR:-$ROOT/target/bench-serve}
SECS=${BENCH_SERVE_SECS:-10}
BIG=${BENCH_SERVE_BIG:-1000000}
CLIP=$ROOT/../shared/media/bigbuckbunny.mp4
[ -x "$KADR" ] || { echo "bench: build first (cargo build --release)" >&2; exit 1; }
for t in wrk nginx psql; do
  command -v "$t" >/dev/null || { echo "bench/serve: $t missing: run deploy/install-deps.sh --bench" >&2; exit 1; }
done
rm -rf "$WORK"; mkdir -p "$WORK"
chmod 755 "$WORK"

KADR_ADMIN_PASSWORD=bench-admin-password "$KADR" all --data-dir "$WORK/var" --listen 127.0.0.1:0 2> "$WORK/kadr.log" &
PID=$!
NGINX_PID=""
cleanup() {
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
  kill -TERM $PID 2>/dev/null || true; wait $PID 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 300); do
  ADDR=$(grep -o 'listening on http://[0-9.:]*' "$WORK/kadr.log" | head -1 | sed 's#listening on http://##' || true)
  [ -n "$ADDR" ] && break; sleep 0.1
done
SERVER="http://$ADDR"
json() { python3 -c "import sys,json; d=json.load(sys.stdin); print($1)"; }
TOKEN=$(curl -sf -XPOST "$SERVER/api/v1/auth/token" -H 'content-type: application/json' \
  -d '{"username":"admin","password":"bench-admin-password"}' | json 'd["token"]')
curl -sf -XPOST "$SERVER/api/v1/users" -H 'content-type: application/json' \
  -d '{"username":"viewer","email":"viewer@example.org","password":"bench-viewer-password"}' > /dev/null
VIEWER=$(curl -sf -XPOST "$SERVER/api/v1/auth/token" -H 'content-type: application/json' \
  -d '{"username":"viewer","password":"bench-viewer-password"}' | json 'd["token"]')

echo "bench/serve: uploading and transcoding the shared clip" >&2
VIDEO=$(XDG_STATE_HOME="$WORK/state" "$KADR" upload "$CLIP" --title "bench" --server "$SERVER" --token "$TOKEN" 2>/dev/null)
for _ in $(seq 1 600); do
  s=$(curl -sf -H "authorization: Bearer $TOKEN" "$SERVER/api/v1/videos/$VIDEO" | json 'd["status"]')
  [ "$s" = ready ] && break; sleep 0.2
done
SEG=hls/$VIDEO/720p/seg_00002.m4s
[ -f "$WORK/var/media/$SEG" ] || { echo "bench/serve: no segment at $SEG" >&2; exit 1; }
SIZE=$(stat -c %s "$WORK/var/media/$SEG")

# nginx serving the same media directory.
NGINX_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$WORK/nginx"
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path $WORK/nginx;
  proxy_temp_path $WORK/nginx;
  fastcgi_temp_path $WORK/nginx;
  uwsgi_temp_path $WORK/nginx;
  scgi_temp_path $WORK/nginx;
  types { video/iso.segment m4s; }
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location /media/ { alias $WORK/var/media/; }
  }
}
CONF
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx" &
NGINX_PID=$!
sleep 0.5

. "$ROOT/bench/lib.sh"
echo "bench/serve: segments ($SIZE bytes), kadr then nginx" >&2
read -r k_rps k_p99 < <(bench "$SERVER/media/$VIDEO/hls/${SEG#hls/$VIDEO/}" 32)
read -r n_rps n_p99 < <(bench "http://127.0.0.1:$NGINX_PORT/media/$SEG" 32)
kill "$NGINX_PID"; NGINX_PID=""

if [ "${BENCH_SERVE_PART:-all}" != segments ]; then
# The catalog: generated listed videos owned by the admin's channel.
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h "$WORK/var/postgres" -U kadr kadr)
generate() {
  "${PSQL[@]}" <<SQL
INSERT INTO videos (id, channel_id, owner_id, title, description, tags, privacy, status, playable,
                    moderation, duration_ms, width, height, is_short, view_count, created_at, published_at)
SELECT gen_random_uuid(), c.id, c.owner_id,
       w[1 + (i * 7) % 50] || ' ' || w[1 + (i * 13) % 50] || ' ' || w[1 + (i * 31) % 50] || ' #' || i,
       'Описание ' || w[1 + (i * 17) % 50], ARRAY[w[1 + (i * 3) % 50]], 'public', 'ready', true,
       'approved', 60000, 1280, 720, i % 5 = 0, (i::bigint * 7919) % 100000,
       now() - make_interval(secs => i), now() - make_interval(secs => i)
FROM generate_series($1, $2) AS i, channels c,
     (SELECT ARRAY['кошки','собаки','музыка','новости','футбол','рецепт','путешествие','обзор',
                   'игра','фильм','сериал','история','наука','космос','природа','город','танцы',
                   'музей','театр','поезд','music','news','football','recipe','travel','review',
                   'game','movie','science','space','nature','city','dance','train','العربية',
                   'موسيقى','أخبار','كرة','وصفة','سفر','مراجعة','لعبة','فيلم','علوم','فضاء',
                   'طبيعة','مدينة','رقص','قطار','кино'] AS w) words
WHERE c.handle = 'admin';
SQL
  # A settled catalog, as it is between bulk loads: statistics, visibility map, no dirty backlog.
  "${PSQL[@]}" -c "VACUUM (ANALYZE) videos" -c "CHECKPOINT"

}
SEARCH="$SERVER/api/v1/search?q=%D0%BA%D0%BE%D1%88%D0%BA%D0%B8"
# Anonymous and plain signed-in viewers share the 1 s page cache (a viewer also costs a token
# lookup); a moderator sees moderation states, so each of their requests queries Postgres.
# Each URL is warmed for 2 s first: the first build of a page after a bulk load reads the
# catalog cold (about 1.5 s for the search at 1M) and would otherwise fill wrk's tail.
catalog() {
  warm "$SERVER/api/v1/videos?limit=24"; warm "$SEARCH"
  read -r l_rps l_p99 < <(bench "$SERVER/api/v1/videos?limit=24" 32)
  read -r s_rps s_p99 < <(bench "$SEARCH" 32)
  read -r lv_rps lv_p99 < <(bench "$SERVER/api/v1/videos?limit=24" 32 -H "authorization: Bearer $VIEWER")
  read -r sv_rps sv_p99 < <(bench "$SEARCH" 32 -H "authorization: Bearer $VIEWER")
  read -r lu_rps lu_p99 < <(bench "$SERVER/api/v1/videos?limit=24" 32 -H "authorization: Bearer $TOKEN")
  read -r su_rps su_p99 < <(bench "$SEARCH" 32 -H "authorization: Bearer $TOKEN")
  echo "$l_rps $l_p99 $s_rps $s_p99 $lv_rps $lv_p99 $sv_rps $sv_p99 $lu_rps $lu_p99 $su_rps $su_p99"
}
echo "bench/serve: catalog of 10k videos" >&2
generate 1 10000
read -r l1_rps l1_p99 s1_rps s1_p99 lv1_rps lv1_p99 sv1_rps sv1_p99 lu1_rps lu1_p99 su1_rps su1_p99 < <(catalog)
echo "bench/serve: catalog of $BIG videos (generating)" >&2
generate 10001 "$BIG"
read -r l2_rps l2_p99 s2_rps s2_p99 lv2_rps lv2_p99 sv2_rps sv2_p99 lu2_rps lu2_p99 su2_rps su2_p99 < <(catalog)
fi

ratio() { echo "$1 / $2" | bc -l; }
verdict() { if [ "$(echo "$1" | bc -l)" -eq 1 ]; then echo ok; else echo MISSED; fi; }
printf '\nbench/serve: kadr all, local storage, wrk -t2 -c32 %s s per run\n' "$SECS"
printf '  %-40s %10s %10s\n' "" "req/s" "p99 ms"
printf '  %-40s %10s %10s\n' "segment via kadr ($SIZE B)" "$k_rps" "$k_p99"
printf '  %-40s %10s %10s\n' "segment via nginx" "$n_rps" "$n_p99"
printf '  segments kadr/nginx %.2f (target >= 0.8: %s)\n' "$(ratio "$k_rps" "$n_rps")" "$(verdict "$k_rps >= 0.8 * $n_rps")"
[ "${BENCH_SERVE_PART:-all}" = segments ] && exit 0
printf '  %-40s %10s %10s\n' "catalog list, 10k videos" "$l1_rps" "$l1_p99"
printf '  %-40s %10s %10s\n' "catalog list, $BIG videos" "$l2_rps" "$l2_p99"
printf '  %-40s %10s %10s\n' "search 'кошки' (2 %), 10k videos" "$s1_rps" "$s1_p99"
printf '  %-40s %10s %10s\n' "search 'кошки' (2 %), $BIG videos" "$s2_rps" "$s2_p99"
printf '  %-40s %10s %10s\n' "signed-in viewer: list, 10k" "$lv1_rps" "$lv1_p99"
printf '  %-40s %10s %10s\n' "signed-in viewer: list, $BIG" "$lv2_rps" "$lv2_p99"
printf '  %-40s %10s %10s\n' "signed-in viewer: search, 10k" "$sv1_rps" "$sv1_p99"
printf '  %-40s %10s %10s\n' "signed-in viewer: search, $BIG" "$sv2_rps" "$sv2_p99"
printf '  %-40s %10s %10s\n' "moderator (uncached): list, 10k" "$lu1_rps" "$lu1_p99"
printf '  %-40s %10s %10s\n' "moderator (uncached): list, $BIG" "$lu2_rps" "$lu2_p99"
printf '  %-40s %10s %10s\n' "moderator (uncached): search, 10k" "$su1_rps" "$su1_p99"
printf '  %-40s %10s %10s\n' "moderator (uncached): search, $BIG" "$su2_rps" "$su2_p99"
printf '  p99 list %s / %s ms, search %s / %s ms (target <= 10: %s)\n' "$l1_p99" "$l2_p99" "$s1_p99" "$s2_p99" \
  "$(verdict "$l1_p99 <= 10 && $l2_p99 <= 10 && $s1_p99 <= 10 && $s2_p99 <= 10")"
printf '  1M/10k p99: list %.2f, search %.2f (target <= 1.3: %s)\n' "$(ratio "$l2_p99" "$l1_p99")" "$(ratio "$s2_p99" "$s1_p99")" \
  "$(verdict "$l2_p99 <= 1.3 * $l1_p99 && $s2_p99 <= 1.3 * $s1_p99")"
printf '  signed-in viewer p99: list %s / %s ms, search %s / %s ms (target <= 10: %s)\n' "$lv1_p99" "$lv2_p99" "$sv1_p99" "$sv2_p99" \
  "$(verdict "$lv1_p99 <= 10 && $lv2_p99 <= 10 && $sv1_p99 <= 10 && $sv2_p99 <= 10")"
printf '  moderator (uncached) p99: list %s / %s ms, search %s / %s ms; 1M/10k list %.2f, search %.2f\n' \
  "$lu1_p99" "$lu2_p99" "$su1_p99" "$su2_p99" "$(ratio "$lu2_p99" "$lu1_p99")" "$(ratio "$su2_p99" "$su1_p99")"
