#!/usr/bin/env bash
# bench/sitemap: robots.txt's sitemaps at catalogue scale, through `kadr all` (release, local
# storage), with a baseline measured in the same run.
#
# Generated in Postgres (SQL, then vacuumed): 100k users with a channel each, 1M listed videos
# with titles, descriptions and tags in Russian, English and Arabic (and 50k unlisted ones,
# which must not appear). Then:
#   1. the sitemap index, walked afresh each time (site.sitemap_cache_secs = 1): median of 5;
#   2. every 50,000-entry video file, fetched whole with curl: the slowest and the median,
#      its entry count checked;
#   3. the baseline: psql exporting the same rows of the slowest file's range (COPY ... TO
#      STDOUT, the database's own cost of the data); printed as a ratio.
#
#   BENCH_SITEMAP_SCALE=0.1 bench/sitemap.sh   (a tenth of the videos, for a quick look)
#   BENCH_SITEMAP_REUSE=1                      (measure again on the data of the last run)
#
# Target (issue 16): each 50,000-entry file in under 1 s at 1M videos.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KADR=${KADR_BIN:-$ROOT/target/release/kadr}
# kadr reads every KADR_* variable as configuration and refuses unknown ones.
unset KADR_BIN
WORK=${BENCH_DIR:-$ROOT/target/bench-sitemap}
SCALE=${BENCH_SITEMAP_SCALE:-1}
[ -x "$KADR" ] || { echo "bench: build first (cargo build --release)" >&2; exit 1; }
for t in curl psql python3; do
  command -v "$t" >/dev/null || { echo "bench/sitemap: $t missing: run deploy/install-deps.sh --bench" >&2; exit 1; }
done
VIDEOS=$(python3 -c "print(max(1000, int(1000000 * $SCALE)))")
UNLISTED=$(( VIDEOS / 20 ))
USERS=100000

REUSE=""
if [ -n "${BENCH_SITEMAP_REUSE:-}" ] && [ -f "$WORK/generated" ]; then REUSE=1; else rm -rf "$WORK"; fi
mkdir -p "$WORK"; chmod 755 "$WORK"; WORK=$(cd "$WORK" && pwd)
KADR_ADMIN_PASSWORD=bench-admin-password KADR_SITE__SITEMAP_CACHE_SECS=1 \
  "$KADR" all --data-dir "$WORK/var" --listen 127.0.0.1:0 2> "$WORK/kadr.log" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null || true; wait $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  ADDR=$(grep -o 'listening on http://[0-9.:]*' "$WORK/kadr.log" | head -1 | sed 's#listening on http://##' || true)
  [ -n "$ADDR" ] && break; sleep 0.1
done
[ -n "${ADDR:-}" ] || { echo "bench/sitemap: kadr did not start:" >&2; cat "$WORK/kadr.log" >&2; exit 1; }
SERVER="http://$ADDR"
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h "$WORK/var/postgres" -U kadr kadr)
q() { "${PSQL[@]}" -At -c "$1"; }

