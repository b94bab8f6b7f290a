#![allow(dead_code)]
//! A small HTTP/1.1 origin on loopback for import tests: files served with `Range` and a
//! strong `ETag`, optionally throttled; HTML pages (`/page/NAME`, `text/html`); redirects;
//! chosen statuses; and a log of every request
//! and of the bytes sent, so a test can tell a resumed download from a restarted one. A
//! "trap" is an origin that must never be reached: it only counts connections.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One request as the origin saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub range: Option<String>,
    pub if_range: Option<String>,
}

#[derive(Default)]
struct State {
    files: Mutex<HashMap<String, Arc<Vec<u8>>>>,
    pages: Mutex<HashMap<String, String>>,
    seen: Mutex<Vec<Seen>>,
    sent: AtomicU64,
    connections: AtomicU64,
    /// Bytes per second for file bodies (0: as fast as the socket takes them).
    rate: AtomicU64,
}

pub struct Origin {
    pub addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Origin {
    /// Listens on `ip`:0.
    pub async fn start(ip: &str) -> Origin {
        let listener = TcpListener::bind(format!("{ip}:0")).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State::default());
        let st = state.clone();
        let task = tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                st.connections.fetch_add(1, Ordering::SeqCst);
                let st = st.clone();
                tokio::spawn(async move {
                    let _ = serve(sock, st).await;
                });
            }
        });
        Origin { addr, state, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Serves `body` at `/file/{name}`.
    pub fn file(&self, name: &str, body: Vec<u8>) {
        self.state
            .files
            .lock()
            .unwrap()
            .insert(name.to_owned(), Arc::new(body));
    }

    /// Serves `html` at `/page/{name}` as `text/html; charset=utf-8`.
    pub fn page(&self, name: &str, html: &str) {
        self.state
            .pages
            .lock()
            .unwrap()
            .insert(name.to_owned(), html.to_owned());
    }

    pub fn throttle(&self, bytes_per_sec: u64) {
        self.state.rate.store(bytes_per_sec, Ordering::SeqCst);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    /// Body bytes sent so far, all requests together.
    pub fn sent(&self) -> u64 {
        self.state.sent.load(Ordering::SeqCst)
    }

    /// Connections accepted (a trap must stay at 0).
    pub fn connections(&self) -> u64 {
        self.state.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut sock: TcpStream, st: Arc<State>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = sock.read(&mut chunk).await?;
        if n == 0 || buf.len() > 32 * 1024 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf).to_string();
    let mut lines = head.split("\r\n");
    let target = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("/")
        .to_owned();
    let header = |name: &str| {
        head.split("\r\n").skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    let range = header("range");
    let if_range = header("if-range");
    st.seen.lock().unwrap().push(Seen {
        path: target.clone(),
        range: range.clone(),
        if_range: if_range.clone(),
    });
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    if let Some(to) = path
        .strip_prefix("/redirect")
        .and(query.strip_prefix("to="))
    {
        let to = percent_decode(to);
        let res = format!(
            "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        return sock.write_all(res.as_bytes()).await;
    }
    if let Some(code) = path.strip_prefix("/status/") {
        let res =
            format!("HTTP/1.1 {code} Status\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return sock.write_all(res.as_bytes()).await;
    }
    let page = path
        .strip_prefix("/page/")
        .and_then(|name| st.pages.lock().unwrap().get(name).cloned());
    if let Some(html) = page {
        let res = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{html}",
            html.len()
        );
        return sock.write_all(res.as_bytes()).await;
    }
    let body = path
        .strip_prefix("/file/")
        .and_then(|name| st.files.lock().unwrap().get(name).cloned());
    let Some(body) = body else {
        let res = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        return sock.write_all(res.as_bytes()).await;
    };
    let etag = format!("\"len-{}\"", body.len());
    let total = body.len() as u64;
    let start = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|_| if_range.as_deref().is_none_or(|v| v == etag));
    let (status, from) = match start {
        Some(s) if s >= total => {
            let res = format!(
                "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{total}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            return sock.write_all(res.as_bytes()).await;
        }
        Some(s) => (
            format!(
                "206 Partial Content\r\nContent-Range: bytes {s}-{}/{total}",
                total - 1
            ),
            s,
        ),
        None => ("200 OK".to_owned(), 0),
    };
    let res = format!(
        "HTTP/1.1 {status}\r\nContent-Type: video/mp4\r\nAccept-Ranges: bytes\r\nETag: {etag}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        total - from
    );
    sock.write_all(res.as_bytes()).await?;
    let mut at = from as usize;
    const PIECE: usize = 64 * 1024;
    while at < body.len() {
        let end = (at + PIECE).min(body.len());
        sock.write_all(&body[at..end]).await?;
        st.sent.fetch_add((end - at) as u64, Ordering::SeqCst);
        at = end;
        let rate = st.rate.load(Ordering::SeqCst);
        if rate > 0 {
            tokio::time::sleep(Duration::from_secs_f64(PIECE as f64 / rate as f64)).await;
        }
    }
    sock.flush().await
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
