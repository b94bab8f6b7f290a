#![allow(dead_code)]
//! Starting the real `kadr` binary for end-to-end tests.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// A `kadr` process whose log is collected and whose listening address is known.
pub struct Kadr {
    child: Child,
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<String>>>,
}

/// A `kadr` command with no KADR_* variables inherited from the environment.
pub fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kadr"));
    cmd.args(args);
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("KADR_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("RUST_LOG", "info");
    cmd
}

impl Kadr {
    /// Starts `cmd` and waits for its "listening on http://ADDR" log line.
    pub fn start(mut cmd: Command) -> Kadr {
        cmd.stdout(Stdio::null())
            .stderr(Stdio::piped())
            .stdin(Stdio::null());
        let mut child = cmd.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let log2 = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let addr = rest.split_whitespace().next().unwrap_or("").to_owned();
                    let _ = tx.send(addr);
                }
                if std::env::var_os("TEST_LOG").is_some() {
                    eprintln!("[kadr] {line}");
                }
                log2.lock().unwrap().push(line);
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(90)) {
            Ok(a) => a.parse().unwrap(),
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "kadr did not start listening; log:\n{}",
                    log.lock().unwrap().join("\n")
                );
            }
        };
        Kadr { child, addr, log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Sends SIGTERM and waits up to `deadline` for the exit.
    pub fn terminate(mut self, deadline: Duration) -> (ExitStatus, Duration) {
        let started = Instant::now();
        kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM).unwrap();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, started.elapsed());
            }
            if started.elapsed() > deadline {
                let _ = self.child.kill();
                panic!(
                    "kadr did not exit within {deadline:?}; log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Kadr {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = kill(Pid::from_raw(self.child.id() as i32), Signal::SIGTERM);
            let until = Instant::now() + Duration::from_secs(10);
            while Instant::now() < until {
                if !matches!(self.child.try_wait(), Ok(None)) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
        }
    }
}

pub fn process_alive(pid: i32) -> bool {
    kill(Pid::from_raw(pid), None).is_ok()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| {
                s.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z')
            })
            .unwrap_or(true)
}

pub async fn get(url: &str) -> (u16, String, String) {
    let res = reqwest::get(url).await.unwrap();
    let status = res.status().as_u16();
    let ctype = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or("").to_owned())
        .unwrap_or_default();
    (status, ctype, res.text().await.unwrap())
}

/// Where a stack keeps media.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Local,
    /// The in-process s3s-fs server.
    S3,
    /// A bucket of the test's own on the real S3 cluster `KADR_TEST_S3_ENDPOINT` names:
    /// SeaweedFS in `make test` (tests/s3/with-seaweed.sh). Tests on it are `#[ignore]`d
    /// so that a bare `cargo nextest run` passes; `make test` runs them.
    Seaweed,
}

/// The S3 server a backend stores on, if any.
pub async fn s3_server(backend: Backend) -> Option<kadr_storage::testing::S3TestServer> {
    match backend {
        Backend::Local => None,
        Backend::S3 => Some(kadr_storage::testing::S3TestServer::start().await.unwrap()),
        Backend::Seaweed => Some(
            kadr_storage::testing::S3TestServer::external()
                .await
                .expect("KADR_TEST_S3_ENDPOINT names the S3 cluster (make test starts SeaweedFS)")
                .unwrap(),
        ),
    }
}

pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

/// `kadr all` on a free port with a throwaway data dir (embedded Postgres) and the chosen
/// storage: local disk, or the in-process S3 server.
pub struct Stack {
    pub kadr: Kadr,
    pub dir: tempfile::TempDir,
    pub s3: Option<kadr_storage::testing::S3TestServer>,
}

