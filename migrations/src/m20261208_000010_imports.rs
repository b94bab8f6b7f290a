//! Catalogue migration: videos imported from somewhere else, and tokens scoped for integrations.
//!
//! - `import_batches`: the videos one run of `kadr import` (or one paste of URLs) brought in;
//!   a moderator reviews a batch from an untrusted account together.
//! - `imports`: one row per imported video: where its file comes from (a URL fetched by the
//!   worker, an object in a named S3 source, or a file the client uploads), the caller's
//!   external id (unique per owner, so re-running a manifest finds what it already did), how
//!   far the fetch got and why it failed.
//! - `videos.original_at`: when the video was first published elsewhere. A listed video's
//!   `published_at` starts from it, so an imported catalogue keeps its dates and its order on
//!   the channel and sinks into the "new" feed at its own date instead of flooding it.
//! - `api_tokens.scopes`: what a token may do (NULL: a sign-in session, which may do everything
//!   its account may); `api_tokens.kind` tells sessions from tokens made on purpose.

use sea_orm_migration::prelude::*;

use crate::exec;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261208_000010_imports"
    }
}

const UP: &str = r#"
CREATE TABLE import_batches (
    id         uuid PRIMARY KEY,
    owner_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       text NOT NULL DEFAULT '' CHECK (char_length(name) <= 200),
    created_at timestamptz NOT NULL DEFAULT now(),
    -- approved by a moderator as a whole: members becoming ready are approved as they do
    approved_by     uuid REFERENCES users (id) ON DELETE SET NULL,
    approved_at     timestamptz,
    approval_reason text,
    -- or rejected as a whole: members becoming ready are rejected as they do
    rejected_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    rejected_at      timestamptz,
    rejection_reason text,
    CHECK (approved_at IS NULL OR rejected_at IS NULL)
);
CREATE INDEX import_batches_owner_idx ON import_batches (owner_id, created_at DESC);

CREATE TABLE imports (
    id             uuid PRIMARY KEY,
    owner_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    video_id       uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    batch_id       uuid REFERENCES import_batches (id) ON DELETE SET NULL,
    -- the caller's own id for the item (a manifest row, the other platform's id)
    external_id    text CHECK (char_length(external_id) BETWEEN 1 AND 200),
    -- `url`: fetched by a worker; `s3`: copied from a named source; `upload`: sent by the client
    source         text NOT NULL CHECK (source IN ('url', 's3', 'upload')),
    -- the URL, or s3://SOURCE/BUCKET/KEY
    location       text CHECK (char_length(location) <= 4096),
    state          text NOT NULL DEFAULT 'queued'
                   CHECK (state IN ('queued', 'fetching', 'fetched', 'failed')),
    bytes_done     bigint NOT NULL DEFAULT 0 CHECK (bytes_done >= 0),
    bytes_total    bigint CHECK (bytes_total >= 0),
    failure_code   text,
    failure_detail text,
    -- when a worker first began fetching (`import.max_secs` counts from here)
    started_at     timestamptz,
    -- a picture sent for the poster before the video was ready, made into it once it is
    thumbnail_key  text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX imports_external_key ON imports (owner_id, external_id)
    WHERE external_id IS NOT NULL;
CREATE UNIQUE INDEX imports_video_key ON imports (video_id);
CREATE INDEX imports_owner_idx ON imports (owner_id, created_at DESC, id DESC);
CREATE INDEX imports_batch_idx ON imports (batch_id) WHERE batch_id IS NOT NULL;
-- An owner's imports still waiting or fetching, counted against import.max_pending.
CREATE INDEX imports_pending_idx ON imports (owner_id) WHERE state IN ('queued', 'fetching');

-- How many of each owner's imports are still queued or fetching, kept by the trigger below
-- (also through cascaded deletions): checked against import.max_pending by reading one row,
-- whose lock is held only from an import's insertion to its commit. An owner with none has
-- no row.
CREATE TABLE import_pending (
    owner_id uuid PRIMARY KEY,
    n        integer NOT NULL CHECK (n > 0)
);
CREATE FUNCTION kadr_imports_pending() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    owner uuid;
    delta integer := 0;
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.state IN ('queued', 'fetching') THEN
        delta := delta + 1;
        owner := NEW.owner_id;
    END IF;
    IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.state IN ('queued', 'fetching') THEN
        delta := delta - 1;
        owner := OLD.owner_id;
    END IF;
    IF delta > 0 THEN
        INSERT INTO import_pending (owner_id, n) VALUES (owner, delta)
        ON CONFLICT (owner_id) DO UPDATE SET n = import_pending.n + delta;
    ELSIF delta < 0 THEN
        UPDATE import_pending SET n = n + delta WHERE owner_id = owner AND n + delta > 0;
        IF NOT FOUND THEN
            DELETE FROM import_pending WHERE owner_id = owner;
        END IF;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER imports_pending AFTER INSERT OR DELETE OR UPDATE OF state ON imports
    FOR EACH ROW EXECUTE FUNCTION kadr_imports_pending();

ALTER TABLE videos ADD COLUMN original_at timestamptz;

CREATE OR REPLACE FUNCTION kadr_videos_catalog() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.title IS DISTINCT FROM OLD.title
       OR NEW.description IS DISTINCT FROM OLD.description OR NEW.tags IS DISTINCT FROM OLD.tags
       OR NEW.caption_search IS DISTINCT FROM OLD.caption_search THEN
        NEW.search := kadr_search_vector(NEW.title, NEW.description, NEW.tags)
                      || coalesce(NEW.caption_search, ''::tsvector);
    END IF;
    IF NEW.published_at IS NULL AND NEW.playable AND NEW.privacy = 'public'
       AND NEW.moderation = 'approved' THEN
        -- an imported video keeps the date it was first published elsewhere
        NEW.published_at := least(coalesce(NEW.original_at, now()), now());
    END IF;
    RETURN NEW;
END
$$;

ALTER TABLE api_tokens
    ADD COLUMN kind text NOT NULL DEFAULT 'session'
        CHECK (kind IN ('session', 'personal', 'integration')),
    ADD COLUMN scopes text[];
"#;

const DOWN: &str = r#"
ALTER TABLE api_tokens DROP COLUMN scopes, DROP COLUMN kind;
CREATE OR REPLACE FUNCTION kadr_videos_catalog() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.title IS DISTINCT FROM OLD.title
       OR NEW.description IS DISTINCT FROM OLD.description OR NEW.tags IS DISTINCT FROM OLD.tags
       OR NEW.caption_search IS DISTINCT FROM OLD.caption_search THEN
        NEW.search := kadr_search_vector(NEW.title, NEW.description, NEW.tags)
                      || coalesce(NEW.caption_search, ''::tsvector);
    END IF;
    IF NEW.published_at IS NULL AND NEW.playable AND NEW.privacy = 'public'
       AND NEW.moderation = 'approved' THEN
        NEW.published_at := now();
    END IF;
    RETURN NEW;
END
$$;
ALTER TABLE videos DROP COLUMN original_at;
DROP TABLE imports;
DROP FUNCTION kadr_imports_pending();
DROP TABLE import_pending;
DROP TABLE import_batches;
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
