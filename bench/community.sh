#!/usr/bin/env bash
# bench/community: the community layer at catalogue scale, through `kadr all` (release, local
# storage), with baselines measured in the same run.
#
# Generated in Postgres (SQL, then vacuumed and checkpointed): 1M users each with a channel,
# 1M listed videos on 100k channels, 10M subscriptions (one channel with every user
# subscribed, one user subscribed to 1,000 channels), 20M ratings, 2M comments (one video
# with 200,000). Then, wrk -t2 -c32:
#   1. the subscription feed of the user with 1,000 subscriptions;
#   2. comments of the 200,000-comment video, page 1 and page 500 (25 a page, cursors
#      taken by walking the pages first);
#   3. like/unlike of one video by 5,000 users (the hot row case), then the count compared
#      with the ratings once folded;
#   4. a new video on the channel with 1M subscribers: time until every subscriber has the
#      notification, while wrk measures the feed and comments again (p99 against the idle
#      figures of 1 and 2);
#   5. a public playlist of 5,000 videos, its first and last (200th) page;
#   6. related videos of random videos among the newest RELATED_SAMPLE (2,000), whose lists
#      the worker works out from its start (the time it takes is printed too).
#
#   BENCH_COMMUNITY_SCALE=0.1 bench/community.sh   (a tenth of every size, for a quick look)
#   BENCH_COMMUNITY_SECS=10                         (seconds per wrk run)
#   BENCH_COMMUNITY_REUSE=1                         (measure again on the data of the last run)
#
# Targets (issue 13): feed p99 <= 20 ms; comments p99 <= 20 ms with page 500 within 1.3x of
# page 1; likes >= 2000/s with exact counts; notifications to every subscriber within 60 s
# while other p99s stay within 2x idle. Issue 14: a 5,000-entry playlist page p99 <= 20 ms;
# related videos p99 <= 20 ms at 1M videos.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KADR=${KADR_BIN:-$ROOT/target/release/kadr}
# kadr reads every KADR_* variable as configuration and refuses unknown ones.
unset KADR_BIN
WORK=${BENCH_DIR:-$ROOT/target/bench-community}
SECS=${BENCH_COMMUNITY_SECS:-10}
SCALE=${BENCH_COMMUNITY_SCALE:-1}
[ -x "$KADR" ] || { echo "bench: build first (cargo build --release)" >&2; exit 1; }
for t in wrk psql python3; do
  command -v "$t" >/dev/null || { echo "bench/community: $t missing: run deploy/install-deps.sh --bench" >&2; exit 1; }
done
n() { python3 -c "print(max(1, int($1 * $SCALE)))"; }
USERS=$(n 1000000); VIDEOS=$(n 1000000); CHANNELS=$(n 100000)
EXTRA_SUBS=$(( 9 )); RATINGS_PER_USER=20; COMMENTS=$(n 2000000); HOT_COMMENTS=$(n 200000)
FAN_SUBS=$(python3 -c "print(min(1000, max(10, int(1000 * $SCALE))))")
LIKERS=5000
RELATED_SAMPLE=$(python3 -c "print(min(2000, max(100, int(2000 * $SCALE))))")
[ "$USERS" -gt $((LIKERS + FAN_SUBS + 10)) ] || { echo "bench/community: scale too small" >&2; exit 1; }

REUSE=""
if [ -n "${BENCH_COMMUNITY_REUSE:-}" ] && [ -f "$WORK/generated" ]; then REUSE=1; else rm -rf "$WORK"; fi
mkdir -p "$WORK"; chmod 755 "$WORK"
# Likes and subscriptions are limited per user; the bench measures throughput, not the limit.
KADR_ADMIN_PASSWORD=bench-admin-password KADR_COMMUNITY__ACTIONS_PER_MINUTE=100000 \
  "$KADR" all --data-dir "$WORK/var" --listen 127.0.0.1:0 2> "$WORK/kadr.log" &
