//! View counting: a viewer (their token, or address + user agent) counts once per video per
//! `api.view_window_secs`; counts wait in memory and are written every `api.views_flush_secs`
//! in one statement for all videos, not one row update per view.
//!
//! Who was counted is kept in Postgres (`view_seen`, an unlogged table: losing it in a crash
//! only lets a viewer count again), so one viewer counts once across every api replica and
//! restart. Each process also remembers recent viewers, a bounded first filter that spares the
//! database repeat views; when it is full the least used go first (never the whole table).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::{HttpRequest, HttpResponse, web};
use kadr_http::auth::MaybeUser;
use kadr_http::{ApiError, AppContext};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::listing::visible_row;
use crate::model::stmt;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/videos/{id}/views", web::post().to(count));
}

/// Most viewers a process remembers at once (the shared record in Postgres is the truth).
const MAX_REMEMBERED: u64 = 200_000;

/// A (video, viewer) pair, hashed.
type Key = [u8; 16];

pub struct Views {
    window: Duration,
    /// Recently counted (video, viewer) digests and when; bounded, the least used going first
    /// when full (a forgotten viewer's repeat view reaches the database, which still says no).
    seen: moka::sync::Cache<Key, Instant>,
    /// Views not yet written.
    pending: Mutex<HashMap<Uuid, i64>>,
}

impl Views {
    pub fn new(window: Duration) -> Views {
        Views {
            window,
            seen: moka::sync::Cache::builder()
                .max_capacity(MAX_REMEMBERED)
                .time_to_live(window.max(Duration::from_millis(1)))
                .build(),
            pending: Mutex::new(HashMap::new()),
        }
    }

    fn key(video: Uuid, viewer: &[u8]) -> Key {
        let mut h = Sha256::new();
        h.update(video.as_bytes());
        h.update(viewer);
        let digest = h.finalize();
        let mut key = [0u8; 16];
        key.copy_from_slice(&digest[..16]);
        key
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, i64>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether this process counted `key` within the window.
    fn seen_here(&self, key: &Key, now: Instant) -> bool {
        self.seen
            .get(key)
            .is_some_and(|at| now.duration_since(at) < self.window)
    }

    /// Remembers `key` here.
    fn remember(&self, key: Key, now: Instant) {
        self.seen.insert(key, now);
    }

    /// Counts a view of `video` by `viewer` unless they were counted within the window, here
    /// or on any replica.
    pub async fn record(
        &self,
        db: &DatabaseConnection,
        video: Uuid,
        viewer: &[u8],
        now: Instant,
    ) -> Result<bool, sea_orm::DbErr> {
        let key = Self::key(video, viewer);
        if self.seen_here(&key, now) {
            return Ok(false);
        }
        let fresh = db
            .query_one_raw(stmt(
                "INSERT INTO view_seen AS s (key, seen_at) VALUES ($1, now())
                 ON CONFLICT (key) DO UPDATE SET seen_at = now()
                     WHERE s.seen_at < now() - make_interval(secs => $2)
                 RETURNING 1 AS counted"
                    .to_owned(),
                vec![key.to_vec().into(), self.window.as_secs_f64().into()],
            ))
            .await?
            .is_some();
        self.remember(key, now);
        if fresh {
            *self.lock().entry(video).or_default() += 1;
        }
        Ok(fresh)
    }

    /// Takes the buffered counts.
    fn take(&self) -> HashMap<Uuid, i64> {
        std::mem::take(&mut *self.lock())
    }

    /// Puts counts back after a failed write, so no view is lost.
    fn restore(&self, counts: HashMap<Uuid, i64>) {
        let mut pending = self.lock();
        for (v, n) in counts {
            *pending.entry(v).or_default() += n;
        }
    }

    /// Writes the buffered counts in one statement.
    pub async fn flush(&self, db: &DatabaseConnection) -> Result<usize, sea_orm::DbErr> {
        let counts = self.take();
        if counts.is_empty() {
            return Ok(0);
        }
        let (ids, ns): (Vec<Uuid>, Vec<i64>) = counts.iter().map(|(v, n)| (*v, *n)).unzip();
        let result = db
            .execute_raw(stmt(
                // The videos' counts, and their channels' totals (one update per channel).
                "WITH v AS (
                    UPDATE videos v SET view_count = v.view_count + d.n
                    FROM unnest($1::uuid[], $2::bigint[]) AS d(id, n) WHERE v.id = d.id
                    RETURNING v.channel_id, d.n)
                 UPDATE channels c SET view_count = c.view_count + t.n
                 FROM (SELECT channel_id, sum(n)::bigint AS n FROM v GROUP BY channel_id) t
                 WHERE c.id = t.channel_id"
                    .to_owned(),
                vec![ids.into(), ns.into()],
            ))
            .await;
        match result {
            Ok(_) => Ok(counts.len()),
            Err(e) => {
                self.restore(counts);
                Err(e)
            }
        }
    }

