//! Chosen posters and hover previews, and a user's languages.
//!
//! - The transcoder keeps a few candidate frames (`frame_N.jpg`, `frame_N_small.jpg`) and a
//!   short silent hover preview (`preview.mp4`) beside the poster it picked.
//! - `videos.poster` names the poster viewers see, by the stem of its files under
//!   `images/{video}/`: `poster` (the transcoder's pick), `frame_N` (a candidate the owner
//!   chose) or `custom_N` (an image the owner uploaded, made into JPEGs by the worker). Every
//!   stem is a new file name, so each can be cached as immutable.
//! - `videos.poster_asked` counts the owner's poster requests: a custom image is made
//!   asynchronously and lands only if no later request came (the last request wins).
//! - `videos.preview`: the transcoder made `images/{video}/preview.mp4`.
//! - `users.ui_language` is the interface language a user chose (NULL: follow the browser);
//!   `users.video_language` the language their uploads are marked with by default.

use sea_orm_migration::prelude::*;

use crate::exec;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261207_000009_posters"
    }
}

const UP: &str = r#"
ALTER TABLE images DROP CONSTRAINT images_kind_check;
ALTER TABLE images ADD CONSTRAINT images_kind_check CHECK (kind IN (
    'poster', 'poster_small', 'storyboard', 'storyboard_vtt',
    'frame', 'frame_small', 'custom', 'custom_small', 'preview'));
ALTER TABLE videos
    ADD COLUMN poster text NOT NULL DEFAULT 'poster'
        CHECK (poster ~ '^(poster|frame_[0-9]{1,2}|custom_[0-9]{1,9})$'),
    ADD COLUMN poster_asked integer NOT NULL DEFAULT 0 CHECK (poster_asked >= 0),
    ADD COLUMN preview boolean NOT NULL DEFAULT false;
-- The owner's page asks for a video's latest poster job (pending, or why it was refused):
-- without this it would scan every job of every kind.
CREATE INDEX jobs_poster_video_idx ON jobs ((payload->>'video_id'), created_at)
    WHERE queue = 'poster';
ALTER TABLE users
    ADD COLUMN ui_language text CHECK (ui_language IN ('en', 'ru', 'ar')),
    ADD COLUMN video_language text CHECK (char_length(video_language) BETWEEN 1 AND 35);
"#;

const DOWN: &str = r#"
DROP INDEX jobs_poster_video_idx;
ALTER TABLE users DROP COLUMN video_language, DROP COLUMN ui_language;
ALTER TABLE videos DROP COLUMN preview, DROP COLUMN poster_asked, DROP COLUMN poster;
DELETE FROM images WHERE kind NOT IN ('poster', 'poster_small', 'storyboard', 'storyboard_vtt');
ALTER TABLE images DROP CONSTRAINT images_kind_check;
-- Written as = ANY so the newest `kind IN (…)` in the migrations stays the one in force (the
-- state enums are checked against it).
ALTER TABLE images ADD CONSTRAINT images_kind_check CHECK (kind = ANY (ARRAY[
    'poster', 'poster_small', 'storyboard', 'storyboard_vtt']));
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
