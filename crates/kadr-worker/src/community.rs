//! The community's background work: notifications written (`notify`), new videos told to
//! subscribers (`announce`, then `fanout` in batches), counts folded (`fold_counts`), channel
//! pictures made (`channel_image`), channels deleted with their videos (`delete_channel`), and
//! old notifications pruned.

use std::time::Duration;

use bytes::Bytes;
use futures::TryStreamExt;
use kadr_core::jobs::{ChannelImageJob, DeleteChannel, Fanout};
use kadr_core::notifications::NewNotification;
use kadr_core::state::ChannelImage;
use kadr_queue::Job;
use kadr_queue::runner::{BoxFuture, Control, Handler, Outcome, Periodic};
use kadr_runtime::Context;

/// Changes folded per transaction.
const FOLD_BATCH: i64 = 20_000;
/// Videos announced per pass.
const ANNOUNCE_BATCH: u64 = 100;
/// Videos of a deleted channel removed per transaction.
const DELETE_BATCH: u64 = 50;

fn retry(what: &str, e: impl std::fmt::Display) -> Outcome {
    Outcome::Retry(format!("{what}: {e}"))
}

/// Writes one notification.
pub struct Notify(pub Context);

impl Handler for Notify {
    fn run(&self, job: Job, _control: Control) -> BoxFuture<Outcome> {
        let ctx = self.0.clone();
        Box::pin(async move {
            let n = match job.payload::<NewNotification>() {
                Ok(n) => n,
                Err(e) => return Outcome::Fail(format!("unreadable notify job: {e}")),
            };
            match kadr_core::notifications::insert(&ctx.db, &n).await {
                Ok(()) => Outcome::Done,
                Err(e) => retry("database", e),
            }
        })
    }
}

/// Tells a video's subscribers, a batch per transaction; stops between batches when asked and
/// resumes where it was.
pub struct Fanouts(pub Context);

impl Handler for Fanouts {
    fn run(&self, job: Job, control: Control) -> BoxFuture<Outcome> {
        let ctx = self.0.clone();
        Box::pin(async move {
            let work = match job.payload::<Fanout>() {
                Ok(w) => w,
                Err(e) => return Outcome::Fail(format!("unreadable fanout job: {e}")),
            };
            let batch = ctx.config.community.fanout_batch;
            let mut total = 0u64;
            let started = std::time::Instant::now();
            loop {
                if control.stop().is_cancelled() {
                    return Outcome::Release;
                }
                let step = std::time::Instant::now();
                match kadr_core::feed::fanout_step(&ctx.db, work.video_id, batch).await {
                    Ok((n, finished)) => {
                        total += n;
                        if finished {
                            tracing::info!(
                                video = %work.video_id,
                                subscribers = total,
                                secs = started.elapsed().as_secs_f64(),
                                "subscribers told of a new video"
                            );
                            return Outcome::Done;
                        }
                    }
                    Err(e) => return retry("database", e),
                }
                // Other requests get the database between batches: a rest of a quarter of
                // the batch's time.
                tokio::time::sleep(step.elapsed() / 4).await;
            }
        })
    }
}

/// Makes a channel's picture in its fixed sizes from the uploaded file.
pub struct ChannelImages(pub Context);

fn sizes(image: &str) -> Option<[(ChannelImage, u32, u32); 2]> {
    match image {
        "avatar" => Some([
            (ChannelImage::Avatar, 256, 256),
            (ChannelImage::AvatarSmall, 88, 88),
        ]),
        "banner" => Some([
            (ChannelImage::Banner, 2048, 340),
            (ChannelImage::BannerSmall, 1024, 170),
        ]),
        _ => None,
    }
}

