//! Community, part 2: playlists (with each user's "Watch later"), watch history with resume
//! positions, related videos worked out ahead, reports and the moderators' record of actions,
//! blocks between users, a user's standing (suspended, banned) and the content it withholds,
//! profiles, sessions, and the one-time tokens mailed for password resets and address checks.

use sea_orm_migration::prelude::*;

use crate::exec;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000005_safety"
    }
}

const UP: &str = r#"
-- A user's standing: a suspension ends by itself at `suspended_until`; a ban lasts until a
-- moderator lifts it. `deleting_at`: the account is being deleted by jobs (hidden from then
-- on). `quota_bytes` overrides `upload.user_quota_bytes` for this user (0 = no limit).
ALTER TABLE users
    ADD COLUMN standing        text NOT NULL DEFAULT 'active'
                               CHECK (standing IN ('active', 'suspended', 'banned')),
    ADD COLUMN suspended_until timestamptz,
    ADD COLUMN display_name    text NOT NULL DEFAULT '' CHECK (length(display_name) <= 100),
    ADD COLUMN bio             text NOT NULL DEFAULT '' CHECK (length(bio) <= 1000),
    ADD COLUMN email_verified  boolean NOT NULL DEFAULT false,
    ADD COLUMN quota_bytes     bigint CHECK (quota_bytes >= 0),
    ADD COLUMN history_paused  boolean NOT NULL DEFAULT false,
    ADD COLUMN deleting_at     timestamptz;
CREATE INDEX users_suspended_idx ON users (suspended_until) WHERE standing = 'suspended';
CREATE INDEX users_created_idx ON users (created_at DESC, id DESC);

-- Content withheld because its author is suspended, banned or being deleted: hidden from
-- everyone but moderators, and back when the standing is restored. (A column, not a join
-- with users, so every listing keeps reading its own partial index.)
ALTER TABLE videos ADD COLUMN withheld boolean NOT NULL DEFAULT false;
ALTER TABLE comments ADD COLUMN withheld boolean NOT NULL DEFAULT false;
ALTER TABLE channels ADD COLUMN withheld boolean NOT NULL DEFAULT false;

-- Sessions: the client that signed in, for the list of my sessions.
ALTER TABLE api_tokens ADD COLUMN user_agent text NOT NULL DEFAULT '';
CREATE INDEX api_tokens_live_idx ON api_tokens (user_id, created_at DESC) WHERE revoked_at IS NULL;

CREATE TABLE playlists (
    id          uuid PRIMARY KEY,
    owner_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- the channel page it is shown on (public playlists only)
    channel_id  uuid REFERENCES channels (id) ON DELETE SET NULL,
    title       text NOT NULL CHECK (length(title) BETWEEN 1 AND 150),
    description text NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    privacy     text NOT NULL DEFAULT 'private' CHECK (privacy IN ('public', 'unlisted', 'private')),
    -- each user's built-in "Watch later": private, not deletable, one per user
    watch_later boolean NOT NULL DEFAULT false,
    -- entries, kept in the transaction that adds or removes one (at most 5,000)
    item_count  integer NOT NULL DEFAULT 0 CHECK (item_count BETWEEN 0 AND 5000),
    -- the moderation rule of videos: an untrusted owner's title and description wait
    moderation  text NOT NULL DEFAULT 'approved' CHECK (moderation IN ('pending', 'approved', 'rejected')),
    moderation_reason text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX playlists_watch_later_key ON playlists (owner_id) WHERE watch_later;
CREATE INDEX playlists_owner_idx ON playlists (owner_id, updated_at DESC, id DESC);
CREATE INDEX playlists_channel_idx ON playlists (channel_id, updated_at DESC, id DESC)
    WHERE privacy = 'public';
CREATE INDEX playlists_moderation_queue_idx ON playlists (updated_at, id) WHERE moderation = 'pending';

-- Entries in order of `position` (gaps left for moves; renumbered when a gap runs out).
CREATE TABLE playlist_items (
    playlist_id uuid NOT NULL REFERENCES playlists (id) ON DELETE CASCADE,
    video_id    uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    position    bigint NOT NULL,
    added_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (playlist_id, video_id)
);
CREATE UNIQUE INDEX playlist_items_order_key ON playlist_items (playlist_id, position);
CREATE INDEX playlist_items_video_idx ON playlist_items (video_id);

-- Related videos by words of title and tags, worked out by the worker for every listed video,
-- so the watch page reads one row. `related_at` NULL: not yet.
-- A list is worked out again at `refresh_at`: soon for a new video (newer videos keep
-- arriving), then less and less often, at least daily.
CREATE TABLE video_related (
    video_id    uuid PRIMARY KEY REFERENCES videos (id) ON DELETE CASCADE,
    related     uuid[] NOT NULL,
    computed_at timestamptz NOT NULL DEFAULT now(),
    refresh_at  timestamptz NOT NULL
);
CREATE INDEX video_related_refresh_idx ON video_related (refresh_at);
ALTER TABLE videos ADD COLUMN related_at timestamptz;
CREATE INDEX videos_unrelated_idx ON videos (published_at DESC)
    WHERE related_at IS NULL AND playable AND privacy = 'public' AND moderation = 'approved';

-- What a user watched and where they stopped (written while `history_paused` is off).
CREATE TABLE watch_history (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    video_id    uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    position_ms bigint NOT NULL DEFAULT 0 CHECK (position_ms >= 0),
    -- the video's duration when the position was saved, for "continue watching"
    duration_ms bigint,
    watched_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, video_id)
);
CREATE INDEX watch_history_recent_idx ON watch_history (user_id, watched_at DESC, video_id DESC);

