//! One row of an import, start to end, whatever earlier runs did of it: create (or find
//! again) the import by its external id, send the captions and thumbnail it lacks, upload
//! what the server lacks of a local file, wait for a URL import to be fetched.

use std::time::Duration;

use indicatif::ProgressBar;
use serde_json::json;

use super::api::{Api, Failed, ImportView, picture_type};
use super::report::{Outcome, Status};
use super::{Item, Source, THUMBNAIL_MAX_BYTES, Thumbnail};
use crate::upload_cli::bytes;

/// How rows are imported.
pub struct Settings {
    /// Wait for URL imports to be fetched.
    pub wait: bool,
    /// Bytes per upload request.
    pub chunk: u64,
    /// The batch this run's new imports join (moderators review it together).
    pub batch: Option<String>,
}

/// Imports one row, start to end, whatever earlier runs did of it.
pub async fn one(api: &Api, settings: &Settings, item: &Item, bar: &ProgressBar) -> Outcome {
    let mut outcome = Outcome {
        line: item.line.clone(),
        external_id: Some(item.external_id.clone()),
        video_id: None,
        status: Status::Failed,
        code: String::new(),
        message: String::new(),
    };
    match import(api, settings, item, bar, &mut outcome).await {
        Ok((status, message)) => {
            outcome.status = status;
            outcome.message = message;
        }
        Err(f) => {
            outcome.status = Status::Failed;
            outcome.code = f.code;
            outcome.message = f.message;
        }
    }
    outcome
}

async fn import(
    api: &Api,
    settings: &Settings,
    item: &Item,
    bar: &ProgressBar,
    outcome: &mut Outcome,
) -> Result<(Status, String), Failed> {
    let mut body = json!({ "external_id": item.external_id });
    let m = &item.meta;
    for (key, value) in [
        ("title", &m.title),
        ("description", &m.description),
        ("language", &m.language),
        ("privacy", &m.privacy),
        ("channel", &m.channel),
        ("original_date", &m.original_date),
    ] {
        if let Some(v) = value {
            body[key] = json!(v);
        }
    }
    if let Some(tags) = &m.tags {
        body["tags"] = json!(tags);
    }
    if let Some(batch) = &settings.batch {
        body["batch"] = json!(batch);
    }
    match &item.source {
        Source::Local { path, size } => {
            body["size"] = json!(size);
            if let Some(name) = path.file_name() {
                body["filename"] = json!(name.to_string_lossy());
            }
        }
        Source::Remote(url) => body["url"] = json!(url),
    }
    bar.set_message("creating the import");
    let (mut view, existed) = api.create(&body).await?;
    outcome.video_id = Some(view.video_id.clone());
    if let Some(f) = view.failed() {
        // The server keeps one import per external id, failed ones too.
        return Err(if existed {
            Failed {
                code: f.code,
                message: format!(
                    "{} (an earlier run; to try again, give the row another external_id)",
                    f.message
                ),
            }
        } else {
            f
        });
    }
    let mut done: Vec<String> = Vec::new();
    // What goes wrong with captions or the thumbnail fails the row, but the video's file
    // still goes in: a run after the fix sends only what is missing.
    let mut trouble: Option<Failed> = None;

    if !item.captions.is_empty() {
        bar.set_message("captions");
        let have = if existed {
            match api.caption_languages(&view.video_id).await {
                Ok(h) => h,
                Err(f) => {
                    trouble.get_or_insert(f);
                    Vec::new()
                }
            }
        } else {
            Vec::new()
        };
        let mut sent = Vec::new();
        for (lang, file) in &item.captions {
            if have.iter().any(|h| h.eq_ignore_ascii_case(lang)) {
                continue;
            }
            match api.put_captions(&view.video_id, lang, file).await {
                Ok(()) => sent.push(lang.as_str()),
                Err(f) => {
                    trouble.get_or_insert(f);
                }
            }
        }
        if !sent.is_empty() {
            done.push(format!("captions {} sent", sent.join(", ")));
        }
    }

    if let Some(thumb) = &item.thumbnail {
        // A ready video whose poster is a picture of its owner's has had its thumbnail;
        // otherwise it cannot be told (a thumbnail may be waiting for the video), and it is
        // sent again: the later one replaces the waiting one.
        let has = existed
            && api.video(&view.video_id).await.is_ok_and(|v| {
                v["images"]["poster"]
                    .as_str()
                    .is_some_and(|p| p.contains("/images/custom_"))
            });
        if !has {
            bar.set_message("thumbnail");
            match send_thumbnail(api, &view, thumb).await {
                Ok(()) => done.push("thumbnail sent".to_owned()),
                Err(f) => {
                    trouble.get_or_insert(f);
                }
            }
        }
    }

    let mut worked = !existed;
    match &item.source {
        Source::Local { path, size } => {
            if let Some(url) = view.upload_url.clone() {
                let size = *size;
                let what = if existed { "resuming" } else { "uploading" };
                bar.set_message(format!("{what} 0 B / {}", bytes(size)));
                let progress = |at: u64| {
                    bar.set_message(format!("{what} {} / {}", bytes(at), bytes(size)));
                };
                let start = api
                    .upload(&url, path, size, settings.chunk, &progress)
                    .await?;
                worked = true;
                done.push(if start > 0 {
                    format!("{} uploaded (resumed at {})", bytes(size), bytes(start))
                } else {
                    format!("{} uploaded", bytes(size))
                });
                view = api.import(&view.id).await?;
            }
        }
        Source::Remote(_) => {
            if view.pending() && settings.wait {
                worked = true;
                view = wait_fetched(api, view, bar).await?;
            }
        }
    }
    if let Some(f) = view.failed() {
        return Err(f);
    }
    let state = format!("import {}, video {}", view.state, view.video_status);
    if let Some(t) = trouble {
        return Err(Failed {
            code: t.code,
            message: format!("{}; {state}", t.message),
        });
    }
    let status = if view.pending() && matches!(item.source, Source::Remote(_)) {
        Status::Queued
    } else if existed && !worked {
        Status::Skipped
    } else {
        Status::Imported
    };
    let mut message = if status == Status::Skipped {
        format!("imported before; {state}")
    } else {
        state
    };
    if !done.is_empty() {
        message = format!("{message}; {}", done.join("; "));
    }
    Ok((status, message))
}