impl Handler for ChannelImages {
    fn run(&self, job: Job, _control: Control) -> BoxFuture<Outcome> {
        let ctx = self.0.clone();
        Box::pin(async move {
            let work = match job.payload::<ChannelImageJob>() {
                Ok(w) => w,
                Err(e) => return Outcome::Fail(format!("unreadable channel_image job: {e}")),
            };
            let Some(sizes) = sizes(&work.image) else {
                return Outcome::Fail(format!("no such picture: {}", work.image));
            };
            let data = match ctx.storage.get(&work.source_key, None).await {
                Ok(obj) => match obj.body.map_ok(|b| b.to_vec()).try_concat().await {
                    Ok(d) => d,
                    Err(e) => return retry("storage", e),
                },
                // Already made (a retry after the source was removed), or the channel is gone.
                Err(kadr_storage::StorageError::NotFound { .. }) => return Outcome::Done,
                Err(e) => return retry("storage", e),
            };
            let dims: Vec<(u32, u32)> = sizes.iter().map(|s| (s.1, s.2)).collect();
            let made =
                tokio::task::spawn_blocking(move || kadr_media::picture::make(&data, &dims)).await;
            let made = match made {
                Ok(Ok(m)) => m,
                Ok(Err(kadr_media::picture::PictureError::Invalid(why))) => {
                    tracing::info!(channel = %work.channel_id, why, "channel picture refused");
                    let _ = ctx.storage.delete(&work.source_key).await;
                    return Outcome::Fail(format!("not a picture: {why}"));
                }
                Ok(Err(e)) => return retry("picture", e),
                Err(e) => return retry("task", e),
            };
            let stamp = kadr_core::channels::stamp();
            let mut old = Vec::new();
            let mut stored = Vec::new();
            for ((image, _, _), m) in sizes.iter().zip(made) {
                let key = kadr_core::keys::channel_image(work.channel_id, image.as_str(), stamp);
                let (w, h) = (m.width as i32, m.height as i32);
                if let Err(e) = ctx
                    .storage
                    .put_bytes(&key, Bytes::from(m.jpeg), Some("image/jpeg"))
                    .await
                {
                    return retry("storage", e);
                }
                stored.push((*image, key, w, h));
            }
            // The small sizes first: a channel shows its picture once the large one is set, and
            // by then every size is there.
            for (image, key, w, h) in stored.into_iter().rev() {
                match kadr_core::channels::set_image(&ctx.db, work.channel_id, image, &key, w, h)
                    .await
                {
                    Ok(prev) => old.extend(prev),
                    Err(e) => {
                        // The channel was deleted meanwhile (its row is gone): nothing to keep.
                        let _ = ctx.storage.delete(&key).await;
                        return retry("database", e);
                    }
                }
            }
            for key in old.iter().chain(std::iter::once(&work.source_key)) {
                if let Err(e) = ctx.storage.delete(key).await {
                    tracing::warn!(key, error = %e, "an old channel picture was not removed");
                }
            }
            Outcome::Done
        })
    }
}

/// Removes a channel's videos, a batch per transaction, then the channel.
pub struct DeleteChannels(pub Context);

impl Handler for DeleteChannels {
    fn run(&self, job: Job, control: Control) -> BoxFuture<Outcome> {
        let ctx = self.0.clone();
        Box::pin(async move {
            let work = match job.payload::<DeleteChannel>() {
                Ok(w) => w,
                Err(e) => return Outcome::Fail(format!("unreadable delete_channel job: {e}")),
            };
            loop {
                if control.stop().is_cancelled() {
                    return Outcome::Release;
                }
                match kadr_core::channels::delete_step(
                    &ctx.db,
                    &ctx.config,
                    work.channel_id,
                    DELETE_BATCH,
                )
                .await
                {
                    Ok(true) => {
                        tracing::info!(channel = %work.channel_id, "channel deleted");
                        return Outcome::Done;
                    }
                    Ok(false) => {}
                    Err(e) => return retry("database", e),
                }
            }
        })
    }
}

/// Folds counter changes into the counts.
pub struct FoldCounts(pub Context);

impl Periodic for FoldCounts {
    fn run(&self, _control: Control) -> BoxFuture<()> {
        let ctx = self.0.clone();
        Box::pin(async move {
            if let Err(e) = kadr_core::counters::fold_all(&ctx.db, FOLD_BATCH).await {
                tracing::warn!(error = %e, "folding counts failed");
            }
        })
    }
}

/// Finds newly listed videos and starts telling their subscribers.
pub struct Announce(pub Context);

impl Periodic for Announce {
    fn run(&self, _control: Control) -> BoxFuture<()> {
        let ctx = self.0.clone();
        Box::pin(async move {
            match kadr_core::feed::announce(&ctx.db, &ctx.config, ANNOUNCE_BATCH).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(videos = n, "new videos announced"),
                Err(e) => tracing::warn!(error = %e, "announcing new videos failed"),
            }
        })
    }
}

/// Removes old notifications and finished fan-outs.
pub struct PruneNotifications(pub Context);

impl Periodic for PruneNotifications {
    fn run(&self, _control: Control) -> BoxFuture<()> {
        let ctx = self.0.clone();
        Box::pin(async move {
            let days = ctx.config.community.notification_days;
            match kadr_core::notifications::prune(&ctx.db, days).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(notifications = n, "old notifications removed"),
                Err(e) => tracing::warn!(error = %e, "pruning notifications failed"),
            }
            if let Err(e) = kadr_core::feed::sweep(&ctx.db).await {
                tracing::warn!(error = %e, "sweeping finished fan-outs failed");
            }
        })
    }
}

/// How often old notifications are pruned.
pub const PRUNE_EVERY: Duration = Duration::from_secs(3600);