CREATE TABLE user_blocks (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, blocked_id),
    CHECK (user_id <> blocked_id)
);
CREATE INDEX user_blocks_blocked_idx ON user_blocks (blocked_id);
CREATE INDEX user_blocks_mine_idx ON user_blocks (user_id, created_at DESC, blocked_id DESC);

-- The moderators' record: every action with who, when and why. No foreign keys: the record
-- outlives the accounts and things it names (the actor's name is kept as it was).
CREATE TABLE moderation_actions (
    id          uuid PRIMARY KEY,
    actor_id    uuid,
    actor_name  text NOT NULL,
    action      text NOT NULL CHECK (action IN ('dismiss', 'remove', 'warn', 'suspend', 'ban',
                                                'reinstate', 'approve', 'reject', 'role',
                                                'verified', 'quota')),
    object_type text CHECK (object_type IN ('video', 'comment', 'channel', 'user', 'playlist')),
    object_id   uuid,
    -- the user the action was about (the author of what was reported)
    subject_id  uuid,
    reason      text NOT NULL DEFAULT '',
    until       timestamptz,
    data        jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX moderation_actions_recent_idx ON moderation_actions (created_at DESC, id DESC);
CREATE INDEX moderation_actions_subject_idx ON moderation_actions (subject_id, created_at DESC);

-- Reports by signed-in users, grouped by target in the moderators' queue. One open report
-- per reporter and target.
CREATE TABLE reports (
    id          uuid PRIMARY KEY,
    reporter_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    target_type text NOT NULL CHECK (target_type IN ('video', 'comment', 'channel')),
    target_id   uuid NOT NULL,
    -- the target's author when reported
    subject_id  uuid,
    reason      text NOT NULL CHECK (reason IN ('spam', 'harassment', 'hate', 'violence',
                                                'sexual', 'child_safety', 'misinformation',
                                                'copyright', 'other')),
    details     text NOT NULL DEFAULT '' CHECK (length(details) <= 2000),
    created_at  timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    outcome     text CHECK (outcome IN ('dismissed', 'removed', 'warned', 'suspended', 'banned')),
    action_id   uuid REFERENCES moderation_actions (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX reports_open_key ON reports (reporter_id, target_type, target_id)
    WHERE resolved_at IS NULL;
CREATE INDEX reports_open_target_idx ON reports (target_type, target_id, created_at)
    WHERE resolved_at IS NULL;
CREATE INDEX reports_reporter_idx ON reports (reporter_id, created_at DESC);

-- One-time tokens mailed to a user (their SHA-256 only), valid for the address they were
-- sent to.
CREATE TABLE account_tokens (
    token_hash bytea PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text NOT NULL CHECK (purpose IN ('password_reset', 'email_verification')),
    email      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX account_tokens_user_idx ON account_tokens (user_id, purpose);

ALTER TABLE notifications DROP CONSTRAINT notifications_type_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_type_check
    CHECK (type IN ('new_video', 'comment_reply', 'like_milestone', 'moderation', 'processed',
                    'processing_failed', 'report_resolved', 'warning', 'standing'));
"#;

const DOWN: &str = r#"
DELETE FROM notifications WHERE type IN ('report_resolved', 'warning', 'standing');
ALTER TABLE notifications DROP CONSTRAINT notifications_type_check;
-- (written as `= ANY`, so the schema test reads the list of the way up)
ALTER TABLE notifications ADD CONSTRAINT notifications_type_check
    CHECK (type = ANY (ARRAY['new_video', 'comment_reply', 'like_milestone', 'moderation',
                             'processed', 'processing_failed']));
DROP TABLE account_tokens;
DROP TABLE reports;
DROP TABLE moderation_actions;
DROP TABLE user_blocks;
DROP TABLE watch_history;
DROP INDEX videos_unrelated_idx;
ALTER TABLE videos DROP COLUMN related_at;
DROP TABLE video_related;
DROP TABLE playlist_items;
DROP TABLE playlists;
DROP INDEX api_tokens_live_idx;
ALTER TABLE api_tokens DROP COLUMN user_agent;
ALTER TABLE channels DROP COLUMN withheld;
ALTER TABLE comments DROP COLUMN withheld;
ALTER TABLE videos DROP COLUMN withheld;
DROP INDEX users_created_idx;
DROP INDEX users_suspended_idx;
ALTER TABLE users
    DROP COLUMN deleting_at,
    DROP COLUMN history_paused,
    DROP COLUMN quota_bytes,
    DROP COLUMN email_verified,
    DROP COLUMN bio,
    DROP COLUMN display_name,
    DROP COLUMN suspended_until,
    DROP COLUMN standing;
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
