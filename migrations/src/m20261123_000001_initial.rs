//! The first schema: accounts, channels, videos and their media, uploads, and the job queue.

use sea_orm_migration::prelude::*;

use crate::exec;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261123_000001_initial"
    }
}

const UP: &str = r#"
CREATE TABLE users (
    id                 uuid PRIMARY KEY,
    username           text NOT NULL CHECK (length(username) BETWEEN 1 AND 64),
    email              text NOT NULL CHECK (length(email) BETWEEN 3 AND 320),
    -- argon2id PHC string
    password_hash      text NOT NULL,
    role               text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'moderator', 'admin')),
    verified           boolean NOT NULL DEFAULT false,
    storage_used_bytes bigint NOT NULL DEFAULT 0 CHECK (storage_used_bytes >= 0),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE api_tokens (
    id           uuid PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- SHA-256 of the opaque token; the token itself is never stored
    token_hash   bytea NOT NULL UNIQUE,
    name         text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

CREATE TABLE channels (
    id           uuid PRIMARY KEY,
    owner_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    handle       text NOT NULL CHECK (length(handle) BETWEEN 1 AND 64),
    display_name text NOT NULL,
    description  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX channels_handle_key ON channels (lower(handle));
CREATE INDEX channels_owner_idx ON channels (owner_id);

CREATE TABLE videos (
    id                uuid PRIMARY KEY,
    channel_id        uuid NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    owner_id          uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title             text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    description       text NOT NULL DEFAULT '',
    tags              text[] NOT NULL DEFAULT '{}',
    -- BCP 47 tag such as 'ru', 'en', 'ar'
    language          text,
    privacy           text NOT NULL DEFAULT 'public'
                      CHECK (privacy IN ('public', 'unlisted', 'private')),
    status            text NOT NULL DEFAULT 'awaiting_upload'
                      CHECK (status IN ('awaiting_upload', 'queued', 'processing', 'ready', 'failed')),
    stage             text,
    progress          smallint NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    playable          boolean NOT NULL DEFAULT false,
    failure_code      text,
    failure_message   text,
    moderation        text NOT NULL DEFAULT 'pending'
                      CHECK (moderation IN ('pending', 'approved', 'rejected')),
    moderation_reason text,
    moderated_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    moderated_at      timestamptz,
    duration_ms       bigint CHECK (duration_ms >= 0),
    width             integer CHECK (width > 0),
    height            integer CHECK (height > 0),
    fps               double precision CHECK (fps > 0),
    rotation          smallint NOT NULL DEFAULT 0 CHECK (rotation IN (0, 90, 180, 270)),
    is_short          boolean NOT NULL DEFAULT false,
    source_size_bytes bigint CHECK (source_size_bytes >= 0),
    view_count        bigint NOT NULL DEFAULT 0 CHECK (view_count >= 0),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    published_at      timestamptz
);
CREATE INDEX videos_channel_idx ON videos (channel_id, created_at DESC, id DESC);
CREATE INDEX videos_owner_idx ON videos (owner_id, created_at DESC, id DESC);

CREATE TABLE uploads (
    id            uuid PRIMARY KEY,
    video_id      uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    owner_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- declared total size (tus Upload-Length) and the durably stored offset
    length        bigint NOT NULL CHECK (length >= 0),
    offset_bytes  bigint NOT NULL DEFAULT 0 CHECK (offset_bytes >= 0 AND offset_bytes <= length),
    filename      text,
    metadata      jsonb NOT NULL DEFAULT '{}',
    -- where the original ends up
    storage_key   text NOT NULL,
    -- 's3': multipart parts + small tail pieces; 'local': one appended file
    backend       text NOT NULL CHECK (backend IN ('s3', 'local')),
    part_size     bigint NOT NULL CHECK (part_size > 0),
    -- S3 multipart upload id and its completed parts [{n, etag}]
    multipart_id  text,
    parts         jsonb NOT NULL DEFAULT '[]',
    -- bytes past the last full part, kept as small objects [{offset, size}]
    pieces        jsonb NOT NULL DEFAULT '[]',
    -- the request currently writing (a lease renewed while it streams)
    lock_token    uuid,
    locked_until  timestamptz,
    state         text NOT NULL DEFAULT 'active'
                  CHECK (state IN ('active', 'complete', 'aborted', 'expired')),
    expires_at    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz
);
CREATE INDEX uploads_video_idx ON uploads (video_id);
CREATE INDEX uploads_expiry_idx ON uploads (expires_at) WHERE state = 'active';

CREATE TABLE renditions (
    id            uuid PRIMARY KEY,
    video_id      uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    -- rung name such as '720p'
    name          text NOT NULL,
    width         integer NOT NULL CHECK (width > 0),
    height        integer NOT NULL CHECK (height > 0),
    fps           double precision,
    codecs        text NOT NULL DEFAULT '',
    bandwidth     bigint,
    avg_bandwidth bigint,
    playlist_key  text NOT NULL,
    segments      integer NOT NULL DEFAULT 0 CHECK (segments >= 0),
    complete      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (video_id, name)
);

CREATE TABLE images (
    id           uuid PRIMARY KEY,
    video_id     uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('poster', 'poster_small', 'storyboard', 'storyboard_vtt')),
    storage_key  text NOT NULL UNIQUE,
    content_type text NOT NULL,
    width        integer,
    height       integer,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX images_video_idx ON images (video_id, kind);

CREATE TABLE jobs (
    id               uuid PRIMARY KEY,
    queue            text NOT NULL,
    payload          jsonb NOT NULL DEFAULT '{}',
    -- at most one live job per key in a queue (e.g. one transcode per video)
    dedupe_key       text,
    state            text NOT NULL DEFAULT 'queued'
                     CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    priority         smallint NOT NULL DEFAULT 0,
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts     integer NOT NULL CHECK (max_attempts >= 1),
    run_at           timestamptz NOT NULL DEFAULT now(),
    locked_by        text,
    lease_expires_at timestamptz,
    heartbeat_at     timestamptz,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_ready_idx ON jobs (queue, priority DESC, run_at, id) WHERE state = 'queued';
CREATE INDEX jobs_lease_idx ON jobs (lease_expires_at) WHERE state = 'running';
CREATE UNIQUE INDEX jobs_dedupe_key ON jobs (queue, dedupe_key)
    WHERE dedupe_key IS NOT NULL AND state IN ('queued', 'running');
"#;

const DOWN: &str = r#"
DROP TABLE jobs;
DROP TABLE images;
DROP TABLE renditions;
DROP TABLE uploads;
DROP TABLE videos;
DROP TABLE channels;
DROP TABLE api_tokens;
DROP TABLE users;
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