PID=$!
trap 'kill -TERM $PID 2>/dev/null || true; wait $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  ADDR=$(grep -o 'listening on http://[0-9.:]*' "$WORK/kadr.log" | head -1 | sed 's#listening on http://##' || true)
  [ -n "$ADDR" ] && break; sleep 0.1
done
SERVER="http://$ADDR"
PSQL=(psql -X -q -v ON_ERROR_STOP=1 -h "$WORK/var/postgres" -U kadr kadr)
q() { "${PSQL[@]}" -At -c "$1"; }
now() { date +%s.%N; }

id() { printf '%08x-0000-7000-8000-%012x' "$1" "$2"; }
if [ -n "$REUSE" ]; then
  echo "bench/community: reusing the data of the last run" >&2
  NEW=$(id 3 0)
  q "DELETE FROM notifications WHERE video_id = '$NEW'; DELETE FROM feed_items WHERE video_id = '$NEW';
     DELETE FROM fanouts WHERE video_id = '$NEW'; DELETE FROM videos WHERE id = '$NEW';
     DELETE FROM video_related; UPDATE videos SET related_at = NULL WHERE id <= '$(id 3 "$RELATED_SAMPLE")';
     UPDATE api_tokens SET last_used_at = now()" > /dev/null
else
echo "bench/community: generating $USERS users, $VIDEOS videos, subscriptions, ratings, $COMMENTS comments" >&2
t_gen=$(now)
"${PSQL[@]}" <<SQL
SET synchronous_commit = off;
SET maintenance_work_mem = '1GB';
-- Ids in creation order, as Kadr's own (UUIDv7) are.
CREATE FUNCTION pg_temp.id(kind int, i bigint) RETURNS uuid LANGUAGE sql IMMUTABLE AS
  \$\$ SELECT (lpad(to_hex(kind), 8, '0') || '-0000-7000-8000-' || lpad(to_hex(i), 12, '0'))::uuid \$\$;
INSERT INTO users (id, username, email, password_hash, verified, created_at)
SELECT pg_temp.id(1, i), 'u' || i, 'u' || i || '@bench.invalid', 'x', true, now() - interval '1 year'
FROM generate_series(1::bigint, $USERS) i;
INSERT INTO channels (id, owner_id, handle, display_name, created_at)
SELECT pg_temp.id(2, i), pg_temp.id(1, i), 'u' || i, 'Канал ' || i, now() - interval '1 year'
FROM generate_series(1::bigint, $USERS) i;
-- Videos on channels 1..CHANNELS, newest first by i; channel 1 ("u1") is the star, user 2
-- ("u2") the fan.
INSERT INTO videos (id, channel_id, owner_id, title, tags, privacy, status, playable, moderation,
                    duration_ms, width, height, is_short, created_at, published_at, announced_at)
SELECT pg_temp.id(3, i), pg_temp.id(2, 1 + i % $CHANNELS), pg_temp.id(1, 1 + i % $CHANNELS),
       w[1 + (i * 7) % 50] || ' ' || w[1 + (i * 13) % 50] || ' ' || w[1 + (i * 31) % 50] || ' #' || i,
       ARRAY[w[1 + (i * 3) % 50]], 'public', 'ready', true, 'approved', 60000, 1280, 720, i % 5 = 0,
       now() - make_interval(secs => i), now() - make_interval(secs => i), now() - make_interval(secs => i)
FROM generate_series(1::bigint, $VIDEOS) i,
     (SELECT ARRAY['кошки','собаки','музыка','новости','футбол','рецепт','путешествие','обзор',
                   'игра','фильм','сериал','история','наука','космос','природа','город','танцы',
                   'музей','театр','поезд','music','news','football','recipe','travel','review',
                   'game','movie','science','space','nature','city','dance','train','العربية',
                   'موسيقى','أخبار','كرة','وصفة','سفر','مراجعة','لعبة','فيلم','علوم','فضاء',
                   'طبيعة','مدينة','رقص','قطار','кино'] AS w) words;
-- Related lists: worked out by the worker for the newest RELATED_SAMPLE videos only (the
-- rest marked done, or the worker would spend the run on them).
UPDATE videos SET related_at = now() WHERE id > pg_temp.id(3, $RELATED_SAMPLE);

