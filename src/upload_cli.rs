//! `kadr upload FILE`: a tus client for scripts and terminals. It creates the video, sends the
//! file in chunks with a progress bar, rides out server restarts, resumes an interrupted upload
//! of the same file (it remembers the upload URL), and prints the video id. With `--direct`,
//! when the server offers it, the parts go straight to storage instead (`upload_direct`).

use std::collections::BTreeMap;
use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use anyhow::{Context, anyhow, bail};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::answer::describe;

#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The video file.
    pub file: PathBuf,
    /// Title (default: the file name without its extension).
    #[arg(long)]
    pub title: Option<String>,
    #[arg(long)]
    pub description: Option<String>,
    /// public, unlisted or private.
    #[arg(long, default_value = "public")]
    pub privacy: String,
    /// Comma-separated tags.
    #[arg(long, value_delimiter = ',')]
    pub tags: Vec<String>,
    /// BCP 47 language tag of the video (ru, en, ar…).
    #[arg(long)]
    pub language: Option<String>,
    /// The channel to upload into (its handle; default: your first channel).
    #[arg(long)]
    pub channel: Option<String>,
    /// Kadr's address.
    #[arg(long, env = "KADR_SERVER_URL", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// A token from POST /api/v1/auth/token.
    #[arg(long, env = "KADR_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Bytes per request, in MiB.
    #[arg(long, default_value_t = 16)]
    pub chunk_mib: usize,
    /// Send a SHA-256 Upload-Checksum with every chunk.
    #[arg(long)]
    pub checksum: bool,
    /// Start afresh even if an earlier upload of this file could be resumed.
    #[arg(long)]
    pub restart: bool,
    /// Allow plain http:// to a host other than this machine (the token travels unencrypted).
    #[arg(long)]
    pub insecure: bool,
    /// Send the file straight to the server's storage (S3 presigned part URLs) when the server
    /// offers it; otherwise through tus.
    #[arg(long)]
    pub direct: bool,
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &url::Url) -> String {
    url.origin().ascii_serialization()
}

/// The server's URL, refused when the token would cross a network in the clear.
pub(crate) fn server_url(server: &str, insecure: bool) -> anyhow::Result<url::Url> {
    let url = url::Url::parse(server).with_context(|| format!("{server} is not a URL"))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" => {
            let loopback = match url.host() {
                Some(url::Host::Domain(d)) => d == "localhost",
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            if loopback || insecure {
                Ok(url)
            } else {
                bail!(
                    "refusing to send the token to {server} over plain http: use https://, \
                     or --insecure if you really mean it"
                )
            }
        }
        other => bail!("{server}: unsupported scheme {other}"),
    }
}

/// Fails unless `url` is on the server's own origin: the token goes nowhere else.
pub(crate) fn same_origin(server: &url::Url, url: &str) -> anyhow::Result<()> {
    let u = url::Url::parse(url).with_context(|| format!("the server gave a bad URL: {url}"))?;
    if origin(&u) != origin(server) {
        bail!(
            "the server sent the upload to {}, not to {}: the token is not sent there",
            origin(&u),
            origin(server)
        );
    }
    Ok(())
}

