//! `thumbnail` jobs: a still of a published video at a whole second and a width, taken from
//! the narrowest rung at least that wide (its init segment and the one media segment holding
//! that second), stored under `stills/` for the api to serve from then on.

use bytes::Bytes;
use futures::TryStreamExt;
use kadr_core::jobs::ThumbnailJob;
use kadr_core::keys;
use kadr_core::stills;
use kadr_queue::Job;
use kadr_queue::runner::{BoxFuture, Control, Handler, Outcome};
use kadr_runtime::Context;
use kadr_storage::StorageError;

/// Runs `thumbnail` jobs.
pub struct Stills(pub Context);

enum Read {
    Got(Vec<u8>),
    /// Not there: the video was deleted, or its media is being remade.
    Gone,
}

async fn read(ctx: &Context, key: &str) -> Result<Read, String> {
    match ctx.storage.get(key, None).await {
        Ok(obj) => {
            let bytes: Vec<u8> = obj
                .body
                .map_ok(|b| b.to_vec())
                .try_concat()
                .await
                .map_err(|e| e.to_string())?;
            Ok(Read::Got(bytes))
        }
        Err(StorageError::NotFound { .. }) => Ok(Read::Gone),
        Err(e) => Err(e.to_string()),
    }
}

macro_rules! got {
    ($read:expr) => {
        match $read {
            Ok(Read::Got(b)) => b,
            Ok(Read::Gone) => return Outcome::Done,
            Err(e) => return Outcome::Retry(format!("storage: {e}")),
        }
    };
}

impl Handler for Stills {
    fn run(&self, job: Job, _control: Control) -> BoxFuture<Outcome> {
        let ctx = self.0.clone();
        Box::pin(async move {
            let work = match job.payload::<ThumbnailJob>() {
                Ok(w) => w,
                Err(e) => return Outcome::Fail(format!("unreadable thumbnail job: {e}")),
            };
            let video = work.video_id;
            let key = keys::still(video, work.at_secs, work.width);
            if ctx.storage.head(&key).await.is_ok() {
                return Outcome::Done;
            }
            let master = got!(read(&ctx, &keys::master_playlist(video)).await);
            let variants = stills::variants(&String::from_utf8_lossy(&master));
            let Some((_, _, uri)) = stills::pick(&variants, work.width) else {
                return Outcome::Fail(
                    "the master playlist names no rung with a picture".to_owned(),
                );
            };
            let Some(rung) = uri.strip_suffix("/index.m3u8").filter(|r| !r.contains('/')) else {
                return Outcome::Fail(format!("a rung this worker did not write: {uri}"));
            };
            let playlist = got!(read(&ctx, &keys::rung_playlist(video, rung)).await);
            let segments = stills::media_playlist(&String::from_utf8_lossy(&playlist));
            let at = f64::from(work.at_secs);
            let (Some(init), Some(segment)) =
                (segments.init.clone(), stills::segment_at(&segments, at))
            else {
                return Outcome::Fail("the rung's playlist names no segment".to_owned());
            };
            let safe = |n: &str| !n.is_empty() && !n.contains('/') && !n.contains("..");
            if !safe(&init) || !safe(segment) {
                return Outcome::Fail(format!("a segment this worker did not write: {segment}"));
            }
            let mut bytes = got!(read(&ctx, &keys::rung_file(video, rung, &init)).await);
            bytes.extend(got!(
                read(&ctx, &keys::rung_file(video, rung, segment)).await
            ));
            let width = work.width;
            let dir = ctx.config.data_dir.join("work");
            let made = tokio::task::spawn_blocking(move || {
                std::fs::create_dir_all(&dir)?;
                let file = tempfile::Builder::new()
                    .prefix("still-")
                    .suffix(".mp4")
                    .tempfile_in(&dir)?;
                std::fs::write(file.path(), &bytes)?;
                Ok::<_, std::io::Error>(kadr_media::still::still_at(file.path(), at, width))
            })
            .await;
            let jpeg = match made {
                Ok(Ok(Ok(j))) => j,
                Ok(Ok(Err(e))) => return Outcome::Fail(format!("still: {e}")),
                Ok(Err(e)) => return Outcome::Retry(format!("work file: {e}")),
                Err(e) => return Outcome::Retry(format!("task: {e}")),
            };
            match ctx
                .storage
                .put_bytes(&key, Bytes::from(jpeg), Some("image/jpeg"))
                .await
            {
                Ok(_) => Outcome::Done,
                Err(e) => Outcome::Retry(format!("storage: {e}")),
            }
        })
    }
}