/// Polls a URL import until the server has fetched it or given up on it.
async fn wait_fetched(
    api: &Api,
    mut view: ImportView,
    bar: &ProgressBar,
) -> Result<ImportView, Failed> {
    let mut pause = Duration::from_millis(500);
    while view.pending() {
        let got = match view.bytes_total {
            Some(total) => format!("{} / {}", bytes(view.bytes_done), bytes(total)),
            None => bytes(view.bytes_done),
        };
        bar.set_message(format!("server {}: {got}", view.state));
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(5));
        view = api.import(&view.id).await?;
    }
    Ok(view)
}

async fn send_thumbnail(api: &Api, view: &ImportView, thumb: &Thumbnail) -> Result<(), Failed> {
    let data = match thumb {
        Thumbnail::Local(path) => {
            let data = tokio::fs::read(path).await.map_err(|e| {
                Failed::new(
                    "file_not_found",
                    format!("thumbnail: cannot read {}: {e}", path.display()),
                )
            })?;
            if data.len() as u64 > THUMBNAIL_MAX_BYTES {
                return Err(Failed::new(
                    "bad_thumbnail",
                    "thumbnail: larger than 10 MiB",
                ));
            }
            bytes::Bytes::from(data)
        }
        Thumbnail::Url(url) => api.download(url, THUMBNAIL_MAX_BYTES).await?,
    };
    let ctype = picture_type(&data).ok_or_else(|| {
        Failed::new(
            "bad_thumbnail",
            "thumbnail: not a JPEG, PNG or WebP picture",
        )
    })?;
    api.put_thumbnail(&view.id, data, ctype).await
}
