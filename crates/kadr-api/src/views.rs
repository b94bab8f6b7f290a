//! View counting: a viewer (their token, or address + user agent) counts once per video per
//! `api.view_window_secs`; counts wait in memory and are written every `api.views_flush_secs`
//! in one statement for all videos, not one row update per view.
//!
//! The once-per-window memory is per process: with several api instances behind a balancer
//! that does not pin viewers, a viewer may count once per instance.

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

use crate::catalog::visible_row;
use crate::model::stmt;
use crate::visibility::Viewer;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/videos/{id}/views", web::post().to(count));
}

/// Most viewers remembered at once; past this, views are not counted until the window frees
/// room (a flood cannot grow memory without bound).
const MAX_REMEMBERED: usize = 1_000_000;

#[derive(Default)]
struct Inner {
    /// (video, viewer) digest → when it was counted.
    seen: HashMap<[u8; 16], Instant>,
    /// Views not yet written.
    pending: HashMap<Uuid, i64>,
}

pub struct Views {
    window: Duration,
    inner: Mutex<Inner>,
}

impl Views {
    pub fn new(window: Duration) -> Views {
        Views {
            window,
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Counts a view of `video` by `viewer` unless they were counted within the window.
    pub fn record(&self, video: Uuid, viewer: &[u8], now: Instant) -> bool {
        let mut h = Sha256::new();
        h.update(video.as_bytes());
        h.update(viewer);
        let digest = h.finalize();
        let mut key = [0u8; 16];
        key.copy_from_slice(&digest[..16]);
        let Ok(mut inner) = self.inner.lock() else {
            return false;
        };
        if let Some(at) = inner.seen.get(&key)
            && now.duration_since(*at) < self.window
        {
            return false;
        }
        if inner.seen.len() >= MAX_REMEMBERED {
            let window = self.window;
            inner.seen.retain(|_, at| now.duration_since(*at) < window);
            if inner.seen.len() >= MAX_REMEMBERED {
                return false;
            }
        }
        inner.seen.insert(key, now);
        *inner.pending.entry(video).or_default() += 1;
        true
    }

    /// Takes the buffered counts, forgetting viewers whose window has passed.
    fn take(&self, now: Instant) -> HashMap<Uuid, i64> {
        let Ok(mut inner) = self.inner.lock() else {
            return HashMap::new();
        };
        let window = self.window;
        inner.seen.retain(|_, at| now.duration_since(*at) < window);
        std::mem::take(&mut inner.pending)
    }

    /// Puts counts back after a failed write, so no view is lost.
    fn restore(&self, counts: HashMap<Uuid, i64>) {
        if let Ok(mut inner) = self.inner.lock() {
            for (v, n) in counts {
                *inner.pending.entry(v).or_default() += n;
            }
        }
    }

    /// Writes the buffered counts in one statement.
    pub async fn flush(&self, db: &DatabaseConnection) -> Result<usize, sea_orm::DbErr> {
        let counts = self.take(Instant::now());
        if counts.is_empty() {
            return Ok(0);
        }
        let (ids, ns): (Vec<Uuid>, Vec<i64>) = counts.iter().map(|(v, n)| (*v, *n)).unzip();
        let result = db
            .execute_raw(stmt(
                "UPDATE videos v SET view_count = v.view_count + d.n
                 FROM unnest($1::uuid[], $2::bigint[]) AS d(id, n) WHERE v.id = d.id"
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
}

/// Flushes every `every` until `shutdown`, then once more.
pub fn spawn_flusher(
    db: DatabaseConnection,
    views: std::sync::Arc<Views>,
    every: Duration,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let stopping = tokio::select! {
                _ = shutdown.cancelled() => true,
                _ = tokio::time::sleep(every) => false,
            };
            if let Err(e) = views.flush(&db).await {
                tracing::warn!(error = %e, "could not write view counts; kept for the next try");
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
    let viewer = Viewer::of(&user);
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
    let counted = api.views.record(id, &who, Instant::now());
    Ok(HttpResponse::Accepted().json(Counted { counted }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn once_per_window() {
        let views = Views::new(Duration::from_secs(1800));
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let t0 = Instant::now();
        assert!(views.record(a, b"alice", t0));
        assert!(!views.record(a, b"alice", t0 + Duration::from_secs(60)));
        assert!(views.record(a, b"bob", t0));
        assert!(views.record(b, b"alice", t0));
        assert!(views.record(a, b"alice", t0 + Duration::from_secs(1801)));
        let counts = views.take(t0 + Duration::from_secs(1802));
        assert_eq!(counts.get(&a), Some(&3));
        assert_eq!(counts.get(&b), Some(&1));
        assert!(views.take(t0).is_empty());
        views.restore(counts);
        assert_eq!(views.take(t0).get(&a), Some(&3));
    }
}
