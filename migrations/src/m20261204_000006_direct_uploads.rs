//! Direct uploads: the client sends the parts of an S3 multipart upload straight to storage
//! with presigned URLs, and the upload API only starts and completes it. Such an upload is
//! not a tus resource (tus requests refuse it).

use sea_orm_migration::prelude::*;

use crate::exec;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000006_direct_uploads"
    }
}

const UP: &str = r#"
ALTER TABLE uploads ADD COLUMN direct boolean NOT NULL DEFAULT false;
"#;

const DOWN: &str = r#"
ALTER TABLE uploads DROP COLUMN direct;
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