-- A public playlist of 5,000 videos (the most a playlist holds), owned by the fan.
INSERT INTO playlists (id, owner_id, channel_id, title, privacy, item_count)
VALUES (pg_temp.id(6, 1), pg_temp.id(1, 2), pg_temp.id(2, 2), 'Всё подряд', 'public', 5000);
INSERT INTO playlist_items (playlist_id, video_id, position)
SELECT pg_temp.id(6, 1), pg_temp.id(3, 1 + (i * 7919) % $VIDEOS), i * 65536
FROM generate_series(1::bigint, 5000) i;

-- Subscriptions: everyone to the star, the fan to FAN_SUBS channels, everyone to 9 more.
ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_pkey;
DROP INDEX subscriptions_channel_idx, subscriptions_mine_idx;
INSERT INTO subscriptions (user_id, channel_id)
SELECT pg_temp.id(1, i), pg_temp.id(2, 1) FROM generate_series(2::bigint, $USERS) i;
INSERT INTO subscriptions (user_id, channel_id)
SELECT pg_temp.id(1, 2), pg_temp.id(2, c) FROM generate_series(3::bigint, $FAN_SUBS + 2) c;
INSERT INTO subscriptions (user_id, channel_id)
SELECT DISTINCT pg_temp.id(1, i), pg_temp.id(2, 2 + (i * k * 7919) % ($CHANNELS - 1))
FROM generate_series(3::bigint, $USERS) i, generate_series(1::bigint, $EXTRA_SUBS) k;
ALTER TABLE subscriptions ADD PRIMARY KEY (user_id, channel_id);
CREATE INDEX subscriptions_channel_idx ON subscriptions (channel_id, user_id);
CREATE INDEX subscriptions_mine_idx ON subscriptions (user_id, created_at DESC, channel_id DESC);
UPDATE channels c SET subscriber_count = s.n
FROM (SELECT channel_id, count(*) AS n FROM subscriptions GROUP BY channel_id) s WHERE c.id = s.channel_id;
-- The fan's feed, as subscribing and the announcements wrote it.
INSERT INTO feed_items (user_id, published_at, video_id, channel_id, is_short)
SELECT pg_temp.id(1, 2), v.published_at, v.id, v.channel_id, v.is_short
FROM subscriptions s JOIN videos v ON v.channel_id = s.channel_id WHERE s.user_id = pg_temp.id(1, 2);

-- Ratings: each user rates 20 videos, nine in ten likes.
DROP INDEX video_ratings_video_idx, video_ratings_liked_idx;
INSERT INTO video_ratings (user_id, video_id, rating, rated_at)
SELECT pg_temp.id(1, i), pg_temp.id(3, v), CASE WHEN (i + j) % 10 = 0 THEN -1 ELSE 1 END,
       now() - make_interval(secs => j)
FROM generate_series(1::bigint, $USERS) i, generate_series(1::bigint, $RATINGS_PER_USER) j,
     LATERAL (SELECT 1 + (i * j * 104729) % $VIDEOS AS v) x
ON CONFLICT DO NOTHING;
CREATE INDEX video_ratings_video_idx ON video_ratings (video_id);
CREATE INDEX video_ratings_liked_idx ON video_ratings (user_id, rated_at DESC, video_id DESC) WHERE rating = 1;
UPDATE videos v SET like_count = r.likes, dislike_count = r.dislikes
FROM (SELECT video_id, count(*) FILTER (WHERE rating = 1) AS likes, count(*) FILTER (WHERE rating = -1) AS dislikes
      FROM video_ratings GROUP BY video_id) r WHERE v.id = r.video_id;

-- Comments: HOT_COMMENTS on the newest video, the rest spread; likes for the top sort.
INSERT INTO comments (id, video_id, author_id, body, like_count, created_at)
SELECT pg_temp.id(4, i),
       CASE WHEN i <= $HOT_COMMENTS THEN pg_temp.id(3, 1) ELSE pg_temp.id(3, 1 + (i * 31) % $VIDEOS) END,
       pg_temp.id(1, 1 + (i * 13) % $USERS), 'Комментарий номер ' || i || ' — отличное видео, 1:23',
       (i * 7) % 1000, now() - make_interval(secs => $COMMENTS - i)
