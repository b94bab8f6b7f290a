//! Hardening: media tokens that die with the permission they stood for (a per-video epoch,
//! bumped by the database on every privacy or moderation change), and at most one live upload
//! per video, and the attempt limits of logins and registrations.

use sea_orm_migration::prelude::*;

use crate::exec;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261201_000003_hardening"
    }
}

const UP: &str = r#"
-- Signed media URLs carry this number inside their MAC: a change of who may see the video
-- changes it, and every URL issued before stops working.
ALTER TABLE videos ADD COLUMN media_epoch integer NOT NULL DEFAULT 0;

CREATE FUNCTION kadr_videos_media_epoch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.privacy IS DISTINCT FROM OLD.privacy
       OR NEW.moderation IS DISTINCT FROM OLD.moderation THEN
        NEW.media_epoch := OLD.media_epoch + 1;
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER videos_media_epoch BEFORE UPDATE OF privacy, moderation ON videos
    FOR EACH ROW EXECUTE FUNCTION kadr_videos_media_epoch();

-- A video has one upload being written or written: a second creation loses the race here.
CREATE UNIQUE INDEX uploads_one_live_per_video ON uploads (video_id)
    WHERE state IN ('active', 'complete');

-- Attempt limits shared by every replica: failed logins per (account, address) and per
-- address, registrations per address.
CREATE TABLE auth_throttle (
    key           text PRIMARY KEY CHECK (length(key) <= 300),
    attempts      integer NOT NULL,
    window_start  timestamptz NOT NULL,
    blocked_until timestamptz
);

-- Who was counted as a viewer of which video, and when (a hash of both): one viewer counts
-- once per window across every api replica. Unlogged: a crash only lets some viewers count
-- again.
-- Whose job it is: claims take turns between owners.
ALTER TABLE jobs ADD COLUMN fair_key text;

CREATE UNLOGGED TABLE view_seen (
    key     bytea PRIMARY KEY,
    seen_at timestamptz NOT NULL
);
"#;

const DOWN: &str = r#"
DROP TABLE view_seen;
ALTER TABLE jobs DROP COLUMN fair_key;
DROP TABLE auth_throttle;
DROP INDEX uploads_one_live_per_video;
DROP TRIGGER videos_media_epoch ON videos;
DROP FUNCTION kadr_videos_media_epoch();
ALTER TABLE videos DROP COLUMN media_epoch;
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
