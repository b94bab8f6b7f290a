//! The page cache of catalog and search listings: a bounded store (moka) of built pages, and
//! the rule that makes a crowd cost one query a second (stale-while-revalidate with a single
//! build per page).

use std::sync::{Arc, Mutex};

use actix_web::{HttpRequest, HttpResponse, web};
use kadr_core::visibility::Viewer;
use kadr_http::ApiError;
use uuid::Uuid;

use crate::model::VideoPage;
use crate::{Api, base_url};

/// Catalog and search pages (the front page above all) are the same for every viewer who
/// neither moderates nor owns a video on them: each is kept for a second, so a crowd on the
/// front page costs one query a second, not one per request (a page slow to build is kept
/// longer). When a page turns stale, one request rebuilds it while the others are still
/// served the previous page, or wait for the build when that page is too old; so there is no
/// stampede of identical queries. Moderators, and owners of a video on the page, get a page
/// built for them (they see its moderation state).
pub struct PageCache {
    ttl: std::time::Duration,
    /// Bounded: past [`PAGE_CACHE_MAX`] pages the least used go first (moka's TinyLFU), never
    /// the whole store. Each page has its own lock, so deciding who builds it is atomic.
    pages: moka::sync::Cache<String, Arc<Mutex<CachedPage>>>,
}

struct CachedPage {
    /// When `body` was built.
    at: std::time::Instant,
    /// How long `body` is fresh: the cache's TTL, longer for a page that is slow to build.
    ttl: std::time::Duration,
    /// `None` until the first build of this page ends.
    body: Option<web::Bytes>,
    /// The owners of the page's videos.
    owners: Vec<Uuid>,
    /// When the build under way, if any, started.
    building_since: Option<std::time::Instant>,
    /// Wakes the requests waiting for the build under way (a subscription is taken under the
    /// lock, so no wake-up is missed).
    built: tokio::sync::watch::Sender<()>,
}

impl CachedPage {
    /// A page whose first build starts now.
    fn building(ttl: std::time::Duration) -> CachedPage {
        let now = std::time::Instant::now();
        CachedPage {
            at: now,
            ttl,
            body: None,
            owners: Vec::new(),
            building_since: Some(now),
            built: tokio::sync::watch::Sender::new(()),
        }
    }
}

/// Most pages kept (search makes the key space open-ended; a page is some tens of KiB).
const PAGE_CACHE_MAX: u64 = 4_096;

/// How much older than its TTL a page may be served while another request rebuilds it.
const STALE_FACTOR: u32 = 5;

/// A page is kept fresh at least this many times as long as its build took, so an expensive
/// page (a common word's search over millions of videos) is not rebuilt every second.
const BUILD_COST_FACTOR: u32 = 10;

/// The longest a page is kept fresh.
const MAX_TTL: std::time::Duration = std::time::Duration::from_secs(30);

/// How long a request waits for another's build of the same page before building it too.
const BUILD_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

enum Lookup {
    Serve(web::Bytes),
    Build,
    /// The asking viewer owns a video on the page: build one for them, leave the cache be.
    Own,
    /// Another request is building this page, and there is none recent enough to serve.
    Wait(tokio::sync::watch::Receiver<()>),
}

impl PageCache {
    pub fn new(ttl: std::time::Duration) -> PageCache {
        PageCache {
            ttl,
            pages: moka::sync::Cache::builder()
                .max_capacity(PAGE_CACHE_MAX)
                // Nothing is served older than this, so nothing is kept longer.
                .time_to_idle(MAX_TTL.max(ttl) * STALE_FACTOR)
                .build(),
        }
    }

    /// What the request for page `key` by `user` does: serve a page, build it, or wait for
    /// the build under way. Exactly one request builds a page at a time (unless a build
    /// outlasts [`BUILD_WAIT`], when the next request takes it over).
    fn lookup(&self, key: &str, user: Option<Uuid>) -> Lookup {
        let ttl = self.ttl;
        let entry = self
            .pages
            .entry_by_ref(key)
            .or_insert_with(|| Arc::new(Mutex::new(CachedPage::building(ttl))));
        if entry.is_fresh() {
            return Lookup::Build;
        }
        let slot = entry.into_value();
        let mut p = slot.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(body) = &p.body {
            if user.is_some_and(|u| p.owners.contains(&u)) {
                return Lookup::Own;
            }
            let age = p.at.elapsed();
            if age < p.ttl || (p.building_since.is_some() && age < p.ttl * STALE_FACTOR) {
                return Lookup::Serve(body.clone());
            }
        }
        match p.building_since {
            Some(since) if since.elapsed() < BUILD_WAIT => Lookup::Wait(p.built.subscribe()),
            _ => {
                p.building_since = Some(std::time::Instant::now());
                Lookup::Build
            }
        }
    }