FROM generate_series(1::bigint, $COMMENTS) i;
UPDATE videos v SET comment_count = c.n
FROM (SELECT video_id, count(*) AS n FROM comments GROUP BY video_id) c WHERE v.id = c.video_id;

-- Tokens of the users wrk signs in as: the fan, and the likers.
INSERT INTO api_tokens (id, user_id, token_hash, name, expires_at, last_used_at)
SELECT pg_temp.id(5, i), pg_temp.id(1, i), sha256(convert_to('kadr_bench_' || i, 'UTF8')), 'bench',
       now() + interval '1 day', now()
FROM generate_series(2::bigint, $LIKERS + 2) i;
SQL
"${PSQL[@]}" -c "VACUUM (ANALYZE)" -c "CHECKPOINT"
gen_secs=$(echo "$(now) - $t_gen" | bc -l)
echo "bench/community: generated in $(printf %.0f "$gen_secs") s; database $(q "SELECT pg_size_pretty(pg_database_size('kadr'))")" >&2
touch "$WORK/generated"
fi

FAN_TOKEN=kadr_bench_2
HOT_VIDEO=$(id 3 1)
LIKED_VIDEO=$(id 3 2)

. "$ROOT/bench/lib.sh"
FEED="$SERVER/api/v1/me/feed?limit=25"
COMMENTS1="$SERVER/api/v1/videos/$HOT_VIDEO/comments?limit=25"
# The cursor of page 500: walk the pages as a client would.
echo "bench/community: walking to comment page 500" >&2
CURSOR=$(python3 - "$COMMENTS1" <<'PY'
import json, sys, urllib.request
url, cur = sys.argv[1], None
for _ in range(499):
    with urllib.request.urlopen(url + (f"&cursor={cur}" if cur else "")) as r:
        cur = json.load(r)["next_cursor"]
print(cur)
PY
)
COMMENTS500="$COMMENTS1&cursor=$CURSOR"
AUTH=(-H "authorization: Bearer $FAN_TOKEN")

# Related lists: the worker works them out for the sample (newest first) from its start.
echo "bench/community: waiting for the related lists of $RELATED_SAMPLE videos" >&2
for _ in $(seq 1 6000); do
  [ "$(q "SELECT count(*) FROM videos WHERE related_at IS NULL AND id <= '$(id 3 "$RELATED_SAMPLE")'")" = 0 ] && break
  sleep 0.2
done
# The worker's pace: lists over the time between the first and the last written.
rel_rate=$(q "SELECT round(count(*) / greatest(extract(epoch FROM max(computed_at) - min(computed_at)), 0.001)::numeric, 1) FROM video_related")
rel_done=$(q "SELECT count(*) FROM video_related")
rel_avg=$(q "SELECT round(avg(cardinality(related)), 1) FROM video_related")
cat > "$WORK/related.lua" <<LUA
local sample = $RELATED_SAMPLE
request = function()
  local i = math.random(1, sample)
  return wrk.format("GET", string.format("/api/v1/videos/00000003-0000-7000-8000-%012x/related", i))
end
LUA
PLAYLIST="$SERVER/api/v1/playlists/$(id 6 1)/videos?limit=25"
echo "bench/community: walking to the last page of the 5,000-entry playlist" >&2
PL_CURSOR=$(python3 - "$PLAYLIST" <<'PY'
import json, sys, urllib.request
url, cur = sys.argv[1], None
for _ in range(199):
    with urllib.request.urlopen(url + (f"&cursor={cur}" if cur else "")) as r:
        cur = json.load(r)["next_cursor"]
print(cur)
PY
)
PLAYLIST200="$PLAYLIST&cursor=$PL_CURSOR"

