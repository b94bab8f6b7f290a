//! Reconciliation of storage with the database, run by the worker every
//! `upload.reconcile_interval_secs`: objects under `originals/`, `hls/`, `images/` and
//! `uploads/` whose video or upload has no row (left by a crash, or by a write that raced a
//! delete) are removed once older than `upload.reconcile_grace_secs`; videos marked ready whose
//! master playlist is missing are reported in the log.
//!
//! It lists every object of those prefixes: cheap for a box, a long listing for a bucket of
//! millions of objects (run it rarely there).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime};

use kadr_storage::{ObjectMeta, Storage, StorageError};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

use crate::keys::owner_of;

/// What a pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Reconciled {
    pub removed: usize,
    pub missing_media: Vec<Uuid>,
}

async fn existing(
    db: &impl ConnectionTrait,
    table: &str,
    ids: &[Uuid],
) -> Result<HashSet<Uuid>, sea_orm::DbErr> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("SELECT id FROM {table} WHERE id = ANY($1)"),
            [ids.to_vec().into()],
        ))
        .await?;
    Ok(rows
        .iter()
        .filter_map(|r| r.try_get::<Uuid>("", "id").ok())
        .collect())
}

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

/// One pass.
pub async fn reconcile(
    db: &impl ConnectionTrait,
    storage: &Storage,
    grace: Duration,
) -> Result<Reconciled, ReconcileError> {
    let mut done = Reconciled::default();
    let now = SystemTime::now();
    // Master playlists seen while listing `hls/`, for the check of ready videos below.
    let mut masters: HashSet<String> = HashSet::new();
    for (prefix, owner) in crate::keys::PREFIXES {
        let table = owner.table();
        let objects = storage.list(prefix).await?;
        masters.extend(
            objects
                .iter()
                .filter(|o| o.key.ends_with("/master.m3u8"))
                .map(|o| o.key.clone()),
        );
        let mut by_owner: HashMap<Uuid, Vec<ObjectMeta>> = HashMap::new();
        for o in objects {
            if let Some(id) = owner_of(&o.key) {
                by_owner.entry(id).or_default().push(o);
            }
        }
        let ids: Vec<Uuid> = by_owner.keys().copied().collect();
        let mut known = HashSet::new();
        for chunk in ids.chunks(1000) {
            known.extend(existing(db, table, chunk).await?);
        }
        for (id, objects) in by_owner {
            if known.contains(&id) {
                continue;
            }
            for o in objects {
                let old = o
                    .last_modified
                    .and_then(|t| now.duration_since(t).ok())
                    .is_some_and(|age| age >= grace);
                if old {
                    storage.delete(&o.key).await?;
                    done.removed += 1;
                }
            }
        }
    }
    // Ready videos whose master playlist is gone.
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            format!(
                "SELECT id FROM videos WHERE status = '{}'",
                crate::state::VideoStatus::Ready.as_str()
            ),
        ))
        .await?;
    for r in rows {
        if let Ok(id) = r.try_get::<Uuid>("", "id")
            && !masters.contains(&crate::keys::master_playlist(id))
        {
            done.missing_media.push(id);
        }
    }
    if done.removed > 0 {
        tracing::info!(
            objects = done.removed,
            "reconciliation removed objects no row owns"
        );
    }
    if !done.missing_media.is_empty() {
        tracing::warn!(
            videos = done.missing_media.len(),
            first = ?done.missing_media.iter().take(20).collect::<Vec<_>>(),
            "reconciliation: ready videos whose media is missing"
        );
    }
    Ok(done)
}