    /// Keeps `body`, whose build took `took`.
    fn put(&self, key: String, body: web::Bytes, owners: Vec<Uuid>, took: std::time::Duration) {
        let ttl = (took * BUILD_COST_FACTOR).clamp(self.ttl, MAX_TTL.max(self.ttl));
        let slot = self
            .pages
            .get_with(key, || Arc::new(Mutex::new(CachedPage::building(ttl))));
        let mut p = slot.lock().unwrap_or_else(|e| e.into_inner());
        p.at = std::time::Instant::now();
        p.ttl = ttl;
        p.body = Some(body);
        p.owners = owners;
        p.building_since = None;
        p.built.send_replace(());
    }

    /// A build failed: wake its waiters and let the next request try.
    fn abandon(&self, key: &str) {
        if let Some(slot) = self.pages.get(key) {
            let mut p = slot.lock().unwrap_or_else(|e| e.into_inner());
            p.building_since = None;
            p.built.send_replace(());
            if p.body.is_none() {
                drop(p);
                self.pages.invalidate(key);
            }
        }
    }
}

fn json_page(body: web::Bytes, anonymous: bool) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            "Cache-Control",
            if anonymous {
                "public, max-age=1"
            } else {
                "private, no-cache"
            },
        ))
        .body(body)
}

