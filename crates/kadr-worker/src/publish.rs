//! Publishing the ladder while it is being encoded: segments go to storage as soon as the
//! muxer closes them (it writes `seg_N.m4s.tmp` and renames it when done), each rung's media
//! playlist grows as an EVENT playlist (each segment timed from its own fragments), and once
//! every rung has its first segment the master is written and the video becomes playable. At
//! the end the playlists become VOD. The audio-only rendition, when made, is published like a
//! rung but never waited for: the first master lists it if it has started by then, the last
//! one always.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use kadr_media::fmp4::{VideoTrack, timing_track};
use kadr_media::hls::{
    RungOutput, Segment, Variant, closed_segments, codecs_of_init, master_of, master_playlist,
    media_playlist, timed_segment,
};
use kadr_media::plan::Rung;
use kadr_storage::Storage;
use uuid::Uuid;

use crate::JobError;

/// One rung as published so far.
struct Published {
    rung: Rung,
    dir: PathBuf,
    /// The rung's codecs and the track its segments are timed by (video; audio for the
    /// audio-only rendition), read from its init segment once that is uploaded.
    codecs: Option<String>,
    track: Option<VideoTrack>,
    segments: Vec<Segment>,
    names: BTreeSet<String>,
}

pub struct Publisher {
    storage: Storage,
    video: Uuid,
    rungs: Vec<Published>,
    fps: f64,
    /// When the master was first written (the video became playable).
    pub playable_at: Option<Instant>,
    pub first_segment_at: Option<Instant>,
}

impl Publisher {
    pub fn new(storage: Storage, video: Uuid, rungs: &[Rung], work: &Path, fps: f64) -> Publisher {
        Publisher {
            storage,
            video,
            rungs: rungs
                .iter()
                .map(|r| Published {
                    rung: r.clone(),
                    dir: work.join(&r.name),
                    codecs: None,
                    track: None,
                    segments: Vec::new(),
                    names: BTreeSet::new(),
                })
                .collect(),
            fps,
            playable_at: None,
            first_segment_at: None,
        }
    }

    fn key(&self, rung: &str, file: &str) -> String {
        kadr_core::keys::rung_file(self.video, rung, file)
    }

    pub fn master_key(&self) -> String {
        kadr_core::keys::master_playlist(self.video)
    }

    /// Uploads whatever the muxers have closed since the last sweep. Returns true when the
    /// video has just become playable.
    pub async fn sweep(&mut self) -> Result<bool, JobError> {
        for i in 0..self.rungs.len() {
            let (dir, name) = (self.rungs[i].dir.clone(), self.rungs[i].rung.name.clone());
            let closed: Vec<String> = match closed_segments(&dir) {
                Ok(names) => names
                    .into_iter()
                    .filter(|n| !self.rungs[i].names.contains(n))
                    .collect(),
                Err(_) => continue,
            };
            if closed.is_empty() {
                continue;
            }
            // The init segment is complete once the first media segment is.
            if self.rungs[i].track.is_none() {
                let init = dir.join("init.mp4");
                let bytes = std::fs::read(&init).map_err(JobError::io(init.display()))?;
                let track = timing_track(&bytes)
                    .ok_or_else(|| JobError::Output(format!("{}: no track", init.display())))?;
                crate::files::upload_file(&self.storage, &init, &self.key(&name, "init.mp4"))
                    .await?;
                self.rungs[i].codecs = Some(codecs_of_init(&bytes));
                self.rungs[i].track = Some(track);
            }
            let Some(track) = self.rungs[i].track else {
                continue;
            };
            for seg in closed {
                let path = dir.join(&seg);
                let segment = timed_segment(&path, seg.clone(), &track)
                    .map_err(|e| JobError::Output(e.to_string()))?;
                crate::files::upload_file(&self.storage, &path, &self.key(&name, &seg)).await?;
                self.first_segment_at.get_or_insert_with(Instant::now);
                if self.rungs[i].segments.is_empty() {
                    tracing::debug!(video = %self.video, rung = %name, segment = %seg, "first segment published");
                }
                self.rungs[i].names.insert(seg);
                self.rungs[i].segments.push(segment);
            }
            let growing = self.output(i, self.rungs[i].segments.clone());
            self.storage
                .put_bytes(
                    &self.key(&name, "index.m3u8"),
                    media_playlist(&growing, false).into(),
                    None,
                )
                .await?;
        }
        let everyone_started = self
            .rungs
            .iter()
            .filter(|r| !r.rung.is_audio_only())
            .all(|r| !r.segments.is_empty());
        if self.playable_at.is_none() && everyone_started {
            // Until measured, each rung's cap stands in for its bit rates (the AAC rate and a
            // tenth for the container, for the audio-only rendition).
            let outs: Vec<RungOutput> = (0..self.rungs.len())
                .filter(|i| !self.rungs[*i].segments.is_empty())
                .map(|i| self.output(i, Vec::new()))
                .collect();
            let variants: Vec<Variant<'_>> = outs
                .iter()
                .map(|o| {
                    let cap = if o.rung.is_audio_only() {
                        u64::from(o.rung.max_kbps) * 1100
                    } else {
                        u64::from(o.rung.max_kbps) * 1000
                    };
                    Variant {
                        rung: &o.rung,
                        codecs: &o.codecs,
                        bandwidth: cap,
                        average_bandwidth: cap,
                    }
                })
                .collect();
            self.storage
                .put_bytes(
                    &self.master_key(),
                    master_of(&variants, self.fps).into(),
                    None,
                )
                .await?;
            self.playable_at = Some(Instant::now());
            return Ok(true);
        }
        Ok(false)
    }

    fn output(&self, i: usize, segments: Vec<Segment>) -> RungOutput {
        let r = &self.rungs[i];
        let codecs = r.codecs.clone().unwrap_or_default();
        RungOutput {
            rung: r.rung.clone(),
            dir: r.dir.clone(),
            init: "init.mp4".to_owned(),
            segments,
            codecs,
        }
    }

    /// After the transcode: anything left, then VOD playlists and the measured master. `outs`
    /// are the rungs and then the audio-only rendition, if any.
    pub async fn finish(&mut self, outs: &[RungOutput]) -> Result<(), JobError> {
        self.sweep().await?;
        for o in outs {
            for s in &o.segments {
                let done = self
                    .rungs
                    .iter()
                    .any(|r| r.rung.name == o.rung.name && r.names.contains(&s.uri));
                if !done {
                    crate::files::upload_file(
                        &self.storage,
                        &o.dir.join(&s.uri),
                        &self.key(&o.rung.name, &s.uri),
                    )
                    .await?;
                }
            }
            self.storage
                .put_bytes(
                    &self.key(&o.rung.name, "index.m3u8"),
                    media_playlist(o, true).into(),
                    None,
                )
                .await?;
        }
        self.storage
            .put_bytes(
                &self.master_key(),
                master_playlist(outs, self.fps).into(),
                None,
            )
            .await?;
        Ok(())
    }
}
