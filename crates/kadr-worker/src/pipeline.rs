//! The transcode pipeline of one video: its original as a local file, probe and limits, the
//! ladder planned, one decode for every rung, segments published while the ladder is
//! encoded (the video is playable as soon as every rung has its first one), then the rung
//! playlists, master playlist, poster, storyboard and the downloads (MP4, M4A) made in the
//! same pass.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kadr_config::TranscodeConfig;
use kadr_core::entities::video;
use kadr_core::jobs::Transcode;
use kadr_core::state::DownloadFormat;
use kadr_core::state::ImageKind;
use kadr_core::transcodes::{self, Download, Picture, Probed};
use kadr_media::MediaError;
use kadr_media::plan::{LadderRung, Rung, plan};
use kadr_media::probe::{Limits, Probe, check_limits, probe};
use kadr_media::transcode::{DownloadKind, Settings, transcode};
use kadr_queue::Job;
use kadr_runtime::Context;
use sea_orm::EntityTrait;
use tokio_util::sync::CancellationToken;

use crate::clock::JobClock;
use crate::files::{input_of, upload_file, work_dir};
use crate::outcome::Done;
use crate::{JobError, metrics, publish};

pub async fn process(
    ctx: &Context,
    job: &Job,
    cancel: &Arc<AtomicBool>,
    clock: &Arc<JobClock>,
    started: Instant,
) -> Result<Option<Done>, JobError> {
    let payload: Transcode = job.payload()?;
    let id = payload.video_id;
    let Some(v) = video::Entity::find_by_id(id).one(&ctx.db).await? else {
        // Deleted meanwhile: nothing to do.
        return Ok(None);
    };
    transcodes::start(&ctx.db, id).await?;
    if v.source_size_bytes == Some(0) {
        return Err(MediaError::input("empty_file", "The file is empty").into());
    }
    let work = work_dir(&ctx.config, id);
    let _ = tokio::fs::remove_dir_all(&work).await;
    tokio::fs::create_dir_all(&work)
        .await
        .map_err(JobError::io(format!("creating {}", work.display())))?;
    let input = input_of(&ctx.storage, &kadr_core::keys::source(v.id), &work).await?;

    let (ladder_config, limits, settings) = media_settings(&ctx.config.transcode)?;
    let probed = {
        let input = input.clone();
        tokio::task::spawn_blocking(move || -> Result<Probe, MediaError> {
            let p = probe(&input)?;
            check_limits(&p, &limits)?;
            Ok(p)
        })
        .await??
    };
    tracing::debug!(video = %id, since_enqueue = ?(chrono::Utc::now() - job.run_at).to_std().unwrap_or_default(), "probed");
    let (w, h) = probed.video.display_size();
    let ladder = plan(w, h, probed.duration_secs, &ladder_config);
    // The wall-clock budget, from what the header claims (the decoder holds the real length
    // to the limit).
    let budget = (probed.duration_secs * ctx.config.worker.budget_factor)
        .max(ctx.config.worker.budget_min_secs as f64);
    clock.deadline_ms.store(
        started.elapsed().as_millis() as u64 + (budget * 1000.0) as u64,
        Ordering::Relaxed,
    );
    transcodes::probed(
        &ctx.db,
        id,
        &Probed {
            duration_ms: (probed.duration_secs * 1000.0).round() as i64,
            width: w as i32,
            height: h as i32,
            fps: probed.video.fps,
            rotation: probed.video.rotation as i16,
            is_short: ladder.is_short,
        },
    )
    .await?;

    // Progress: the decoder reports positions; the database hears at most once a second.
    let (tx, mut rx) = tokio::sync::watch::channel(0.0f64);
    let duration = probed.duration_secs.max(0.001);
    let reporter = {
        let db = ctx.db.clone();
        tokio::spawn(async move {
            let mut last = -1i16;
            loop {
                if rx.changed().await.is_err() {
                    return;
                }
                let pct = ((*rx.borrow_and_update() / duration) * 100.0).clamp(0.0, 99.0) as i16;
                if pct != last {
                    last = pct;
                    let _ = transcodes::progress(&db, id, pct).await;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
    };
    // Segments are published while the ladder is encoded; the video becomes playable as soon
    // as every rung has its first one.
    let stop_publishing = CancellationToken::new();
    let publisher = {
        // The audio-only rendition is published beside the rungs (never waited for).
        let mut renditions = ladder.rungs.clone();
        if settings.audio_only && probed.audio.is_some() {
            renditions.push(Rung::audio_only(settings.audio_kbps));
        }
        let mut publisher = publish::Publisher::new(
            (*ctx.storage).clone(),
            id,
            &renditions,
            &work,
            probed.video.fps,
        );
        let (db, config, stop) = (ctx.db.clone(), ctx.config.clone(), stop_publishing.clone());
        let run_at = job.run_at;
        tokio::spawn(async move {
            loop {
                let stopping = stop.is_cancelled();
                if publisher.sweep().await? {
                    transcodes::playable(&db, &config, id).await?;
                    let since_enqueue = (chrono::Utc::now() - run_at).to_std().unwrap_or_default();
                    metrics::playable(since_enqueue);
                    tracing::info!(video = %id, secs = since_enqueue.as_secs_f64(), "playable");
                }
                if stopping {
                    return Ok::<_, JobError>(publisher);
                }
                tokio::select! {
                    _ = stop.cancelled() => {}
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                }
            }
        })
    };
    let started = Instant::now();
    let outs = {
        let (input, work, cancel, rungs) = (
            input.clone(),
            work.clone(),
            cancel.clone(),
            ladder.rungs.clone(),
        );
        let probed = probed.clone();
        let clock = clock.clone();
        clock.progress_ms.store(
            started.elapsed().as_millis().max(1) as u64,
            Ordering::Relaxed,
        );
        tokio::task::spawn_blocking(move || {
            let report = move |secs: f64| {
                clock.progress_ms.store(
                    started.elapsed().as_millis().max(1) as u64,
                    Ordering::Relaxed,
                );
                let _ = tx.send(secs);
            };
            transcode(&input, &probed, &rungs, &settings, &work, &cancel, &report)
        })
        .await?
    };
    reporter.abort();
    stop_publishing.cancel();
    let published = publisher.await?;
    let done = outs?;
    let outs = done.rungs;
    let audio = done.audio;
    let mut publisher = published?;
    metrics::transcoded(probed.duration_secs, probed.video.fps, started.elapsed());
    if let Some(first) = publisher.first_segment_at {
        metrics::first_segment(first.saturating_duration_since(started));
    }
    transcodes::publishing(&ctx.db, id).await?;
    let mut renditions = outs.clone();
    renditions.extend(audio);
    publisher.finish(&renditions).await?;
    // Files of an earlier attempt or transcode that this one did not make again go first.
    let _ = ctx
        .storage
        .delete_prefix(&kadr_core::keys::downloads_prefix(id))
        .await;
    let mut downloads = Vec::new();
    for file in &done.downloads {
        let format = match file.kind {
            DownloadKind::Mp4 => DownloadFormat::Mp4,
            DownloadKind::M4a => DownloadFormat::M4a,
        };
        let key = kadr_core::keys::download(id, format.file_name());
        upload_file(&ctx.storage, &file.path, &key).await?;
        downloads.push(Download {
            format,
            key,
            size_bytes: file.bytes as i64,
            size: file.size.map(|(w, h)| (w as i32, h as i32)),
        });
    }
    let master_key = publisher.master_key();
    let mut pictures = Vec::new();
    if let Some(img) = &done.images {
        let dir = work.join("images");
        let poster_size = Some((img.poster_size.0 as i32, img.poster_size.1 as i32));
        let mut files = vec![
            (ImageKind::Poster, &img.poster, "image/jpeg", poster_size),
            (
                ImageKind::PosterSmall,
                &img.poster_small,
                "image/jpeg",
                None,
            ),
            (
                ImageKind::StoryboardVtt,
                &img.storyboard_vtt,
                "text/vtt",
                None,
            ),
        ];
        for sheet in &img.storyboard_sheets {
            files.push((ImageKind::Storyboard, sheet, "image/jpeg", None));
        }
        for frame in &img.frames {
            let size = Some((frame.size.0 as i32, frame.size.1 as i32));
            files.push((ImageKind::Frame, &frame.file, "image/jpeg", size));
            files.push((ImageKind::FrameSmall, &frame.small_file, "image/jpeg", None));
        }
        for (kind, name, content_type, size) in files {
            let key = kadr_core::keys::image(id, name);
            upload_file(&ctx.storage, &dir.join(name), &key).await?;
            pictures.push(Picture {
                kind,
                key,
                content_type,
                size,
            });
        }
    }
    if let Some(preview) = &done.preview {
        let key = kadr_core::keys::image(id, kadr_core::posters::PREVIEW);
        upload_file(&ctx.storage, &work.join("images").join(&preview.file), &key).await?;
        pictures.push(Picture {
            kind: ImageKind::Preview,
            key,
            content_type: "video/mp4",
            size: Some((preview.size.0 as i32, preview.size.1 as i32)),
        });
    }
    let _ = tokio::fs::remove_dir_all(&work).await;
    Ok(Some(Done {
        video_id: id,
        outs,
        master_key,
        pictures,
        downloads,
    }))
}

/// The `[transcode]` section in `kadr-media`'s terms.
pub fn media_settings(
    c: &TranscodeConfig,
) -> Result<(Vec<LadderRung>, Limits, Settings), JobError> {
    let ladder = c
        .rungs()?
        .into_iter()
        .map(|(short_side, max_kbps)| LadderRung {
            short_side,
            max_kbps,
        })
        .collect();
    let limits = Limits {
        max_duration_secs: c.max_duration_secs,
        max_pixels: c.max_pixels,
        max_fps: c.max_fps,
        max_streams: c.max_streams,
    };
    let settings = Settings {
        segment_secs: c.segment_secs,
        first_segment_secs: c.first_segment_secs,
        gop_secs: c.gop_secs,
        preset: c.preset.clone(),
        crf: c.crf,
        audio_kbps: c.audio_kbps,
        mp4_download_max_height: c.mp4_download.then_some(c.mp4_download_max_height),
        audio_only: c.audio_only,
        preview: c.preview,
        limits: limits.clone(),
    };
    Ok((ladder, limits, settings))
}
