//! Kadr's schema migrations (sea-orm-migration).
//!
//! Every migration is reversible. [`up`] and [`down`] hold a Postgres advisory lock for the whole
//! run, so several processes starting at once (replicas, `kadr all` next to `kadr migrate up`)
//! apply each migration exactly once.

mod m20261123_000001_initial;
mod m20261124_000002_catalog;
mod m20261201_000003_hardening;
mod m20261202_000004_community;
mod m20261203_000005_safety;
mod m20261204_000006_direct_uploads;
mod m20261205_000007_reach;
mod m20261206_000008_downloads;
mod m20261207_000009_posters;
mod m20261208_000010_imports;
mod m20261209_000011_webhooks;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
pub use sea_orm_migration::MigratorTrait;
use sea_orm_migration::prelude::*;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_initial::Migration),
            Box::new(m20261124_000002_catalog::Migration),
            Box::new(m20261201_000003_hardening::Migration),
            Box::new(m20261202_000004_community::Migration),
            Box::new(m20261203_000005_safety::Migration),
            Box::new(m20261204_000006_direct_uploads::Migration),
            Box::new(m20261205_000007_reach::Migration),
            Box::new(m20261206_000008_downloads::Migration),
            Box::new(m20261207_000009_posters::Migration),
            Box::new(m20261208_000010_imports::Migration),
            Box::new(m20261209_000011_webhooks::Migration),
        ]
    }
}

/// Key of the advisory lock taken while migrating ("kadr" in ASCII).
const MIGRATION_LOCK: i64 = 0x6b61_6472;

/// Applies every pending migration under the advisory lock.
pub async fn up(db: &DatabaseConnection) -> Result<(), DbErr> {
    with_lock(db, Migrator::up(db, None)).await
}

/// Rolls back `steps` migrations (all when `None`) under the advisory lock.
pub async fn down(db: &DatabaseConnection, steps: Option<u32>) -> Result<(), DbErr> {
    with_lock(db, Migrator::down(db, steps)).await
}

/// Each known migration and whether it is applied.
pub async fn status(db: &DatabaseConnection) -> Result<Vec<(String, bool)>, DbErr> {
    let list = Migrator::get_migration_with_status(db).await?;
    Ok(list
        .iter()
        .map(|m| {
            (
                m.name().to_owned(),
                m.status() == sea_orm_migration::MigrationStatus::Applied,
            )
        })
        .collect())
}

async fn with_lock<F>(db: &DatabaseConnection, work: F) -> Result<(), DbErr>
where
    F: std::future::Future<Output = Result<(), DbErr>>,
{
    // The lock belongs to one session: hold one pooled connection for the whole run.
    let pool = db.get_postgres_connection_pool();
    let mut conn = pool
        .acquire()
        .await
        .map_err(|e| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e.into())))?;
    sqlx_lock(&mut conn, true).await?;
    let result = work.await;
    let unlock = sqlx_lock(&mut conn, false).await;
    result.and(unlock)
}

async fn sqlx_lock(conn: &mut sea_orm::sqlx::PgConnection, lock: bool) -> Result<(), DbErr> {
    let sql = if lock {
        "SELECT pg_advisory_lock($1)"
    } else {
        "SELECT pg_advisory_unlock($1)"
    };
    sea_orm::sqlx::query(sql)
        .bind(MIGRATION_LOCK)
        .execute(conn)
        .await
        .map(|_| ())
        .map_err(|e| DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e.into())))
}

/// Runs a block of SQL statements (used by the migrations).
pub(crate) async fn exec(manager: &SchemaManager<'_>, sql: &str) -> Result<(), DbErr> {
    manager
        .get_connection()
        .execute_unprepared(sql)
        .await
        .map(|_| ())
}
