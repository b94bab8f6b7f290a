//! Community, part 1: channels as their own things (several per user, links, images),
//! subscriptions and the subscription feed, ratings, comments, notifications, and counters
//! written without a hot row.

use sea_orm_migration::prelude::*;

use crate::exec;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261202_000004_community"
    }
}

const UP: &str = r#"
-- Channels: links, counters folded from counter_deltas, and a deletion in progress (its
-- videos go through jobs; the channel is hidden from then on).
ALTER TABLE channels
    ADD COLUMN links            jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN subscriber_count bigint NOT NULL DEFAULT 0,
    ADD COLUMN view_count       bigint NOT NULL DEFAULT 0,
    ADD COLUMN deleting_at      timestamptz;

-- A channel's pictures, made by the worker from an uploaded image. `version` goes into the
-- URL, so a new picture is never served from an old cache entry.
CREATE TABLE channel_images (
    channel_id   uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    image        text NOT NULL CHECK (image IN ('avatar', 'avatar_small', 'banner', 'banner_small')),
    storage_key  text NOT NULL UNIQUE,
    width        integer NOT NULL,
    height       integer NOT NULL,
    version      integer NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, image)
);

ALTER TABLE videos
    ADD COLUMN like_count     bigint NOT NULL DEFAULT 0,
    ADD COLUMN dislike_count  bigint NOT NULL DEFAULT 0,
    ADD COLUMN comment_count  bigint NOT NULL DEFAULT 0,
    -- the highest like milestone its owner was told about
    ADD COLUMN like_milestone bigint NOT NULL DEFAULT 0,
    ADD COLUMN comment_policy text NOT NULL DEFAULT 'open'
                              CHECK (comment_policy IN ('open', 'hold', 'off')),
    ADD COLUMN pinned_comment_id uuid,
    -- when its subscribers were told (once, the first time it was listed)
    ADD COLUMN announced_at   timestamptz;
-- Videos listed before this migration are not news.
UPDATE videos SET announced_at = coalesce(published_at, now())
    WHERE playable AND privacy = 'public' AND moderation = 'approved';
-- Listed and not yet announced: what the announcer picks up.
CREATE INDEX videos_unannounced_idx ON videos (published_at)
    WHERE announced_at IS NULL AND playable AND privacy = 'public' AND moderation = 'approved';
CREATE INDEX videos_listed_channel_shorts_idx ON videos (channel_id, published_at DESC, id DESC)
    WHERE playable AND privacy = 'public' AND moderation = 'approved' AND is_short;

CREATE TABLE subscriptions (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    channel_id uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, channel_id)
);
CREATE INDEX subscriptions_channel_idx ON subscriptions (channel_id, user_id);
CREATE INDEX subscriptions_mine_idx ON subscriptions (user_id, created_at DESC, channel_id DESC);

-- One rating per user and video: 1 a like, -1 a dislike. No foreign key to the video: a
-- key check would share-lock the video's row on every like (every like of a popular video
-- queueing on one row's lock record); deleting a video deletes its ratings.
CREATE TABLE video_ratings (
    user_id  uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    video_id uuid NOT NULL,
    rating   smallint NOT NULL CHECK (rating IN (1, -1)),
    rated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, video_id)
);
CREATE INDEX video_ratings_video_idx ON video_ratings (video_id);
CREATE INDEX video_ratings_liked_idx ON video_ratings (user_id, rated_at DESC, video_id DESC)
    WHERE rating = 1;

-- Comments: top level (parent_id NULL) and one level of replies. A held comment waits for
-- the video's owner or a moderator.
CREATE TABLE comments (
    id          uuid PRIMARY KEY,
    video_id    uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    author_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    parent_id   uuid REFERENCES comments (id) ON DELETE CASCADE,
    body        text NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
    held        boolean NOT NULL DEFAULT false,
    like_count  bigint NOT NULL DEFAULT 0,
    reply_count bigint NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    edited_at   timestamptz
);
CREATE INDEX comments_new_idx ON comments (video_id, created_at DESC, id DESC)
    WHERE parent_id IS NULL AND NOT held;
CREATE INDEX comments_top_idx ON comments (video_id, like_count DESC, id DESC)
    WHERE parent_id IS NULL AND NOT held;
