//! The scaler cascade: each rung scaled from the next larger one.

use std::sync::mpsc::{Receiver, SyncSender};

use ffmpeg::format::Pixel;
use ffmpeg::frame;
use ffmpeg_next as ffmpeg;

use crate::MediaError;
use crate::images::{ImageTap, Pictures};
use crate::plan::Rung;

use super::preview::PreviewTap;
use super::{ToCascade, ToEncoder, undecodable};

/// The scaler cascade: rung 0 from the decoded picture, each next rung from the previous one.
pub(super) fn run_cascade(
    rungs: &[Rung],
    rx: Receiver<ToCascade>,
    encoders: &[SyncSender<ToEncoder>],
    mut tap: ImageTap,
    mut preview: Option<PreviewTap>,
) -> Result<Pictures, MediaError> {
    let result = cascade_loop(rungs, rx, encoders, &mut tap, &mut preview);
    // The preview's encoder finishes once its tap (and channel) is gone.
    drop(preview);
    for tx in encoders {
        let _ = tx.send(ToEncoder::End);
    }
    result.map(|()| tap.into_pictures())
}

pub(super) fn cascade_loop(
    rungs: &[Rung],
    rx: Receiver<ToCascade>,
    encoders: &[SyncSender<ToEncoder>],
    tap: &mut ImageTap,
    preview: &mut Option<PreviewTap>,
) -> Result<(), MediaError> {
    let mut scalers: Vec<Option<ffmpeg::software::scaling::Context>> =
        rungs.iter().map(|_| None).collect();
    let last = rungs.len() - 1;
    // The largest rung's pictures are offered for the poster, the smallest's for the
    // storyboard and the hover preview, on their way to the encoders.
    let mut send = |rung: usize, f: frame::Video| {
        let secs = f.pts().unwrap_or(0) as f64 / 90_000.0;
        if rung == 0 {
            tap.offer_poster(secs, &f)?;
        }
        if rung == last {
            tap.offer_tile(secs, &f)?;
            if let Some(p) = preview.as_mut() {
                p.offer(secs, &f);
            }
        }
        encoders[rung]
            .send(ToEncoder::Video(f))
            .map_err(|_| MediaError::Internal("an encoder stopped".to_owned()))
    };
    while let Ok(ToCascade::Video(decoded)) = rx.recv() {
        // `current` is the picture the next rung is made from; `owner` the rung it belongs to.
        let mut current = decoded;
        let mut owner: Option<usize> = None;
        for (i, rung) in rungs.iter().enumerate() {
            let fits = current.width() == rung.width
                && current.height() == rung.height
                && current.format() == Pixel::YUV420P;
            if fits {
                if let Some(o) = owner {
                    send(o, current.clone())?;
                }
                owner = Some(i);
                continue;
            }
            // A picture of another size than the last (a resolution change mid-stream) gets
            // a scaler of its own: every rung keeps its planned size.
            let stale = scalers[i].as_ref().is_some_and(|s| {
                let input = s.input();
                input.width != current.width()
                    || input.height != current.height()
                    || input.format != current.format()
            });
            if stale {
                scalers[i] = None;
            }
            let scaler = match &mut scalers[i] {
                Some(s) => s,
                slot => slot.insert(
                    ffmpeg::software::scaling::Context::get(
                        current.format(),
                        current.width(),
                        current.height(),
                        Pixel::YUV420P,
                        rung.width,
                        rung.height,
                        ffmpeg::software::scaling::Flags::BICUBIC,
                    )
                    .map_err(undecodable("creating a scaler"))?,
                ),
            };
            let mut scaled = frame::Video::new(Pixel::YUV420P, rung.width, rung.height);
            scaler
                .run(&current, &mut scaled)
                .map_err(undecodable("scaling"))?;
            scaled.set_pts(current.pts());
            scaled.set_kind(current.kind());
            // The larger picture goes to its encoder once the smaller one is made from it.
            if let Some(o) = owner {
                send(o, current)?;
            }
            current = scaled;
            owner = Some(i);
        }
        if let Some(o) = owner {
            send(o, current)?;
        }
    }
    Ok(())
}