/// Serves a listing from the page cache, or builds it with `make` (called with the viewer
/// it is built for: anonymous for the cache).
pub(crate) async fn cached<F, Fut>(
    api: &Api,
    viewer: &Viewer,
    req: &HttpRequest,
    make: F,
) -> Result<HttpResponse, ApiError>
where
    F: Fn(Viewer) -> Fut,
    Fut: std::future::Future<Output = Result<VideoPage, ApiError>>,
{
    let anonymous = viewer.user.is_none();
    let own = || async {
        let page = make(viewer.clone()).await?;
        let body = serde_json::to_vec(&page).map_err(|e| ApiError::internal(&e))?;
        Ok(json_page(body.into(), false))
    };
    if viewer.moderator || viewer.admin {
        return own().await;
    }
    let key = format!("{}{}", base_url(req), req.uri());
    // A crowd asking for a page with none recent enough to serve waits for one build, not one
    // each.
    let mut waited = false;
    loop {
        match api.pages.lookup(&key, viewer.user) {
            Lookup::Serve(body) => return Ok(json_page(body, anonymous)),
            Lookup::Own => return own().await,
            Lookup::Wait(mut built) if !waited => {
                waited = true;
                let _ = tokio::time::timeout(BUILD_WAIT, built.changed()).await;
            }
            _ => break,
        }
    }
    let started = std::time::Instant::now();
    let built = match make(Viewer::default()).await {
        Ok(page) => serde_json::to_vec(&page)
            .map(|body| (body, page.owners))
            .map_err(|e| ApiError::internal(&e)),
        Err(e) => Err(e),
    };
    match built {
        Ok((body, owners)) => {
            let body = web::Bytes::from(body);
            let mine = viewer.user.is_some_and(|u| owners.contains(&u));
            api.pages.put(key, body.clone(), owners, started.elapsed());
            if mine {
                return own().await;
            }
            Ok(json_page(body, anonymous))
        }
        Err(e) => {
            api.pages.abandon(&key);
            Err(e)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const ZERO: std::time::Duration = std::time::Duration::ZERO;

    /// Keeps a page with no owners that took no time to build.
    fn keep(cache: &PageCache, key: &str, body: &'static [u8]) {
        cache.put(
            key.to_owned(),
            web::Bytes::from_static(body),
            Vec::new(),
            ZERO,
        );
    }

    #[test]
    fn one_rebuild_while_others_get_the_stale_page() {
        let cache = PageCache::new(std::time::Duration::from_millis(50));
        assert!(matches!(cache.lookup("k", None), Lookup::Build));
        keep(&cache, "k", b"v1");
        assert!(matches!(cache.lookup("k", None), Lookup::Serve(b) if b == "v1"));
        std::thread::sleep(std::time::Duration::from_millis(60));
        // Stale: the first request rebuilds, the next ones still get v1.
        assert!(matches!(cache.lookup("k", None), Lookup::Build));
        assert!(matches!(cache.lookup("k", None), Lookup::Serve(b) if b == "v1"));
        cache.abandon("k");
        assert!(matches!(cache.lookup("k", None), Lookup::Build));
        keep(&cache, "k", b"v2");
        assert!(matches!(cache.lookup("k", None), Lookup::Serve(b) if b == "v2"));
        // Too old to serve even while rebuilding: one request rebuilds, the others wait for it.
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert!(matches!(cache.lookup("k", None), Lookup::Build));
        assert!(matches!(cache.lookup("k", None), Lookup::Wait(_)));
        assert!(matches!(cache.lookup("k", None), Lookup::Wait(_)));
        keep(&cache, "k", b"v3");
        assert!(matches!(cache.lookup("k", None), Lookup::Serve(b) if b == "v3"));
    }

    #[tokio::test]
    async fn a_first_build_is_waited_for_not_repeated() {
        let cache = PageCache::new(std::time::Duration::from_secs(1));
        assert!(matches!(cache.lookup("k", None), Lookup::Build));
        let Lookup::Wait(mut first) = cache.lookup("k", None) else {
            panic!("a second request should wait for the first build")
        };
        let Lookup::Wait(mut second) = cache.lookup("k", None) else {
            panic!("so should a third")
        };
        keep(&cache, "k", b"v1");
        first.changed().await.unwrap();
        assert!(matches!(cache.lookup("k", None), Lookup::Serve(b) if b == "v1"));
        // A failed first build wakes its waiters and lets the next request build.
        assert!(matches!(cache.lookup("j", None), Lookup::Build));
        let Lookup::Wait(mut waiting) = cache.lookup("j", None) else {
            panic!("waits")
        };
        cache.abandon("j");
        waiting.changed().await.unwrap();
        assert!(matches!(cache.lookup("j", None), Lookup::Build));
        second.changed().await.unwrap();
    }

    #[test]
    fn an_owner_of_a_video_on_the_page_gets_their_own() {
        let cache = PageCache::new(std::time::Duration::from_secs(1));
        let (owner, other) = (Uuid::new_v4(), Uuid::new_v4());
        assert!(matches!(cache.lookup("k", Some(other)), Lookup::Build));
        cache.put(
            "k".to_owned(),
            web::Bytes::from_static(b"v1"),
            vec![owner],
            ZERO,
        );
        assert!(matches!(cache.lookup("k", Some(other)), Lookup::Serve(b) if b == "v1"));
        assert!(matches!(cache.lookup("k", None), Lookup::Serve(b) if b == "v1"));
        assert!(matches!(cache.lookup("k", Some(owner)), Lookup::Own));
        // The owner's own build leaves the shared page as it was.
        assert!(matches!(cache.lookup("k", Some(other)), Lookup::Serve(b) if b == "v1"));
    }

    #[test]
    fn the_store_is_bounded_and_never_emptied_wholesale() {
        let cache = PageCache::new(std::time::Duration::from_secs(1));
        for i in 0..(PAGE_CACHE_MAX + 1000) {
            let key = format!("page-{i}");
            assert!(matches!(cache.lookup(&key, None), Lookup::Build));
            keep(&cache, &key, b"p");
        }
        cache.pages.run_pending_tasks();
        let kept = cache.pages.entry_count();
        assert!(kept <= PAGE_CACHE_MAX, "{kept} pages kept");
        assert!(kept > PAGE_CACHE_MAX / 2, "only {kept} pages kept");
    }

    #[test]
    fn a_page_slow_to_build_is_kept_longer() {
        let cache = PageCache::new(std::time::Duration::from_millis(20));
        assert!(matches!(cache.lookup("slow", None), Lookup::Build));
        let took = std::time::Duration::from_millis(10);
        cache.put(
            "slow".to_owned(),
            web::Bytes::from_static(b"s"),
            Vec::new(),
            took,
        );
        assert!(matches!(cache.lookup("fast", None), Lookup::Build));
        keep(&cache, "fast", b"f");
        std::thread::sleep(std::time::Duration::from_millis(40));
        // Past the cache's TTL, within ten times the slow build.
        assert!(matches!(cache.lookup("slow", None), Lookup::Serve(b) if b == "s"));
        assert!(matches!(cache.lookup("fast", None), Lookup::Build));
    }
}
