//! The catalog: full-text search over titles, descriptions and tags (Russian, English, Arabic
//! and language-neutral words), the moment a video was first listed, indexes for the listings
//! (newest, popular, shorts, moderation queue), and the record of moderation decisions.

use sea_orm_migration::prelude::*;

use crate::exec;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261124_000002_catalog"
    }
}

const UP: &str = r#"
-- Every word in its plain form ('simple', which also keeps stop words and scripts no stemmer
-- knows) and stemmed for each language we serve. Title weighs most, then tags, then the
-- description.
CREATE FUNCTION kadr_search_vector(title text, description text, tags text[])
RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT setweight(to_tsvector('simple'::regconfig, title)
                  || to_tsvector('russian'::regconfig, title)
                  || to_tsvector('english'::regconfig, title)
                  || to_tsvector('arabic'::regconfig, title), 'A')
        || setweight(to_tsvector('simple'::regconfig, coalesce(array_to_string(tags, ' '), ''))
                  || to_tsvector('russian'::regconfig, coalesce(array_to_string(tags, ' '), ''))
                  || to_tsvector('english'::regconfig, coalesce(array_to_string(tags, ' '), ''))
                  || to_tsvector('arabic'::regconfig, coalesce(array_to_string(tags, ' '), '')), 'B')
        || setweight(to_tsvector('simple'::regconfig, description)
                  || to_tsvector('russian'::regconfig, description)
                  || to_tsvector('english'::regconfig, description)
                  || to_tsvector('arabic'::regconfig, description), 'C')
$$;

ALTER TABLE videos ADD COLUMN search tsvector;

-- Kept by the database itself: the search vector follows the text, and `published_at` is set
-- the first time a video becomes listed (playable, public, approved).
CREATE FUNCTION kadr_videos_catalog() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER videos_catalog BEFORE INSERT OR UPDATE ON videos
    FOR EACH ROW EXECUTE FUNCTION kadr_videos_catalog();
UPDATE videos SET search = kadr_search_vector(title, description, tags);

-- Listed = playable AND public AND approved: every listing reads one of these.
CREATE INDEX videos_listed_new_idx ON videos (published_at DESC, id DESC)
    WHERE playable AND privacy = 'public' AND moderation = 'approved';
CREATE INDEX videos_listed_popular_idx ON videos (view_count DESC, id DESC)
    WHERE playable AND privacy = 'public' AND moderation = 'approved';
CREATE INDEX videos_listed_shorts_idx ON videos (published_at DESC, id DESC)
    WHERE playable AND privacy = 'public' AND moderation = 'approved' AND is_short;
CREATE INDEX videos_listed_channel_idx ON videos (channel_id, published_at DESC, id DESC)
    WHERE playable AND privacy = 'public' AND moderation = 'approved';
CREATE INDEX videos_listed_search_idx ON videos USING gin (search)
    WHERE playable AND privacy = 'public' AND moderation = 'approved';
CREATE INDEX videos_moderation_queue_idx ON videos (created_at, id) WHERE moderation = 'pending';

CREATE TABLE moderation_decisions (
    id           uuid PRIMARY KEY,
    video_id     uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    moderator_id uuid REFERENCES users (id) ON DELETE SET NULL,
    decision     text NOT NULL CHECK (decision IN ('approved', 'rejected')),
    reason       text,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX moderation_decisions_video_idx ON moderation_decisions (video_id, created_at DESC);
"#;

const DOWN: &str = r#"
DROP TABLE moderation_decisions;
DROP INDEX videos_moderation_queue_idx;
DROP INDEX videos_listed_search_idx;
DROP INDEX videos_listed_channel_idx;
DROP INDEX videos_listed_shorts_idx;
DROP INDEX videos_listed_popular_idx;
DROP INDEX videos_listed_new_idx;
DROP TRIGGER videos_catalog ON videos;
DROP FUNCTION kadr_videos_catalog();
ALTER TABLE videos DROP COLUMN search;
DROP FUNCTION kadr_search_vector(text, text, text[]);
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
