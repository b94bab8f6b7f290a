//! Downloads: the progressive MP4 and the M4A the transcoder makes in the same pass as the
//! ladder (the audio-only HLS rendition needs no row: the master playlist lists it).
//! Whether viewers may fetch them is `videos.downloadable` (m20261205_000007_reach).

use sea_orm_migration::prelude::*;

use crate::exec;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261206_000008_downloads"
    }
}

const UP: &str = r#"
CREATE TABLE downloads (
    video_id uuid NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    format text NOT NULL CHECK (format IN ('mp4', 'm4a')),
    -- downloads/{video}/{video.mp4, audio.m4a}
    storage_key text NOT NULL,
    size_bytes bigint NOT NULL CHECK (size_bytes >= 0),
    -- The picture's size (the MP4's rung); NULL for the M4A.
    width integer,
    height integer,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (video_id, format)
);
"#;

const DOWN: &str = r#"
DROP TABLE downloads;
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
