#![allow(clippy::unwrap_used, clippy::expect_used)]

use kadr_db::testing::TestDatabase;
use sea_orm::{ConnectionTrait, Database, DatabaseBackend, Statement};

async fn tables(db: &sea_orm::DatabaseConnection) -> Vec<String> {
    db.query_all_raw(Statement::from_string(
        DatabaseBackend::Postgres,
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'seaql_migrations' ORDER BY 1",
    ))
    .await
    .unwrap()
    .into_iter()
    .map(|r| r.try_get::<String>("", "tablename").unwrap())
    .collect()
}

const ALL: [&str; 36] = [
    "account_tokens",
    "api_tokens",
    "auth_throttle",
    "captions",
    "channel_images",
    "channels",
    "comment_likes",
    "comments",
    "counter_deltas",
    "downloads",
    "fanouts",
    "feed_items",
    "images",
    "import_batches",
    "import_pending",
    "imports",
    "jobs",
    "moderation_actions",
    "moderation_decisions",
    "notifications",
    "playlist_items",
    "playlists",
    "renditions",
    "reports",
    "subscriptions",
    "uploads",
    "user_blocks",
    "users",
    "video_ratings",
    "video_related",
    "videos",
    "view_seen",
    "watch_history",
    "webhook_deliveries",
    "webhook_endpoints",
    "webhook_events",
];

#[tokio::test]
async fn up_down_up_and_concurrent_runs() {
    let test_db = TestDatabase::new().await.unwrap();
    let db = Database::connect(test_db.url()).await.unwrap();

    // Two processes starting at once: the advisory lock lets each migration run once.
    let other = Database::connect(test_db.url()).await.unwrap();
    let (a, b) = tokio::join!(kadr_migration::up(&db), kadr_migration::up(&other));
    a.unwrap();
    b.unwrap();
    assert_eq!(tables(&db).await, ALL);
    assert!(
        kadr_migration::status(&db)
            .await
            .unwrap()
            .iter()
            .all(|(_, applied)| *applied)
    );

    // The schema holds what it promises: a bad enum value is refused.
    let bad = db
        .execute_unprepared(
            "INSERT INTO users (id, username, email, password_hash, role) \
             VALUES (gen_random_uuid(), 'a', 'a@example.org', 'x', 'superuser')",
        )
        .await;
    assert!(bad.is_err());

    kadr_migration::down(&db, None).await.unwrap();
    assert!(tables(&db).await.is_empty());
    assert!(
        kadr_migration::status(&db)
            .await
            .unwrap()
            .iter()
            .all(|(_, applied)| !*applied)
    );

    kadr_migration::up(&db).await.unwrap();
    assert_eq!(tables(&db).await, ALL);
}