if [ -z "$REUSE" ]; then
echo "bench/sitemap: generating $USERS users and channels, $VIDEOS listed and $UNLISTED unlisted videos" >&2
t0=$(date +%s.%N)
"${PSQL[@]}" <<SQL
SET synchronous_commit = off;
SET maintenance_work_mem = '1GB';
CREATE FUNCTION pg_temp.id(kind int, i bigint) RETURNS uuid LANGUAGE sql IMMUTABLE AS
  \$\$ SELECT (lpad(to_hex(kind), 8, '0') || '-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid \$\$;
INSERT INTO users (id, username, email, password_hash, verified, created_at)
SELECT pg_temp.id(1, i), 'u' || i, 'u' || i || '@bench.invalid', 'x', true, now() - interval '1 year'
FROM generate_series(1::bigint, $USERS) i;
INSERT INTO channels (id, owner_id, handle, display_name, created_at)
SELECT pg_temp.id(2, i), pg_temp.id(1, i), 'u' || i, 'Канал ' || i, now() - interval '1 year'
FROM generate_series(1::bigint, $USERS) i;
INSERT INTO videos (id, channel_id, owner_id, title, description, tags, privacy, status, playable,
                    moderation, duration_ms, width, height, created_at, published_at, announced_at,
                    related_at)
SELECT pg_temp.id(3, i), pg_temp.id(2, 1 + i % $USERS), pg_temp.id(1, 1 + i % $USERS),
       w[1 + (i * 7) % 20] || ' ' || w[1 + (i * 13) % 20] || ' & «' || w[1 + (i * 31) % 20] || '» #' || i,
       'Описание видео номер ' || i || '. ' || w[1 + (i * 3) % 20] || ' — ' || w[1 + (i * 11) % 20]
         || ' <b>not markup</b> and a longer sentence so the summary has something to cut. '
         || repeat(w[1 + i % 20] || ' ', 20),
       ARRAY[w[1 + (i * 3) % 20], w[1 + (i * 5) % 20]],
       CASE WHEN i <= $UNLISTED THEN 'unlisted' ELSE 'public' END,
       'ready', true, 'approved', 60000 + (i % 3600) * 1000, 1280, 720,
       now() - make_interval(secs => $VIDEOS + $UNLISTED - i), now() - make_interval(secs => $VIDEOS + $UNLISTED - i),
       -- Already announced and related: the worker's passes leave them be during the run.
       now(), now()
FROM generate_series(1::bigint, $VIDEOS + $UNLISTED) i,
     (SELECT ARRAY['кошки','собаки','музыка','новости','футбол','рецепт','путешествие','обзор',
                   'music','news','football','recipe','travel','review','موسيقى','أخبار','كرة',
                   'وصفة','سفر','مراجعة'] AS w) words;
VACUUM ANALYZE users, channels, videos;
CHECKPOINT;
SQL
touch "$WORK/generated"
echo "bench/sitemap: generated in $(python3 -c "print(f'{$(date +%s.%N) - $t0:.0f}')") s" >&2
fi

# 1. The index, walked afresh each time.
walks=()
for _ in 1 2 3 4 5; do
  sleep 1.1
  walks+=("$(curl -s -o "$WORK/index.xml" -w '%{time_total}' "$SERVER/sitemap.xml")")
done
FILES=$(grep -o 'sitemaps/videos-[0-9]*\.xml' "$WORK/index.xml" | wc -l)
INDEX_MS=$(python3 -c "import statistics,sys; print(f'{statistics.median(map(float, sys.argv[1:])) * 1000:.0f}')" "${walks[@]}")

# 2. Every video file, whole.
: > "$WORK/files.txt"
for n in $(seq 0 $((FILES - 1))); do
  t=$(curl -s -o "$WORK/videos-$n.xml" -w '%{time_total}' "$SERVER/sitemaps/videos-$n.xml")
  entries=$(grep -o '<url>' "$WORK/videos-$n.xml" | wc -l)
  bytes=$(stat -c %s "$WORK/videos-$n.xml")
  echo "$n $t $entries $bytes" >> "$WORK/files.txt"
  tail -c 20 "$WORK/videos-$n.xml" | grep -q '</urlset>' || { echo "bench/sitemap: videos-$n.xml is cut short" >&2; exit 1; }
done
TOTAL=$(awk '{s += $3} END {print s}' "$WORK/files.txt")
[ "$TOTAL" -eq "$VIDEOS" ] || { echo "bench/sitemap: $TOTAL entries for $VIDEOS listed videos" >&2; exit 1; }
grep -q "$(printf '%08x-0000-7000-8000-%012x' 3 1)" "$WORK"/videos-*.xml && { echo "bench/sitemap: an unlisted video is listed" >&2; exit 1; }
read -r SLOWEST SLOW_S SLOW_N SLOW_BYTES < <(sort -k2 -g -r "$WORK/files.txt" | sed -n 1p)
MEDIAN_MS=$(awk '{print $2}' "$WORK/files.txt" | python3 -c "import statistics,sys; print(f'{statistics.median(float(l) for l in sys.stdin) * 1000:.0f}')")

# 3. The baseline: the database exporting the slowest file's rows.
LO=$(grep -m1 -o "<loc>[^<]*/watch/[^<]*</loc>" "$WORK/videos-$SLOWEST.xml" | sed 's#.*/watch/##; s#</loc>##')
HI=$(grep -o "<loc>[^<]*/watch/[^<]*</loc>" "$WORK/videos-$SLOWEST.xml" | tail -1 | sed 's#.*/watch/##; s#</loc>##')
b0=$(date +%s.%N)
"${PSQL[@]}" -c "COPY (SELECT v.id, v.title, v.description, v.tags, v.duration_ms, v.view_count,
    v.status, v.published_at, v.updated_at, c.handle, c.display_name
  FROM videos v JOIN channels c ON c.id = v.channel_id
  WHERE v.playable AND v.privacy = 'public' AND v.moderation = 'approved' AND NOT v.withheld
    AND v.id >= '$LO' AND v.id <= '$HI' ORDER BY v.id) TO STDOUT" > "$WORK/baseline.tsv"
b1=$(date +%s.%N)
BASE_MS=$(python3 -c "print(f'{($b1 - $b0) * 1000:.0f}')")
SLOW_MS=$(python3 -c "print(f'{$SLOW_S * 1000:.0f}')")

printf '\n| bench/sitemap (%s listed videos) | figure |\n| --- | --- |\n' "$VIDEOS"
printf '| sitemap index, walked afresh (%s video files) | %s ms |\n' "$FILES" "$INDEX_MS"
printf '| a 50,000-entry video file, slowest (videos-%s, %s entries, %s MB) | %s ms |\n' \
  "$SLOWEST" "$SLOW_N" "$(python3 -c "print(f'{$SLOW_BYTES / 1e6:.1f}')")" "$SLOW_MS"
printf '| a video file, median | %s ms |\n' "$MEDIAN_MS"
printf '| baseline: psql COPY of the same rows | %s ms |\n' "$BASE_MS"
printf '| ratio slowest file / baseline | %s× |\n' "$(python3 -c "print(f'{$SLOW_MS / max(1, $BASE_MS):.2f}')")"
printf '| target: every file under 1 s | %s |\n' "$(python3 -c "print('reached' if $SLOW_MS < 1000 else 'not reached')")"