echo "bench/community: feed and comments, idle" >&2
warm "${AUTH[@]}" "$FEED"; warm "$COMMENTS1"; warm "$COMMENTS500"
read -r f_rps f_p99 < <(bench "$FEED" 32 "${AUTH[@]}")
read -r c1_rps c1_p99 < <(bench "$COMMENTS1" 32)
read -r c500_rps c500_p99 < <(bench "$COMMENTS500" 32)
FEED_ITEMS=$(curl -sf "${AUTH[@]}" "$FEED" | python3 -c "import sys,json; print(len(json.load(sys.stdin)['items']))")
echo "bench/community: playlist pages and related videos" >&2
warm "$PLAYLIST"; warm "$PLAYLIST200"; warm -s "$WORK/related.lua" "$SERVER/"
read -r p1_rps p1_p99 < <(bench "$PLAYLIST" 32)
read -r p200_rps p200_p99 < <(bench "$PLAYLIST200" 32)
read -r r_rps r_p99 < <(bench "$SERVER/" 32 -s "$WORK/related.lua")
PL_ITEMS=$(curl -sf "$PLAYLIST200" | python3 -c "import sys,json; print(len(json.load(sys.stdin)['items']))")

echo "bench/community: likes of one video by $LIKERS users" >&2
cat > "$WORK/like.lua" <<LUA
local likers = $LIKERS
local n = 0
function setup(thread) thread:set("offset", math.random(1, likers)) end
request = function()
  n = n + 1
  local user = 3 + (offset + n * 7) % likers
  local body = (n % 2 == 0) and '{"rating":"like"}' or '{"rating":"none"}'
  return wrk.format("PUT", "/api/v1/videos/$LIKED_VIDEO/rating",
    { ["authorization"] = "Bearer kadr_bench_" .. user, ["content-type"] = "application/json" }, body)
end
LUA
before=$(q "SELECT like_count FROM videos WHERE id = '$LIKED_VIDEO'")
read -r l_rps l_p99 < <(bench "$SERVER/" 32 -s "$WORK/like.lua")
# Folded within community.fold_interval_ms; wait for the changes to be gone.
for _ in $(seq 1 100); do
  [ "$(q "SELECT count(*) FROM counter_deltas")" = 0 ] && break; sleep 0.1
done
counted=$(q "SELECT like_count FROM videos WHERE id = '$LIKED_VIDEO'")
actual=$(q "SELECT count(*) FROM video_ratings WHERE video_id = '$LIKED_VIDEO' AND rating = 1")

echo "bench/community: a new video on the channel with $(q "SELECT subscriber_count FROM channels WHERE handle = 'u1'") subscribers" >&2
NEW_VIDEO=$(id 3 0)
SUBS=$(q "SELECT count(*) FROM subscriptions WHERE channel_id = '$(id 2 1)'")
q "INSERT INTO videos (id, channel_id, owner_id, title, privacy, status, playable, moderation, duration_ms,
     width, height, published_at) VALUES ('$NEW_VIDEO', '$(id 2 1)', '$(id 1 1)', 'Премьера', 'public', 'ready',
     true, 'approved', 60000, 1280, 720, now())" > /dev/null
t0=$(now)
# Other requests while the fan-out runs.
read -r fb_rps fb_p99 < <(bench "$FEED" 32 "${AUTH[@]}")
read -r cb_rps cb_p99 < <(bench "$COMMENTS1" 32)
fan_secs=""
for _ in $(seq 1 1800); do
  if [ "$(q "SELECT done_at IS NOT NULL FROM fanouts WHERE video_id = '$NEW_VIDEO'")" = t ]; then
    fan_secs=$(q "SELECT round(extract(epoch FROM done_at - created_at)::numeric, 1) FROM fanouts WHERE video_id = '$NEW_VIDEO'")
    break
  fi
  sleep 0.1