/// Earlier uploads that may be resumed, by file identity.
#[derive(Debug, Default, Serialize, Deserialize)]
struct ResumeState {
    uploads: BTreeMap<String, Remembered>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Remembered {
    url: String,
    video_id: String,
    /// A direct upload (`url` is its id).
    #[serde(default)]
    direct: bool,
}

fn state_path() -> PathBuf {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("kadr/uploads.json")
}

fn load_state(path: &Path) -> ResumeState {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn save_state(path: &Path, state: &ResumeState) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(state)?)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// A file is "the same" when its path, size and modification time are.
fn file_key(server: &str, path: &Path, meta: &std::fs::Metadata) -> String {
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{server}|{}|{}|{mtime}", path.display(), meta.len())
}

pub async fn run(args: UploadArgs) -> anyhow::Result<()> {
    let path = args
        .file
        .canonicalize()
        .with_context(|| format!("cannot open {}", args.file.display()))?;
    let meta = std::fs::metadata(&path)?;
    if !meta.is_file() {
        bail!("{} is not a file", path.display());
    }
    let size = meta.len();
    let server_url = server_url(&args.server, args.insecure)?;
    let server = args.server.trim_end_matches('/').to_owned();
    let chunk = args.chunk_mib.max(1) * 1024 * 1024;
    // TLS by rustls with the system's roots; redirects are not followed (the token would go
    // with them).
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let state_file = state_path();
    let mut state = load_state(&state_file);
    let key = file_key(&server, &path, &meta);

    if args.direct {
        let direct = crate::upload_direct::Direct {
            http: http.clone(),
            server: server.clone(),
            token: args.token.clone(),
        };
        if direct.offered().await? {
            return run_direct(&direct, &args, &path, size, &key).await;
        }
        eprintln!("kadr: the server takes uploads through tus only; using tus");
    }
    let client = Client {
        http,
        token: args.token.clone(),
    };
    let mut resumed = None;
    if !args.restart
        && let Some(r) = state.uploads.get(&key).filter(|r| !r.direct).cloned()
    {
        same_origin(&server_url, &r.url)?;
        match client.offset(&r.url).await {
            Ok(Some(offset)) => resumed = Some((r, offset)),
            Ok(None) => {
                state.uploads.remove(&key);
            }
            Err(e) => return Err(e.context("cannot reach the server to resume")),
        }
    }
    let (upload, mut offset) = match resumed {
        Some((r, offset)) => {
            eprintln!(
                "kadr: resuming video {} at {} of {}",
                r.video_id,
                bytes(offset),
                bytes(size)
            );
            (r, offset)
        }
        None => {
            let r = client.create(&server, &args, &path, size).await?;
            same_origin(&server_url, &r.url)?;
            state.uploads.insert(key.clone(), r.clone());
            save_state(&state_file, &state).context("cannot remember the upload for resuming")?;
            (r, 0)
        }
    };

    let bar = progress_bar(size);
    bar.set_position(offset);
    bar.reset_eta();

    let mut file = tokio::fs::File::open(&path).await?;
    let mut failures = 0u32;
    while offset < size {
        let mut buf = vec![0; chunk.min((size - offset) as usize)];
        file.seek(SeekFrom::Start(offset)).await?;
        file.read_exact(&mut buf).await?;
        match client
            .patch(&upload.url, offset, bytes::Bytes::from(buf), args.checksum)
            .await
        {
            Ok(new) => {
                offset = new;
                failures = 0;
                bar.set_position(offset);
            }
            Err(Failure::Fatal(e)) => {
                bar.abandon();
                return Err(e);
            }
            Err(Failure::Retry(e)) => {
                failures += 1;
                if failures > 10 {
                    bar.abandon();
                    return Err(e.context(
                        "giving up after 10 attempts; run the same command again to resume",
                    ));
                }
                let wait = Duration::from_millis(500 * u64::from(failures.min(10)));
                bar.println(format!("kadr: {e:#}; retrying in {wait:?}"));
                tokio::time::sleep(wait).await;
                // Ask where to go on; the server may have kept more or less than we sent.
                if let Ok(Some(o)) = client.offset(&upload.url).await {
                    offset = o;
                    bar.set_position(offset);
                }
            }
        }
    }
    bar.finish();
    state.uploads.remove(&key);
    save_state(&state_file, &state)?;
    eprintln!(
        "kadr: uploaded {} as video {}",
        bytes(size),
        upload.video_id
    );
    println!("{}", upload.video_id);
    Ok(())
}

fn progress_bar(size: u64) -> ProgressBar {
    let bar = ProgressBar::new(size);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar
}

/// The direct path: resume the remembered upload of this file, or start one; send what
/// storage lacks; complete.
async fn run_direct(
    direct: &crate::upload_direct::Direct,
    args: &UploadArgs,
    path: &Path,
    size: u64,
    key: &str,
) -> anyhow::Result<()> {
    let state_file = state_path();
    let mut state = load_state(&state_file);
    let mut upload = None;
    if !args.restart
        && let Some(r) = state.uploads.get(key).filter(|r| r.direct).cloned()
    {
        match direct.show(&r.url).await {
            Ok(Some(found)) => {
                eprintln!("kadr: resuming video {}", found.1);
                upload = Some(found);
            }
            Ok(None) => {
                state.uploads.remove(key);
            }
            Err(e) => return Err(e.context("cannot reach the server to resume")),
        }
    }
    let (id, _video) = match upload {
        Some(u) => u,
        None => {
            let meta = json!({
                "filename": path.file_name().map(|s| s.to_string_lossy().into_owned()),
                "title": args.title,
                "description": args.description,
                "privacy": args.privacy,
                "tags": args.tags,
                "language": args.language,
                "channel": args.channel,
            });
            let (id, video) = direct.create(meta, size).await?;
            state.uploads.insert(
                key.to_owned(),
                Remembered {
                    url: id.clone(),
                    video_id: video.clone(),
                    direct: true,
                },
            );
            save_state(&state_file, &state).context("cannot remember the upload for resuming")?;
            (id, video)
        }
    };
    let bar = progress_bar(size);
    let video = match direct.send(&id, path, &bar).await {
        Ok(v) => v,
        Err(e) => {
            bar.abandon();
            return Err(e);
        }
    };
    bar.finish();
    state.uploads.remove(key);
    save_state(&state_file, &state)?;
    eprintln!(
        "kadr: uploaded {} straight to storage as video {video}",
        bytes(size)
    );
    println!("{video}");
    Ok(())
}

pub(crate) fn bytes(n: u64) -> String {
    indicatif::HumanBytes(n).to_string()
}

/// Why a PATCH did not go through: worth another try (after asking the offset again), or not.
pub(crate) enum Failure {
    Retry(anyhow::Error),
    Fatal(anyhow::Error),
}

/// The tus side of the client (also used by `kadr import` for its uploaded files).
pub(crate) struct Client {
    pub(crate) http: reqwest::Client,
    pub(crate) token: String,
}

impl Client {
    async fn create(
        &self,
        server: &str,
        args: &UploadArgs,
        path: &Path,
        size: u64,
    ) -> anyhow::Result<Remembered> {
        let title = args.title.clone().unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "Untitled".to_owned())
        });
        let body = json!({
            "title": title,
            "description": args.description,
            "privacy": args.privacy,
            "tags": args.tags,
            "language": args.language,
            "channel": args.channel,
            "size": size,
        });
        let res = self
            .http
            .post(format!("{server}/api/v1/videos"))
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .with_context(|| format!("cannot reach {server}"))?;
        if res.status().as_u16() != 201 {
            bail!("the server refused the video: {}", describe(res).await);
        }
        let v: serde_json::Value = serde_json::from_str(&res.text().await?)?;
        let url = v["upload"]["url"]
            .as_str()
            .ok_or_else(|| anyhow!("the server did not return an upload URL"))?;
        let video_id = v["id"]
            .as_str()
            .ok_or_else(|| anyhow!("the server did not return a video id"))?;
        Ok(Remembered {
            url: url.to_owned(),
            video_id: video_id.to_owned(),
            direct: false,
        })
    }

    /// The server's offset, or `None` when the upload is gone (expired, terminated).
    pub(crate) async fn offset(&self, url: &str) -> anyhow::Result<Option<u64>> {
        Ok(self.head(url).await?.map(|(offset, _)| offset))
    }

    /// The server's offset and the upload's length (when it said it), or `None` when the
    /// upload is gone (expired, terminated).
    pub(crate) async fn head(&self, url: &str) -> anyhow::Result<Option<(u64, Option<u64>)>> {
        let res = self
            .http
            .head(url)
            .bearer_auth(&self.token)
            .header("Tus-Resumable", "1.0.0")
            .send()
            .await?;
        let number = |name: &str| {
            res.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
        };
        match res.status().as_u16() {
            200 => Ok(number("upload-offset").map(|o| (o, number("upload-length")))),
            404 | 410 => Ok(None),
            _ => bail!("HEAD {url}: {}", res.status()),
        }
    }

    async fn patch(
        &self,
        url: &str,
        offset: u64,
        data: bytes::Bytes,
        checksum: bool,
    ) -> Result<u64, Failure> {
        let mut req = self
            .http
            .patch(url)
            .bearer_auth(&self.token)
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Offset", offset.to_string())
            .header("Content-Type", "application/offset+octet-stream");
        if checksum {
            use base64::Engine;
            use sha2::Digest;
            let digest = sha2::Sha256::digest(&data);
            req = req.header(
                "Upload-Checksum",
                format!(
                    "sha256 {}",
                    base64::engine::general_purpose::STANDARD.encode(digest)
                ),
            );
        }
        let res = req
            .body(data)
            .send()
            .await
            .map_err(|e| Failure::Retry(anyhow!("connection: {e}")))?;
        Self::patched(res).await
    }

    /// Sends `len` bytes of the file at `path` from `offset`, streamed from the disk (never
    /// more than a read buffer in memory); returns the server's new offset.
    pub(crate) async fn patch_file(
        &self,
        url: &str,
        path: &Path,
        offset: u64,
        len: u64,
    ) -> Result<u64, Failure> {
        let local =
            |e: std::io::Error| Failure::Fatal(anyhow!("cannot read {}: {e}", path.display()));
        let mut file = tokio::fs::File::open(path).await.map_err(local)?;
        file.seek(SeekFrom::Start(offset)).await.map_err(local)?;
        let stream = tokio_util::io::ReaderStream::with_capacity(file.take(len), 256 * 1024);
        let res = self
            .http
            .patch(url)
            .bearer_auth(&self.token)
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Offset", offset.to_string())
            .header("Content-Type", "application/offset+octet-stream")
            .header("Content-Length", len.to_string())
            .body(reqwest::Body::wrap_stream(stream))
            .send()
            .await
            .map_err(|e| Failure::Retry(anyhow!("connection: {e:#}")))?;
        Self::patched(res).await
    }

    /// The new offset a PATCH answered with, or why it failed.
    async fn patched(res: reqwest::Response) -> Result<u64, Failure> {
        let status = res.status().as_u16();
        if status == 204 {
            return res
                .headers()
                .get("upload-offset")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| Failure::Fatal(anyhow!("the server sent no Upload-Offset")));
        }
        let why = anyhow!("{}", describe(res).await);
        // Conflicts, a busy upload, checksum failures and server errors pass; the rest is final.
        if matches!(status, 409 | 423 | 460) || status >= 500 {
            Err(Failure::Retry(why))
        } else {
            Err(Failure::Fatal(why.context("the server refused the upload")))
        }
    }
}
