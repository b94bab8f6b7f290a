//! The calls `kadr import` makes: create (or find again) an import, follow it, send captions
//! and a thumbnail, and the tus upload of a local file. Busy answers (429, 503) and lost
//! connections are tried again; a refusal is a [`Failed`] with the server's stable code.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::upload_cli::{Client as Tus, Failure, same_origin};

/// Why a row could not be done: a stable code and words.
#[derive(Debug, Clone)]
pub struct Failed {
    pub code: String,
    pub message: String,
}

impl Failed {
    pub fn new(code: &str, message: impl Into<String>) -> Failed {
        Failed {
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

/// The import as the server shows it (the fields the CLI uses).
#[derive(Debug, Clone, Deserialize)]
pub struct ImportView {
    pub id: String,
    pub video_id: String,
    pub upload_url: Option<String>,
    pub state: String,
    #[serde(default)]
    pub bytes_done: u64,
    pub bytes_total: Option<u64>,
    pub failure: Option<FailureView>,
    pub video_status: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FailureView {
    pub code: String,
    pub message: Option<String>,
}

impl ImportView {
    /// Still to be fetched by the server.
    pub fn pending(&self) -> bool {
        matches!(self.state.as_str(), "queued" | "fetching")
    }

    pub fn failed(&self) -> Option<Failed> {
        if self.state == "failed" || self.video_status == "failed" {
            let (code, message) = match &self.failure {
                Some(f) => (f.code.clone(), f.message.clone().unwrap_or_default()),
                None => ("import_failed".to_owned(), String::new()),
            };
            let message = if message.is_empty() {
                format!("the server failed the import ({code})")
            } else {
                message
            };
            return Some(Failed { code, message });
        }
        None
    }
}

/// How many times a busy server or a lost connection is tried before the row fails.
const ATTEMPTS: u32 = 8;

pub struct Api {
    pub server: String,
    server_url: url::Url,
    http: reqwest::Client,
    /// For thumbnails named by URL: no token, redirects followed.
    outside: reqwest::Client,
    tus: Tus,
    token: String,
}

/// One answer, read whole (the API's answers are small).
struct Answer {
    status: u16,
    retry_after: Option<u64>,
    body: Value,
}

impl Answer {
    fn failed(&self) -> Failed {
        let code = self.body["code"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| format!("http_{}", self.status));
        let title = self.body["title"].as_str().unwrap_or("");
        let detail = self.body["detail"]
            .as_str()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        let field = self.body["field"]
            .as_str()
            .map(|f| format!(" [{f}]"))
            .unwrap_or_default();
        let message = if title.is_empty() {
            format!("the server answered {}", self.status)
        } else {
            format!("{title}{detail}{field}")
        };
        Failed { code, message }
    }
}

impl Api {
    pub fn new(server_url: url::Url, token: String) -> anyhow::Result<Api> {
        // Redirects are not followed: the token would go with them.
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .read_timeout(Duration::from_secs(120))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let outside = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()?;
        Ok(Api {
            server: server_url.as_str().trim_end_matches('/').to_owned(),
            server_url,
            tus: Tus {
                http: http.clone(),
                token: token.clone(),
            },
            http,
            outside,
            token,
        })
    }

    /// Sends a request (made afresh for every try) until it is answered other than busy.
    async fn call(
        &self,
        what: &str,
        make: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Answer, Failed> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = make(&self.http).bearer_auth(&self.token).send().await;
            let wait = match sent {
                Ok(res) => {
                    let status = res.status().as_u16();
                    let retry_after = res
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok());
                    let text = res.text().await.unwrap_or_default();
                    let answer = Answer {
                        status,
                        retry_after,
                        body: serde_json::from_str(&text).unwrap_or(Value::Null),
                    };
                    if !matches!(status, 429 | 502 | 503 | 504) || attempt >= ATTEMPTS {
                        return Ok(answer);
                    }
                    Duration::from_secs(answer.retry_after.unwrap_or(2).clamp(1, 60))
                }
                Err(e) if attempt >= ATTEMPTS => {
                    return Err(Failed::new(
                        "connection_failed",
                        format!("{what}: cannot reach {}: {e}", self.server),
                    ));
                }
                Err(_) => Duration::from_millis(500 * u64::from(attempt)),
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Whether the token is taken (before any row is sent): the user's name.
    pub async fn whoami(&self) -> anyhow::Result<String> {
        let answer = self
            .call("sign-in check", |c| {
                c.get(format!("{}/api/v1/me", self.server))
            })
            .await
            .map_err(|f| anyhow::anyhow!("{}", f.message))?;
        if answer.status != 200 {
            anyhow::bail!("the server refused the token: {}", answer.failed().message);
        }
        Ok(answer.body["username"]
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// `POST /api/v1/imports/batches`: a batch for this run, its id.
    pub async fn create_batch(&self, name: &str) -> Result<String, Failed> {
        let answer = self
            .call("batch", |c| {
                c.post(format!("{}/api/v1/imports/batches", self.server))
                    .json(&serde_json::json!({ "name": name }))
            })
            .await?;
        match answer.status {
            201 => answer.body["id"]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| Failed::new("bad_answer", "the server's batch has no id")),
            _ => Err(answer.failed()),
        }
    }

    /// `POST /api/v1/videos/import`: the import and whether it existed before (200).
    pub async fn create(&self, body: &Value) -> Result<(ImportView, bool), Failed> {
        let answer = self
            .call("import", |c| {
                c.post(format!("{}/api/v1/videos/import", self.server))
                    .json(body)
            })
            .await?;
        match answer.status {
            200..=202 => {
                let view: ImportView = serde_json::from_value(answer.body).map_err(|e| {
                    Failed::new(
                        "bad_answer",
                        format!("the server's import is unreadable: {e}"),
                    )
                })?;
                Ok((view, answer.status == 200))
            }
            _ => Err(answer.failed()),
        }
    }

    pub async fn import(&self, id: &str) -> Result<ImportView, Failed> {
        let answer = self
            .call("import", |c| {
                c.get(format!("{}/api/v1/imports/{id}", self.server))
            })
            .await?;
        if answer.status != 200 {
            return Err(answer.failed());
        }
        serde_json::from_value(answer.body).map_err(|e| {
            Failed::new(
                "bad_answer",
                format!("the server's import is unreadable: {e}"),
            )
        })
    }

    /// The languages a video has captions in.
    pub async fn caption_languages(&self, video: &str) -> Result<Vec<String>, Failed> {
        let answer = self
            .call("captions", |c| {
                c.get(format!("{}/api/v1/videos/{video}/captions", self.server))
            })
            .await?;
        if answer.status != 200 {
            return Err(answer.failed());
        }
        Ok(answer.body["items"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|c| c["lang"].as_str())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Sends one caption file (at most 2 MiB, checked when the manifest was read).
    pub async fn put_captions(&self, video: &str, lang: &str, file: &Path) -> Result<(), Failed> {
        let data = tokio::fs::read(file).await.map_err(|e| {
            Failed::new(
                "file_not_found",
                format!("captions {lang}: cannot read {}: {e}", file.display()),
            )
        })?;
        let srt = file
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("srt"));
        let ctype = if srt {
            "application/x-subrip"
        } else {
            "text/vtt"
        };
        let data = bytes::Bytes::from(data);
        let answer = self
            .call("captions", |c| {
                c.put(format!(
                    "{}/api/v1/videos/{video}/captions/{lang}",
                    self.server
                ))
                .header("Content-Type", ctype)
                .body(data.clone())
            })
            .await?;
        match answer.status {
            200 | 201 => Ok(()),
            _ => {
                let f = answer.failed();
                Err(Failed::new(
                    &f.code,
                    format!("captions {lang}: {}", f.message),
                ))
            }
        }
    }

    /// The video as its owner sees it.
    pub async fn video(&self, video: &str) -> Result<Value, Failed> {
        let answer = self
            .call("video", |c| {
                c.get(format!("{}/api/v1/videos/{video}", self.server))
            })
            .await?;
        if answer.status != 200 {
            return Err(answer.failed());
        }
        Ok(answer.body)
    }

    pub async fn put_thumbnail(
        &self,
        import: &str,
        data: bytes::Bytes,
        ctype: &str,
    ) -> Result<(), Failed> {
        let answer = self
            .call("thumbnail", |c| {
                c.put(format!("{}/api/v1/imports/{import}/thumbnail", self.server))
                    .header("Content-Type", ctype)
                    .body(data.clone())
            })
            .await?;
        match answer.status {
            200..=299 => Ok(()),
            _ => {
                let f = answer.failed();
                Err(Failed::new(&f.code, format!("thumbnail: {}", f.message)))
            }
        }
    }

    /// Downloads a thumbnail named by URL, at most `limit` bytes.
    pub async fn download(&self, url: &str, limit: u64) -> Result<bytes::Bytes, Failed> {
        let fail =
            |m: String| Failed::new("thumbnail_unavailable", format!("thumbnail {url}: {m}"));
        let mut res = self
            .outside
            .get(url)
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        if !res.status().is_success() {
            return Err(fail(format!("answered {}", res.status())));
        }
        if res.content_length().is_some_and(|n| n > limit) {
            return Err(fail("larger than 10 MiB".to_owned()));
        }
        let mut data = bytes::BytesMut::new();
        while let Some(chunk) = res.chunk().await.map_err(|e| fail(e.to_string()))? {
            if (data.len() + chunk.len()) as u64 > limit {
                return Err(fail("larger than 10 MiB".to_owned()));
            }
            data.extend_from_slice(&chunk);
        }
        Ok(data.freeze())
    }

    /// Sends what the server lacks of `path` to the tus upload at `url`, `chunk` bytes per
    /// request streamed from the disk; `progress` hears every new offset. Returns where the
    /// server's offset stood at the start (0 for a fresh upload).
    pub async fn upload(
        &self,
        url: &str,
        path: &Path,
        size: u64,
        chunk: u64,
        progress: &dyn Fn(u64),
    ) -> Result<u64, Failed> {
        same_origin(&self.server_url, url)
            .map_err(|e| Failed::new("bad_answer", format!("{e:#}")))?;
        let mut offset = self.offset(url, size).await?;
        let start = offset;
        progress(offset);
        let mut failures = 0u32;
        while offset < size {
            let len = chunk.min(size - offset);
            match self.tus.patch_file(url, path, offset, len).await {
                Ok(new) => {
                    offset = new;
                    failures = 0;
                    progress(offset);
                }
                Err(Failure::Fatal(e)) => {
                    return Err(Failed::new("upload_refused", format!("{e:#}")));
                }
                Err(Failure::Retry(e)) => {
                    failures += 1;
                    if failures > 10 {
                        return Err(Failed::new(
                            "upload_interrupted",
                            format!("{e:#}; gave up after 10 attempts (run again to resume)"),
                        ));
                    }
                    tokio::time::sleep(Duration::from_millis(500 * u64::from(failures))).await;
                    // The server may have kept more or less than was sent.
                    if let Ok(o) = self.offset(url, size).await {
                        offset = o;
                        progress(offset);
                    }
                }
            }
        }
        Ok(start)
    }

    /// Where the upload stands, checked against the local file's size.
    async fn offset(&self, url: &str, size: u64) -> Result<u64, Failed> {
        let mut attempt = 0;
        let found = loop {
            attempt += 1;
            match self.tus.head(url).await {
                Ok(found) => break found,
                Err(e) if attempt >= ATTEMPTS => {
                    return Err(Failed::new("connection_failed", format!("{e:#}")));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await,
            }
        };
        match found {
            None => Err(Failed::new(
                "upload_gone",
                "the server no longer has this import's upload (expired); it cannot be resumed",
            )),
            Some((_, Some(length))) if length != size => Err(Failed::new(
                "file_changed",
                format!("the file is {size} bytes but was {length} bytes when its import began"),
            )),
            Some((offset, _)) => Ok(offset),
        }
    }
}

/// The picture's type by its first bytes (what the server checks too).
pub fn picture_type(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}