CREATE INDEX comments_replies_idx ON comments (parent_id, created_at, id)
    WHERE parent_id IS NOT NULL;
CREATE INDEX comments_held_idx ON comments (video_id, created_at, id) WHERE held;
-- The moderators' queue of held comments, oldest first.
CREATE INDEX comments_held_queue_idx ON comments (created_at, id) WHERE held;
CREATE INDEX comments_author_idx ON comments (author_id);
ALTER TABLE videos ADD CONSTRAINT videos_pinned_comment_fkey
    FOREIGN KEY (pinned_comment_id) REFERENCES comments (id) ON DELETE SET NULL;

CREATE TABLE comment_likes (
    comment_id uuid NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (comment_id, user_id)
);
CREATE INDEX comment_likes_user_idx ON comment_likes (user_id);

-- Changes to counters, appended in the transaction of what changed them and folded into
-- the counters by the worker: a popular video's likes never queue on its row.
CREATE TABLE counter_deltas (
    id      bigserial PRIMARY KEY,
    counter text NOT NULL CHECK (counter IN ('video_likes', 'video_dislikes', 'video_comments',
                                             'channel_subscribers', 'comment_likes', 'comment_replies')),
    target  uuid NOT NULL,
    delta   integer NOT NULL
);

-- Notifications, written by jobs. Rows about a video or comment carry its id without a
-- foreign key: one about something deleted (or no longer visible) is left out when read. No
-- foreign key to the user either: a fan-out writes a row for each of a million subscribers,
-- and a key check per row would lock (and rewrite) each subscriber's user row; deleting an
-- account deletes its notifications and feed items.
CREATE TABLE notifications (
    id         bigserial PRIMARY KEY,
    user_id    uuid NOT NULL,
    type       text NOT NULL CHECK (type IN ('new_video', 'comment_reply', 'like_milestone',
                                             'moderation', 'processed', 'processing_failed')),
    video_id   uuid,
    comment_id uuid,
    actor_id   uuid,
    data       jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    read_at    timestamptz
);
-- Two indexes only (a fan-out writes a row per subscriber): a user's list, newest first, and
-- the age for pruning. The unread count looks at the newest 100.
CREATE INDEX notifications_user_idx ON notifications (user_id, id DESC);
CREATE INDEX notifications_created_idx ON notifications USING brin (created_at);

-- Each subscriber's feed, written when a video is announced (and the newest videos of a
-- channel when subscribing). Read joined with videos and subscriptions, so a video no longer
-- listed or a channel left drops out at once.
CREATE TABLE feed_items (
    user_id      uuid NOT NULL,
    published_at timestamptz NOT NULL,
    video_id     uuid NOT NULL,
    channel_id   uuid NOT NULL,
    is_short     boolean NOT NULL,
    PRIMARY KEY (user_id, published_at, video_id)
);
CREATE INDEX feed_items_shorts_idx ON feed_items (user_id, published_at DESC, video_id DESC)
    WHERE is_short;

-- How far the announcement of a video has got through its channel's subscribers: each
-- batch moves `after_user` in the transaction that writes it, so a crash repeats nothing.
CREATE TABLE fanouts (
    video_id   uuid PRIMARY KEY,
    channel_id uuid NOT NULL,
    after_user uuid,
    done_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
"#;

const DOWN: &str = r#"
DROP TABLE fanouts;
DROP TABLE feed_items;
DROP TABLE notifications;
DROP TABLE counter_deltas;
DROP TABLE comment_likes;
ALTER TABLE videos DROP CONSTRAINT videos_pinned_comment_fkey;
DROP TABLE comments;
DROP TABLE video_ratings;
DROP TABLE subscriptions;
DROP INDEX videos_listed_channel_shorts_idx;
DROP INDEX videos_unannounced_idx;
ALTER TABLE videos
    DROP COLUMN announced_at,
    DROP COLUMN pinned_comment_id,
    DROP COLUMN comment_policy,
    DROP COLUMN like_milestone,
    DROP COLUMN comment_count,
    DROP COLUMN dislike_count,
    DROP COLUMN like_count;
DROP TABLE channel_images;
ALTER TABLE channels
    DROP COLUMN deleting_at,
    DROP COLUMN view_count,
    DROP COLUMN subscriber_count,
    DROP COLUMN links;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        exec(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        exec(manager, DOWN).await
    }
}
