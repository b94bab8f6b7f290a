//! `kadr upload --direct FILE`: the parts go straight to storage with presigned URLs (the
//! server's direct uploads), a few at once; the upload API only starts and completes the
//! upload. An interrupted upload of the same file resumes: the server lists the parts storage
//! holds, and only the others are sent.

use std::io::SeekFrom;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use futures::StreamExt;
use indicatif::ProgressBar;
use serde::Deserialize;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::answer::describe;

/// Parts in flight at once.
const PARALLEL: usize = 4;
/// Attempts per part before giving up (the command can be run again to resume).
const PART_ATTEMPTS: u32 = 8;

#[derive(Debug, Deserialize)]
struct Upload {
    id: String,
    video_id: String,
    size: u64,
    part_size: u64,
    part_count: u32,
    state: String,
    #[serde(default)]
    parts: Vec<Stored>,
}

#[derive(Debug, Deserialize)]
struct Stored {
    part: u32,
    size: u64,
}

#[derive(Debug, Deserialize)]
struct PartUrl {
    part: u32,
    url: String,
}

#[derive(Debug, Deserialize)]
struct UrlList {
    urls: Vec<PartUrl>,
}

pub struct Direct {
    pub http: reqwest::Client,
    pub server: String,
    pub token: String,
}

impl Direct {
    /// Whether the server offers direct uploads.
    pub async fn offered(&self) -> anyhow::Result<bool> {
        let res = self
            .http
            .get(format!("{}/api/v1/features", self.server))
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.server))?;
        if !res.status().is_success() {
            return Ok(false);
        }
        let v: serde_json::Value = serde_json::from_str(&res.text().await?)?;
        Ok(v["direct_upload"].as_bool() == Some(true))
    }

    fn upload_url(&self, id: &str) -> String {
        format!("{}/api/v1/direct-uploads/{id}", self.server)
    }

    /// The upload as the server has it, or `None` when it is gone (expired, deleted).
    pub async fn show(&self, id: &str) -> anyhow::Result<Option<(String, String)>> {
        let res = self
            .http
            .get(self.upload_url(id))
            .bearer_auth(&self.token)
            .send()
            .await?;
        match res.status().as_u16() {
            200 => {
                let u: Upload = serde_json::from_str(&res.text().await?)?;
                Ok(Some((u.id, u.video_id)))
            }
            404 | 410 => Ok(None),
            _ => bail!(
                "the server could not show the upload: {}",
                describe(res).await
            ),
        }
    }

    /// Starts a direct upload of `size` bytes described by `meta` (file name and the video's
    /// fields); returns (upload id, video id).
    pub async fn create(
        &self,
        meta: serde_json::Value,
        size: u64,
    ) -> anyhow::Result<(String, String)> {
        let mut body = meta;
        body["size"] = json!(size);
        let res = self
            .http
            .post(format!("{}/api/v1/direct-uploads", self.server))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.server))?;
        if res.status().as_u16() != 201 {
            bail!("the server refused the video: {}", describe(res).await);
        }
        let u: Upload = serde_json::from_str(&res.text().await?)?;
        Ok((u.id, u.video_id))
    }

    /// Sends every part storage lacks, then completes the upload. Returns the video id.
    pub async fn send(&self, id: &str, path: &Path, bar: &ProgressBar) -> anyhow::Result<String> {
        for _round in 0..3 {
            let res = self
                .http
                .get(self.upload_url(id))
                .bearer_auth(&self.token)
                .send()
                .await?;
            if !res.status().is_success() {
                bail!(
                    "the server could not show the upload: {}",
                    describe(res).await
                );
            }
            let u: Upload = serde_json::from_str(&res.text().await?)?;
            if u.state == "complete" {
                return Ok(u.video_id);
            }
            let size_of = |n: u32| {
                if n < u.part_count {
                    u.part_size
                } else {
                    u.size - u.part_size * u64::from(u.part_count - 1)
                }
            };
            let good: std::collections::HashSet<u32> = u
                .parts
                .iter()
                .filter(|p| p.size == size_of(p.part))
                .map(|p| p.part)
                .collect();
            let missing: Vec<u32> = (1..=u.part_count).filter(|n| !good.contains(n)).collect();
            bar.set_position(good.iter().map(|n| size_of(*n)).sum());
            if !missing.is_empty() {
                let file = Arc::new(path.to_owned());
                // URLs in batches of 100, parts of a batch a few at once.
                for batch in missing.chunks(100) {
                    let urls = self.urls(id, batch).await?;
                    let sends = urls.into_iter().map(|p| {
                        let file = file.clone();
                        let offset = u64::from(p.part - 1) * u.part_size;
                        let len = size_of(p.part);
                        async move {
                            self.put_part(&file, &p, offset, len).await?;
                            bar.inc(len);
                            anyhow::Ok(())
                        }
                    });
                    let mut running = futures::stream::iter(sends).buffer_unordered(PARALLEL);
                    while let Some(done) = running.next().await {
                        done?;
                    }
                }
            }
            let res = self
                .http
                .post(format!("{}/complete", self.upload_url(id)))
                .bearer_auth(&self.token)
                .send()
                .await?;
            match res.status().as_u16() {
                200 => {
                    let v: serde_json::Value = serde_json::from_str(&res.text().await?)?;
                    return v["video_id"]
                        .as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| anyhow!("the server did not return a video id"));
                }
                // A part missing or of the wrong size after all: look again and send it.
                409 => bar.println(format!("kadr: {}; sending again", describe(res).await)),
                _ => bail!(
                    "the server refused to complete the upload: {}",
                    describe(res).await
                ),
            }
        }
        bail!("the upload could not be completed; run the same command again to resume")
    }

    async fn urls(&self, id: &str, parts: &[u32]) -> anyhow::Result<Vec<PartUrl>> {
        let res = self
            .http
            .post(format!("{}/urls", self.upload_url(id)))
            .bearer_auth(&self.token)
            .json(&json!({ "parts": parts }))
            .send()
            .await?;
        if !res.status().is_success() {
            bail!("the server gave no part URLs: {}", describe(res).await);
        }
        let list: UrlList = serde_json::from_str(&res.text().await?)?;
        for p in &list.urls {
            let url = url::Url::parse(&p.url).context("a part URL that is no URL")?;
            if !matches!(url.scheme(), "http" | "https") {
                bail!("a part URL that is not http(s): {}", url.scheme());
            }
        }
        Ok(list.urls)
    }

    /// PUTs one part (no token goes with it: the URL is signed), retrying with back-off.
    async fn put_part(
        &self,
        file: &Path,
        p: &PartUrl,
        offset: u64,
        len: u64,
    ) -> anyhow::Result<()> {
        let mut buf = vec![0; len as usize];
        let mut f = tokio::fs::File::open(file).await?;
        f.seek(SeekFrom::Start(offset)).await?;
        f.read_exact(&mut buf).await?;
        let data = bytes::Bytes::from(buf);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = self.http.put(&p.url).body(data.clone()).send().await;
            let why = match sent {
                Ok(res) if res.status().is_success() => return Ok(()),
                Ok(res) => format!("storage answered {}", res.status()),
                Err(e) => format!("storage: {e}"),
            };
            if attempt >= PART_ATTEMPTS {
                bail!(
                    "part {} failed {attempt} times ({why}); run the same command again to resume",
                    p.part
                );
            }
            tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
        }
    }
}
