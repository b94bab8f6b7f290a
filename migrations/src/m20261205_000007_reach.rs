//! Reach: captions per video and language (served as HLS subtitle renditions), where a video
//! may be embedded, whether viewers may download it, and caption text in the search vector.

use sea_orm_migration::prelude::*;

use crate::exec;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000007_reach"
    }
}

const UP: &str = r#"
-- NULL: the site's `site.embed_origins`; an empty array: nowhere; else only these origins
-- (within the site's).
ALTER TABLE videos ADD COLUMN embed_origins text[];
-- Viewers may fetch the MP4/M4A downloads when the transcode made them.
ALTER TABLE videos ADD COLUMN downloadable boolean NOT NULL DEFAULT true;
-- Caption text of every language, when `api.search_captions` is on (weight D).
ALTER TABLE videos ADD COLUMN caption_search tsvector;

-- The sitemap walks listed videos in id order (UUIDv7: upload order): an index-only walk.
CREATE INDEX videos_listed_id_idx ON videos (id) INCLUDE (withheld)
    WHERE playable AND privacy = 'public' AND moderation = 'approved';
CREATE INDEX channels_open_id_idx ON channels (id) INCLUDE (handle)
    WHERE deleting_at IS NULL AND NOT withheld;

CREATE TABLE captions (
    video_id uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    -- BCP 47 tag as given (`en`, `pt-BR`), compared case-insensitively through `lang_key`.
    lang text NOT NULL,
    lang_key text NOT NULL,
    label text NOT NULL,
    -- New for every file sent: its objects live under captions/{video}/{lang_key}/{revision}/,
    -- so URLs can be cached forever and two uploads at once never mix their segments.
    revision uuid NOT NULL,
    segment_secs integer NOT NULL,
    segments integer NOT NULL,
    -- What the segments cover: the video's length, or the last cue's end if later.
    covers_ms bigint NOT NULL,
    cues integer NOT NULL,
    -- The cues' words for the search (`api.search_captions`).
    plain text NOT NULL DEFAULT '',
    -- `vtt` or `srt`: what the owner sent (always stored as WebVTT).
    source_format text NOT NULL,
    uploaded_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (video_id, lang_key)
);

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
"#;

const DOWN: &str = r#"
CREATE OR REPLACE FUNCTION kadr_videos_catalog() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.title IS DISTINCT FROM OLD.title
       OR NEW.description IS DISTINCT FROM OLD.description OR NEW.tags IS DISTINCT FROM OLD.tags THEN
        NEW.search := kadr_search_vector(NEW.title, NEW.description, NEW.tags);
    END IF;
    IF NEW.published_at IS NULL AND NEW.playable AND NEW.privacy = 'public'
       AND NEW.moderation = 'approved' THEN
        NEW.published_at := now();
    END IF;
    RETURN NEW;
END
$$;
UPDATE videos SET search = kadr_search_vector(title, description, tags) WHERE caption_search IS NOT NULL;
DROP TABLE captions;
DROP INDEX channels_open_id_idx;
DROP INDEX videos_listed_id_idx;
ALTER TABLE videos DROP COLUMN caption_search;
ALTER TABLE videos DROP COLUMN downloadable;
ALTER TABLE videos DROP COLUMN embed_origins;
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