    /// Forgets viewers whose window has passed, in the shared record.
    pub async fn sweep(&self, db: &DatabaseConnection) -> Result<u64, sea_orm::DbErr> {
        let done = db
            .execute_raw(stmt(
                "DELETE FROM view_seen WHERE seen_at < now() - make_interval(secs => $1)"
                    .to_owned(),
                vec![self.window.as_secs_f64().into()],
            ))
            .await?;
        Ok(done.rows_affected())
    }
}

/// Flushes every `every` until `shutdown`, then once more.
pub fn spawn_flusher(
    db: DatabaseConnection,
    views: std::sync::Arc<Views>,
    every: Duration,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut swept = 0u64;
        loop {
            let stopping = tokio::select! {
                _ = shutdown.cancelled() => true,
                _ = tokio::time::sleep(every) => false,
            };
            if let Err(e) = views.flush(&db).await {
                tracing::warn!(error = %e, "could not write view counts; kept for the next try");
            }
            swept += 1;
            // The shared record of who was counted loses its expired rows now and then.
            if swept.is_multiple_of(60)
                && let Err(e) = views.sweep(&db).await
            {
                tracing::warn!(error = %e, "could not sweep the record of counted viewers");
            }
            if stopping {
                return;
            }
        }
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Counted {
    /// False when this viewer was already counted within the window.
    pub counted: bool,
}

/// Counts a view of a video the caller may see.
#[utoipa::path(post, path = "/api/v1/videos/{id}/views", tag = "catalog",
    params(("id" = Uuid, Path, description = "Video id")),
    responses((status = 202, body = Counted), (status = 404)))]
pub async fn count(
    ctx: web::Data<AppContext>,
    api: web::Data<crate::Api>,
    user: MaybeUser,
    req: HttpRequest,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let viewer = user.viewer();
    let row = visible_row(&ctx, id, &viewer).await?;
    if !row.playable {
        return Err(ApiError::not_found());
    }
    let who: Vec<u8> = match &user.0 {
        Some(a) => a.token_id.as_bytes().to_vec(),
        None => {
            // The socket's address (or a trusted proxy's word), never a header a client could
            // vary at will; IPv6 by /64.
            let addr = ctx
                .client_ip(&req)
                .map(kadr_http::client::address_key)
                .unwrap_or_default();
            let agent = req
                .headers()
                .get("user-agent")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            format!("{addr}\n{agent}").into_bytes()
        }
    };
    let counted = api.views.record(&ctx.db, id, &who, Instant::now()).await?;
    Ok(HttpResponse::Accepted().json(Counted { counted }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_local_filter_never_stops_counting() {
        let views = Views::new(Duration::from_secs(1800));
        let t0 = Instant::now();
        let k = |n: u32| Views::key(Uuid::from_u128(1), &n.to_be_bytes());
        for n in 0..(MAX_REMEMBERED as u32 + 10_000) {
            views.remember(k(n), t0);
        }
        views.seen.run_pending_tasks();
        // Full: bounded, and never emptied wholesale.
        let kept = views.seen.entry_count();
        assert!(kept <= MAX_REMEMBERED, "{kept}");
        assert!(kept > MAX_REMEMBERED / 2, "{kept}");
        // The next viewer is remembered all the same, for the window only.
        views.remember(k(u32::MAX), t0);
        assert!(views.seen_here(&k(u32::MAX), t0));
        assert!(!views.seen_here(&k(u32::MAX), t0 + Duration::from_secs(1801)));
    }

    #[test]
    fn counts_are_put_back_after_a_failed_write() {
        let views = Views::new(Duration::from_secs(1800));
        let a = Uuid::from_u128(1);
        views.lock().insert(a, 3);
        let counts = views.take();
        assert_eq!(counts.get(&a), Some(&3));
        assert!(views.take().is_empty());
        views.restore(counts);
        assert_eq!(views.take().get(&a), Some(&3));
    }
}