impl Stack {
    pub async fn start(backend: Backend, env: &[(&str, &str)]) -> Stack {
        let dir = tempfile::tempdir().unwrap();
        let s3 = s3_server(backend).await;
        let mut cmd = command(&[
            "all",
            "--data-dir",
            dir.path().join("var").to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ]);
        cmd.env("KADR_ADMIN_PASSWORD", ADMIN_PASSWORD);
        if let Some(s3) = &s3 {
            s3_env(&mut cmd, s3);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let kadr = tokio::task::spawn_blocking(move || Kadr::start(cmd))
            .await
            .unwrap();
        Stack { kadr, dir, s3 }
    }

    pub fn url(&self, path: &str) -> String {
        self.kadr.url(path)
    }

    /// A connection to the stack's embedded Postgres.
    pub async fn db(&self) -> sea_orm::DatabaseConnection {
        let sock = self.dir.path().join("var/postgres").canonicalize().unwrap();
        sea_orm::Database::connect(format!(
            "postgres://kadr@localhost/kadr?host={}",
            sock.display()
        ))
        .await
        .unwrap()
    }
}

/// Points a kadr command at a test S3 server.
pub fn s3_env(cmd: &mut Command, s3: &kadr_storage::testing::S3TestServer) {
    cmd.env("KADR_STORAGE__BACKEND", "s3")
        .env("KADR_STORAGE__S3__ENDPOINT", s3.endpoint())
        .env("KADR_STORAGE__S3__BUCKET", &s3.bucket)
        .env("KADR_STORAGE__S3__ACCESS_KEY_ID", &s3.access_key_id)
        .env("KADR_STORAGE__S3__SECRET_ACCESS_KEY", &s3.secret_access_key);
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().build().unwrap()
}

/// Sends JSON, returns (status, parsed body or Null).
pub async fn send_json(
    req: reqwest::RequestBuilder,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let res = req
        .header("content-type", "application/json")
        .body(serde_json::to_vec(body).unwrap())
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

/// Registers `username` and returns a bearer token.
pub async fn register_and_login(base: &str, username: &str) -> String {
    let c = http();
    let (status, body) = send_json(
        c.post(format!("{base}/api/v1/users")),
        &serde_json::json!({ "username": username, "email": format!("u{}@example.org", hex(username.as_bytes())), "password": "correct horse battery" }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    login(base, username, "correct horse battery").await
}

pub async fn login(base: &str, username: &str, password: &str) -> String {
    let (status, body) = send_json(
        http().post(format!("{base}/api/v1/auth/token")),
        &serde_json::json!({ "username": username, "password": password }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

/// A file of `size` deterministic pseudo-random bytes.
pub fn make_file(path: &std::path::Path, size: usize, seed: u64) {
    use std::io::Write;
    let mut f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let mut x = seed | 1;
    let mut block = vec![0u8; 1 << 16];
    let mut left = size;
    while left > 0 {
        for b in block.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let bytes = x.to_le_bytes();
            b.copy_from_slice(&bytes[..b.len()]);
        }
        let n = left.min(block.len());
        f.write_all(&block[..n]).unwrap();
        left -= n;
    }
    f.flush().unwrap();
}

pub fn sha256_file(path: &std::path::Path) -> String {
    use sha2::Digest;
    let mut f = std::fs::File::open(path).unwrap();
    let mut h = sha2::Sha256::new();
    std::io::copy(&mut f, &mut h).unwrap();
    hex(&h.finalize())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 and length of `GET /api/v1/videos/{id}/source`, streamed.
pub async fn source_sha256(base: &str, token: &str, video: &str) -> (String, u64) {
    use sha2::Digest;
    let mut res = http()
        .get(format!("{base}/api/v1/videos/{video}/source"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let mut h = sha2::Sha256::new();
    let mut n = 0u64;
    while let Some(chunk) = res.chunk().await.unwrap() {
        n += chunk.len() as u64;
        h.update(&chunk);
    }
    (hex(&h.finalize()), n)
}

/// The shared test clip.
pub fn bunny() -> std::path::PathBuf {
    let p =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/media/bigbuckbunny.mp4");
    assert!(p.is_file(), "the shared clip is missing: {}", p.display());
    p
}

/// An H.264 test pattern of `size` (`1280x720`) at `rate` fps for `secs`, made with the ffmpeg
/// CLI (tests only); `extra` output options go before the file name.
pub fn testsrc(path: &std::path::Path, size: &str, rate: u32, secs: u32, extra: &[&str]) {
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc2=size={size}:rate={rate}"))
        .args([
            "-t",
            &secs.to_string(),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ])
        .args(extra)
        .arg(path)
        .status()
        .expect("the ffmpeg CLI is needed to make test inputs");
    assert!(status.success());
}

/// Uploads `file` with `kadr upload` (a tus client) and the given extra options; returns the
/// video id.
pub fn upload_with(stack: &Stack, token: &str, file: &std::path::Path, extra: &[&str]) -> String {
    upload_to(
        &stack.url(""),
        &stack.dir.path().join("state"),
        token,
        file,
        extra,
    )
}

/// `kadr upload` against `server`, keeping its resume state in `state`.
pub fn upload_to(
    server: &str,
    state: &std::path::Path,
    token: &str,
    file: &std::path::Path,
    extra: &[&str],
) -> String {
    let out = command(&["upload", file.to_str().unwrap()])
        .args(extra)
        .env("KADR_SERVER_URL", server)
        .env("KADR_TOKEN", token)
        .env("XDG_STATE_HOME", state)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// GET with an optional bearer token: (status, JSON body or Null).
pub async fn get_json(url: &str, token: Option<&str>) -> (u16, serde_json::Value) {
    let mut req = http().get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

/// Polls the video (as `token`) until it is ready.
pub async fn wait_ready(base: &str, token: &str, id: &str) -> serde_json::Value {
    let started = Instant::now();
    loop {
        let (status, v) = get_json(&format!("{base}/api/v1/videos/{id}"), Some(token)).await;
        assert_eq!(status, 200, "{v}");
        match v["status"].as_str() {
            Some("ready") => return v,
            Some("failed") => panic!("transcode failed: {v}"),
            _ => {}
        }
        assert!(started.elapsed() < Duration::from_secs(120), "{v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

// What the community's tests share: accounts set up by the admin, JSON calls, polling.

pub async fn user_id(base: &str, token: &str) -> String {
    let (status, me) = get_json(&format!("{base}/api/v1/me"), Some(token)).await;
    assert_eq!(status, 200, "{me}");
    me["id"].as_str().unwrap().to_owned()
}

pub async fn admin_sets(base: &str, admin: &str, user: &str, body: serde_json::Value) {
    let id = user_id(base, user).await;
    let (status, v) = send_json(
        http()
            .patch(format!("{base}/api/v1/admin/users/{id}"))
            .bearer_auth(admin),
        &body,
    )
    .await;
    assert_eq!(status, 200, "{v}");
}

/// A verified user (their videos are published without review).
pub async fn creator(base: &str, admin: &str, name: &str) -> String {
    let token = register_and_login(base, name).await;
    admin_sets(base, admin, &token, serde_json::json!({ "verified": true })).await;
    token
}

pub fn clip(stack: &Stack, name: &str) -> std::path::PathBuf {
    let path = stack.dir.path().join(name);
    if !path.exists() {
        testsrc(&path, "320x240", 15, 2, &[]);
    }
    path
}

pub async fn call(
    req: reqwest::RequestBuilder,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    match body {
        Some(b) => send_json(req, &b).await,
        None => {
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let text = res.text().await.unwrap();
            (
                status,
                serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
            )
        }
    }
}

/// Polls `url` as `token` until `ok` holds of the body (or fails after 30 s).
pub async fn until(
    url: &str,
    token: Option<&str>,
    what: &str,
    ok: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let started = Instant::now();
    loop {
        let (status, v) = get_json(url, token).await;
        if status == 200 && ok(&v) {
            return v;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{what}: {status} {v}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn ids(page: &serde_json::Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}

pub async fn post_comment(
    base: &str,
    token: &str,
    video: &str,
    body: &str,
    parent: Option<&str>,
) -> (u16, serde_json::Value) {
    call(
        http()
            .post(format!("{base}/api/v1/videos/{video}/comments"))
            .bearer_auth(token),
        Some(serde_json::json!({ "body": body, "parent_id": parent })),
    )
    .await
}
