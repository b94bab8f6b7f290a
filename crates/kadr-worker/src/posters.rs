//! Posters the owners upload (`poster` jobs): the stored file is decoded under limits, cropped
//! to the video's shape and made in the poster's two sizes, then shown unless a later request
//! came first (see `kadr_core::posters`).

use bytes::Bytes;
use futures::TryStreamExt;
use kadr_core::entities::user;
use kadr_core::jobs::PosterJob;
use kadr_core::posters::{self, Made, Outcome as Landed};
use kadr_queue::Job;
use kadr_queue::runner::{BoxFuture, Control, Handler, Outcome};
use kadr_runtime::Context;
use sea_orm::EntityTrait;

fn retry(what: &str, e: impl std::fmt::Display) -> Outcome {
    Outcome::Retry(format!("{what}: {e}"))
}

/// Makes an uploaded poster.
pub struct Posters(pub Context);

impl Handler for Posters {
    fn run(&self, job: Job, _control: Control) -> BoxFuture<Outcome> {
        let ctx = self.0.clone();
        Box::pin(async move {
            let work = match job.payload::<PosterJob>() {
                Ok(w) => w,
                Err(e) => return Outcome::Fail(format!("unreadable poster job: {e}")),
            };
            let video = work.video_id;
            let shape = match posters::asked(&ctx.db, video, work.asked).await {
                // A later request came first: nothing to make (and nothing to decode, so a
                // stream of uploads for one video costs the worker no more than the last).
                Ok(Some(a)) if a.overtaken => {
                    let _ = ctx.storage.delete(&work.source_key).await;
                    return Outcome::Done;
                }
                Ok(Some(a)) => a.shape,
                // The video is gone: so is everything under its prefix.
                Ok(None) => return Outcome::Done,
                Err(e) => return retry("database", e),
            };
            let editor = match user::Entity::find_by_id(work.editor).one(&ctx.db).await {
                Ok(Some(u)) => u,
                Ok(None) => {
                    let _ = ctx.storage.delete(&work.source_key).await;
                    return Outcome::Fail("its sender's account is gone".to_owned());
                }
                Err(e) => return retry("database", e),
            };
            let data = match ctx.storage.get(&work.source_key, None).await {
                Ok(obj) => match obj.body.map_ok(|b| b.to_vec()).try_concat().await {
                    Ok(d) => d,
                    Err(e) => return retry("storage", e),
                },
                // Already made (a retry after the source was removed).
                Err(kadr_storage::StorageError::NotFound { .. }) => return Outcome::Done,
                Err(e) => return retry("storage", e),
            };
            let sizes = posters::sizes(shape);
            let made =
                tokio::task::spawn_blocking(move || kadr_media::picture::make(&data, &sizes)).await;
            let made = match made {
                Ok(Ok(m)) => m,
                Ok(Err(kadr_media::picture::PictureError::Invalid(why))) => {
                    tracing::info!(%video, why, "poster refused");
                    let _ = ctx.storage.delete(&work.source_key).await;
                    return Outcome::Fail(format!("{} {why}", posters::REFUSED));
                }
                Ok(Err(e)) => return retry("picture", e),
                Err(e) => return retry("task", e),
            };
            let stem = posters::custom_stem(work.asked);
            let mut dims = Vec::new();
            // The small size first: the poster is switched once every size is stored.
            for (small, m) in [true, false].into_iter().zip(made.into_iter().rev()) {
                let key = kadr_core::keys::image(video, &posters::file(&stem, small));
                dims.push((m.width as i32, m.height as i32));
                if let Err(e) = ctx
                    .storage
                    .put_bytes(&key, Bytes::from(m.jpeg), Some("image/jpeg"))
                    .await
                {
                    return retry("storage", e);
                }
            }
            let made = Made {
                small_width: dims[0].0,
                small_height: dims[0].1,
                width: dims.get(1).map_or(0, |d| d.0),
                height: dims.get(1).map_or(0, |d| d.1),
            };
            match posters::land_custom(&ctx.db, &ctx.config, &editor, video, work.asked, &made)
                .await
            {
                Ok(Landed::Shown { back_to_review }) => {
                    tracing::info!(%video, back_to_review, "poster shown");
                }
                Ok(Landed::Overtaken) => tracing::info!(%video, "poster overtaken by a later one"),
                Err(e) => return retry("database", e),
            }
            if let Err(e) = ctx.storage.delete(&work.source_key).await {
                tracing::warn!(key = work.source_key, error = %e, "an uploaded poster was not removed");
            }
            Outcome::Done
        })
    }
}