done
told=$(q "SELECT count(*) FROM notifications WHERE video_id = '$NEW_VIDEO' AND type = 'new_video'")
# From the insert to the last notification, as a subscriber sees it.
seen_secs=$(q "SELECT round(extract(epoch FROM max(n.created_at) - v.published_at)::numeric, 1) FROM notifications n JOIN videos v ON v.id = n.video_id WHERE n.video_id = '$NEW_VIDEO' GROUP BY v.published_at")

ratio() { echo "$1 / $2" | bc -l; }
verdict() { if [ "$(echo "$1" | bc -l)" -eq 1 ]; then echo ok; else echo MISSED; fi; }
printf '\nbench/community: kadr all, local storage, wrk -t2 -c32 %s s per run; %s users, %s videos, %s subscriptions, %s ratings, %s comments\n' \
  "$SECS" "$USERS" "$VIDEOS" "$(q "SELECT count(*) FROM subscriptions")" "$(q "SELECT count(*) FROM video_ratings")" "$COMMENTS"
printf '  %-52s %10s %10s\n' "" "req/s" "p99 ms"
printf '  %-52s %10s %10s\n' "feed of a user with $FAN_SUBS subscriptions ($FEED_ITEMS items)" "$f_rps" "$f_p99"
printf '  %-52s %10s %10s\n' "comments of a $HOT_COMMENTS-comment video, page 1" "$c1_rps" "$c1_p99"
printf '  %-52s %10s %10s\n' "the same, page 500" "$c500_rps" "$c500_p99"
printf '  %-52s %10s %10s\n' "a 5,000-entry playlist, page 1 (25 a page)" "$p1_rps" "$p1_p99"
printf '  %-52s %10s %10s\n' "the same, page 200 ($PL_ITEMS items)" "$p200_rps" "$p200_p99"
printf '  %-52s %10s %10s\n' "related videos of $RELATED_SAMPLE random videos" "$r_rps" "$r_p99"
printf '  %-52s %10s %10s\n' "like/unlike of one video by $LIKERS users" "$l_rps" "$l_p99"
printf '  %-52s %10s %10s\n' "feed during the fan-out" "$fb_rps" "$fb_p99"
printf '  %-52s %10s %10s\n' "comments page 1 during the fan-out" "$cb_rps" "$cb_p99"
printf '  feed p99 %s ms (target <= 20: %s)\n' "$f_p99" "$(verdict "$f_p99 <= 20")"
printf '  comments p99 %s / %s ms, page 500 / page 1 %.2f (targets <= 20 and <= 1.3: %s)\n' "$c1_p99" "$c500_p99" \
  "$(ratio "$c500_p99" "$c1_p99")" "$(verdict "$c1_p99 <= 20 && $c500_p99 <= 20 && $c500_p99 <= 1.3 * $c1_p99")"
printf '  likes %s/s (target >= 2000: %s); count %s after the fold, %s ratings (was %s): %s\n' "$l_rps" \
  "$(verdict "$l_rps >= 2000")" "$counted" "$actual" "$before" "$([ "$counted" = "$actual" ] && echo exact || echo WRONG)"
printf '  new video: %s of %s subscribers told, fan-out %s s, last notification %s s after publishing (target <= 60: %s)\n' \
  "$told" "$SUBS" "${fan_secs:-unfinished}" "${seen_secs:-?}" "$(verdict "${seen_secs:-9999} <= 60 && $told == $SUBS")"
printf '  p99 during the fan-out: feed %.2fx, comments %.2fx of idle (target <= 2: %s)\n' "$(ratio "$fb_p99" "$f_p99")" \
  "$(ratio "$cb_p99" "$c1_p99")" "$(verdict "$fb_p99 <= 2 * $f_p99 && $cb_p99 <= 2 * $c1_p99")"
printf '  playlist p99 %s / %s ms (target <= 20: %s)\n' "$p1_p99" "$p200_p99" "$(verdict "$p1_p99 <= 20 && $p200_p99 <= 20")"
printf '  related p99 %s ms (target <= 20: %s); %s lists (%s videos each on average), worked out by one worker at %s lists/s\n' \
  "$r_p99" "$(verdict "$r_p99 <= 20")" "$rel_done" "$rel_avg" "$rel_rate"
