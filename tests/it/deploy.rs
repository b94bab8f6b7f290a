//! The systemd units in deploy/ pass `systemd-analyze verify` (with the unit's binary path
//! pointed at the built kadr), and each waits longer than kadr's own shutdown deadline. The
//! transcoding worker's unit stays confined: `systemd-analyze security` scores it no worse than
//! now, and the settings that score does not see are still there.

use std::process::Command;

#[test]
fn systemd_units_verify() {
    let Ok(out) = Command::new("systemd-analyze").arg("--version").output() else {
        panic!("systemd-analyze is needed for this test (Debian package systemd)");
    };
    assert!(out.status.success());
    let dir = tempfile::tempdir().unwrap();
    let units = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/systemd");
    let mut checked = 0;
    for entry in std::fs::read_dir(&units).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let timeout: u64 = text
            .lines()
            .find_map(|l| l.strip_prefix("TimeoutStopSec="))
            .expect("TimeoutStopSec set")
            .parse()
            .unwrap();
        let defaults = kadr_config::Config::default();
        let deadline = if path.to_string_lossy().contains("worker") {
            defaults.worker.shutdown_grace_secs
        } else {
            defaults.server.shutdown_timeout_secs
        };
        assert!(
            timeout > deadline,
            "{}: stop timeout {timeout} <= {deadline}",
            path.display()
        );
        // Verify a copy whose ExecStart names the binary just built (the installed path
        // does not exist here) and whose user and files are ones this machine has.
        let local = text
            .replace("/usr/local/bin/kadr", env!("CARGO_BIN_EXE_kadr"))
            .replace("User=kadr", "User=root")
            .replace("Group=kadr", "Group=root")
            .replace(
                "EnvironmentFile=/etc/kadr/kadr.env",
                "EnvironmentFile=-/etc/kadr/kadr.env",
            );
        let copy = dir.path().join(path.file_name().unwrap());
        std::fs::write(&copy, local).unwrap();
        let out = Command::new("systemd-analyze")
            .args(["verify", "--man=no"])
            .arg(&copy)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let complaints: Vec<&str> = stderr
            .lines()
            .filter(|l| !l.contains("/etc/kadr/kadr.toml") && !l.trim().is_empty())
            .filter(|l| {
                !l.contains("Failed to connect to bus")
                    && !l.contains("System has not been booted with systemd")
            })
            .collect();
        assert!(
            out.status.success() || complaints.is_empty(),
            "{}: {stderr}",
            path.display()
        );
        assert!(complaints.is_empty(), "{}: {stderr}", path.display());
        checked += 1;
    }
    assert_eq!(checked, 4);
}

/// The worker unit's exposure as `systemd-analyze security --threshold` counts it (tenths: 10 is
/// the "1.0 OK" measured with systemd 252), plus one tenth, so weakening the unit fails.
const WORKER_MAX_EXPOSURE: u32 = 11;

/// Confinement whose loss or loosening the score misses: dropping one of these leaves it at 1.0
/// or 1.1, and so does a looser value (ProtectSystem=full, a capability, a wider system call
/// set, another writable path). Each must stay as written.
const WORKER_LINES: &[&str] = &[
    "CapabilityBoundingSet=",
    "AmbientCapabilities=",
    "UMask=0077",
    "RemoveIPC=true",
    "KeyringMode=private",
    "ProtectSystem=strict",
    "ReadWritePaths=/var/lib/kadr",
    "DevicePolicy=closed",
    "ProtectClock=true",
    "ProtectHostname=true",
    "ProcSubset=pid",
    "RestrictRealtime=true",
    "LockPersonality=true",
    "MemoryDenyWriteExecute=true",
    "SystemCallFilter=@system-service",
    "SystemCallErrorNumber=EPERM",
];

/// Limits the operator sizes: present with some value.
const WORKER_LIMITS: &[&str] = &["MemoryMax=", "TasksMax="];

#[test]
fn worker_unit_is_confined() {
    confined(
        "kadr-worker.service",
        WORKER_MAX_EXPOSURE,
        &[
            "IPAddressDeny=any",
            "Environment=KADR_WORKER__OUTBOUND=false",
        ],
    );
}

/// The outbound worker (URL imports, mail) must reach the Internet, so it cannot deny every
/// address; the rest of its confinement is the transcode worker's (1.1 with systemd 252).
#[test]
fn outbound_unit_is_confined_but_for_its_network() {
    confined(
        "kadr-outbound.service",
        OUTBOUND_MAX_EXPOSURE,
        &[
            "IPAddressDeny=link-local multicast 100.64.0.0/10 192.0.0.0/24 198.18.0.0/15 240.0.0.0/4",
            "Environment=KADR_WORKER__KINDS=[\"fetch\",\"mail\",\"webhook\"]",
        ],
    );
}

const OUTBOUND_MAX_EXPOSURE: u32 = 12;

fn confined(name: &str, max: u32, own: &[&str]) {
    let unit = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy/systemd")
        .join(name);
    // --offline reads the file itself: no running systemd, no kadr user or binary needed.
    let Ok(out) = Command::new("systemd-analyze")
        .args(["security", "--offline=true"])
        .arg(format!("--threshold={max}"))
        .arg(&unit)
        .output()
    else {
        panic!("systemd-analyze (250 or later) is needed for this test (Debian package systemd)");
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let overall = stdout
        .lines()
        .find(|l| l.contains("Overall exposure level"))
        .unwrap_or("no overall exposure level printed");
    assert!(
        out.status.success(),
        "{}: exposure above {max} tenths: {overall}\n{stderr}",
        unit.display()
    );
    // Unknown or malformed settings are only warned about; they would weaken the unit silently.
    assert!(stderr.trim().is_empty(), "{}: {stderr}", unit.display());

    let text = std::fs::read_to_string(&unit).unwrap();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    for want in WORKER_LINES.iter().chain(own) {
        assert!(lines.contains(want), "{}: no {want}", unit.display());
    }
    for key in WORKER_LIMITS {
        assert!(
            lines
                .iter()
                .any(|l| l.len() > key.len() && l.starts_with(key)),
            "{}: no {key}",
            unit.display()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The reverse proxy's rule (deploy/k8s/proxy/kadr.conf, used by compose and Kubernetes alike)
// against the services' real routes, and the worker's queue gauges that autoscaling reads.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::{Kadr, command, get};
use kadr_db::testing::TestDatabase;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

const PROXY_CONF: &str = "deploy/k8s/proxy/kadr.conf";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    UploadApi,
    Api,
}

impl Service {
    fn upstream(self) -> &'static str {
        match self {
            Service::UploadApi => "kadr_upload_api",
            Service::Api => "kadr_api",
        }
    }

    fn from_upstream(name: &str) -> Service {
        match name {
            "kadr_upload_api" => Service::UploadApi,
            "kadr_api" => Service::Api,
            other => panic!("{PROXY_CONF}: the map names an unknown upstream {other:?}"),
        }
    }
}

/// One piece of a map pattern, in the subset of regular expressions the proxy file keeps to.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Lit(char),
    /// `[^/]+`: one path segment.
    Segment,
    /// `[A-Z]+`: any method.
    Upper,
    /// `(A|B)`: one of these texts.
    Alt(Vec<String>),
}

#[derive(Debug)]
struct Rule {
    source: String,
    toks: Vec<Tok>,
    /// Ends with `$`; otherwise a prefix.
    whole: bool,
    service: Service,
}

fn parse_pattern(p: &str) -> (Vec<Tok>, bool) {
    let body = p
        .strip_prefix("~^")
        .unwrap_or_else(|| panic!("{PROXY_CONF}: pattern {p:?} is not an anchored regex"));
    let (body, whole) = match body.strip_suffix('$') {
        Some(b) => (b, true),
        None => (body, false),
    };
    let mut toks = Vec::new();
    let mut rest = body;
    while let Some(c) = rest.chars().next() {
        if let Some(r) = rest.strip_prefix("[^/]+") {
            toks.push(Tok::Segment);
            rest = r;
        } else if let Some(r) = rest.strip_prefix("[A-Z]+") {
            toks.push(Tok::Upper);
            rest = r;
        } else if let Some(r) = rest.strip_prefix('(') {
            let end = r
                .find(')')
                .unwrap_or_else(|| panic!("{PROXY_CONF}: unclosed group in {p:?}"));
            let alts: Vec<String> = r[..end].split('|').map(str::to_owned).collect();
            for a in &alts {
                assert!(
                    !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || c == '/'),
                    "{PROXY_CONF}: group {a:?} in {p:?} is not plain text"
                );
            }
            toks.push(Tok::Alt(alts));
            rest = &r[end + 1..];
        } else if let Some(r) = rest.strip_prefix("\\.") {
            toks.push(Tok::Lit('.'));
            rest = r;
        } else {
            assert!(
                !".*+?[]{}()|\\^$".contains(c),
                "{PROXY_CONF}: {p:?} uses {c:?}, outside what tests/it/deploy.rs reads"
            );
            toks.push(Tok::Lit(c));
            rest = &rest[c.len_utf8()..];
        }
    }
    (toks, whole)
}

/// Whether `toks` match a prefix of `s` (all of it when `whole`).
fn matches(toks: &[Tok], s: &str, whole: bool) -> bool {
    let Some((first, more)) = toks.split_first() else {
        return !whole || s.is_empty();
    };
    match first {
        Tok::Lit(c) => s
            .strip_prefix(*c)
            .is_some_and(|rest| matches(more, rest, whole)),
        Tok::Alt(alts) => alts.iter().any(|a| {
            s.strip_prefix(a.as_str())
                .is_some_and(|rest| matches(more, rest, whole))
        }),
        Tok::Segment | Tok::Upper => {
            let ok = |c: char| match first {
                Tok::Segment => c != '/',
                _ => c.is_ascii_uppercase(),
            };
            let run = s.chars().take_while(|c| ok(*c)).count();
            (1..=run).rev().any(|n| matches(more, &s[n..], whole))
        }
    }
}

/// The map of the proxy file: its rules in order and the default service.
fn proxy_rules() -> (Vec<Rule>, Service) {
    let text = std::fs::read_to_string(repo().join(PROXY_CONF)).unwrap();
    let start = text
        .find("map \"$request_method $uri\" $kadr_service {")
        .unwrap_or_else(|| panic!("{PROXY_CONF}: no map on \"$request_method $uri\""));
    let block = &text[start..];
    let block = &block[block.find('{').unwrap() + 1..block.find("\n}").unwrap()];
    let mut rules = Vec::new();
    let mut default = None;
    for line in block.lines() {
        let line = line.split('#').next().unwrap().trim();
        if line.is_empty() {
            continue;
        }
        let line = line
            .strip_suffix(';')
            .unwrap_or_else(|| panic!("{PROXY_CONF}: {line:?} does not end with ';'"));
        if let Some(name) = line.strip_prefix("default") {
            default = Some(Service::from_upstream(name.trim()));
            continue;
        }
        let (pattern, upstream) = line
            .strip_prefix('"')
            .and_then(|l| l.split_once('"'))
            .unwrap_or_else(|| panic!("{PROXY_CONF}: {line:?} is not \"pattern\" upstream"));
        let (toks, whole) = parse_pattern(pattern);
        rules.push(Rule {
            source: pattern.to_owned(),
            toks,
            whole,
            service: Service::from_upstream(upstream.trim()),
        });
    }
    (rules, default.expect("the map has a default"))
}

/// Where the proxy sends `method path`, and the rule that decided.
fn proxied(rules: &(Vec<Rule>, Service), method: &str, path: &str) -> (Service, String) {
    let key = format!("{method} {path}");
    rules
        .0
        .iter()
        .find(|r| matches(&r.toks, &key, r.whole))
        .map_or((rules.1, "default".to_owned()), |r| {
            (r.service, r.source.clone())
        })
}

#[test]
fn deploy_proxy_patterns_read_as_nginx_reads_them() {
    let rules = proxy_rules();
    assert!(rules.0.len() > 10);
    let to = |m: &str, p: &str| proxied(&rules, m, p).0;
    assert_eq!(to("DELETE", "/api/v1/videos/abc"), Service::UploadApi);
    assert_eq!(to("PATCH", "/api/v1/videos/abc"), Service::Api);
    assert_eq!(to("GET", "/api/v1/videos/abc/comments"), Service::Api);
    assert_eq!(to("GET", "/api/v1/videos/abc/source"), Service::UploadApi);
    assert_eq!(to("GET", "/api/v1/me"), Service::UploadApi);
    assert_eq!(to("GET", "/api/v1/me/videos"), Service::Api);
    assert_eq!(to("GET", "/api/v1/mex"), Service::Api);
    assert_eq!(
        to("POST", "/api/v1/auth/password-reset/confirm"),
        Service::UploadApi
    );
    assert_eq!(to("GET", "/"), Service::Api);
    let (toks, whole) = parse_pattern("~^(GET|HEAD) /a/[^/]+$");
    assert!(matches(&toks, "HEAD /a/x", whole));
    assert!(!matches(&toks, "HEAD /a/x/y", whole));
    assert!(!matches(&toks, "POST /a/x", whole));
}

/// Every operation of the OpenAPI document `kadr all` serves, as (METHOD, path template).
fn operations() -> Vec<(String, String)> {
    let doc = kadr_catalog::openapi::merged(kadr_upload_api::openapi());
    let json = serde_json::to_value(&doc).unwrap();
    let mut ops = Vec::new();
    for (path, item) in json["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "put", "post", "delete", "patch", "head", "options"]
                .contains(&method.as_str())
            {
                ops.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops.sort();
    ops
}

/// Which service documents an operation: the upload API's document or the catalog's.
fn documented_by(method: &str, path: &str) -> Service {
    let upload = serde_json::to_value(kadr_upload_api::openapi()).unwrap();
    let api = serde_json::to_value(kadr_catalog::openapi::document()).unwrap();
    let has = |doc: &serde_json::Value| doc["paths"][path][method.to_lowercase()].is_object();
    assert!(
        has(&upload) != has(&api),
        "{method} {path}: in both documents or neither"
    );
    if has(&upload) {
        Service::UploadApi
    } else {
        Service::Api
    }
}

/// A concrete path for a template: every `{param}` filled with something that parses.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = open + rest[open..].find('}').unwrap();
        out.push_str(match &rest[open + 1..close] {
            "handle" | "username" => "nobody",
            "image" => "avatar",
            "target_type" => "video",
            _ => "0193a5c2-7b1e-7cc0-8f00-000000000001",
        });
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

/// An answer, reduced to what tells a handler's from the router's "no such route".
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    /// Header names, less those that differ between any two answers.
    headers: Vec<String>,
    length: Option<String>,
    body: String,
}

async fn ask(client: &reqwest::Client, method: &str, url: &str) -> Answer {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut req = client.request(m.clone(), url);
    if matches!(method, "POST" | "PUT" | "PATCH") {
        req = req.header("content-type", "application/json").body("{}");
    }
    let res = req.send().await.unwrap();
    let mut headers: Vec<String> = res
        .headers()
        .keys()
        .map(|k| k.as_str().to_owned())
        .filter(|k| !matches!(k.as_str(), "date" | "x-request-id" | "content-length"))
        .collect();
    headers.sort();
    let length = res
        .headers()
        .get("content-length")
        .map(|v| v.to_str().unwrap_or("").to_owned());
    Answer {
        status: res.status().as_u16(),
        headers,
        length,
        body: res.text().await.unwrap(),
    }
}

/// Whether `answer` is the router's answer for a route it does not have: the problem body says
/// so; a HEAD answer has no body, so it is compared with the server's HEAD on a made-up route.
fn no_route(method: &str, answer: &Answer, unknown_head: &Answer) -> bool {
    if method == "HEAD" {
        answer.status == unknown_head.status
            && answer.headers == unknown_head.headers
            && answer.length == unknown_head.length
    } else {
        answer.status == 404 && answer.body.contains("no such route")
    }
}

/// nginx serving the proxy file with its upstreams pointed at local ports.
struct Nginx {
    child: std::process::Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nginx_binary() -> PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain([PathBuf::from("/usr/sbin")])
        .map(|d| d.join("nginx"))
        .find(|p| p.is_file())
        .expect("nginx is needed for this test (Debian package nginx-light; deploy/install-deps.sh --test)")
}

fn start_nginx(upload_api: std::net::SocketAddr, api: std::net::SocketAddr) -> Nginx {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let text = std::fs::read_to_string(repo().join(PROXY_CONF)).unwrap();
    let swap = |text: &str, from: &str, to: &str| {
        assert_eq!(text.matches(from).count(), 1, "{PROXY_CONF}: one {from:?}");
        text.replace(from, to)
    };
    let text = swap(&text, "server kadr-api:8082;", &format!("server {api};"));
    let text = swap(
        &text,
        "server kadr-upload-api:8081;",
        &format!("server {upload_api};"),
    );
    let text = swap(&text, "listen 8080;", &format!("listen 127.0.0.1:{port};"));
    let d = dir.path().display();
    std::fs::write(dir.path().join("kadr.conf"), text).unwrap();
    std::fs::write(
        dir.path().join("nginx.conf"),
        format!(
            "pid {d}/nginx.pid;\nerror_log {d}/error.log;\ndaemon off;\nmaster_process off;\n\
             events {{}}\nhttp {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  \
             proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  \
             uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  include {d}/kadr.conf;\n}}\n"
        ),
    )
    .unwrap();
    let child = std::process::Command::new(nginx_binary())
        .arg("-p")
        .arg(dir.path())
        .arg("-e")
        .arg(dir.path().join("error.log"))
        .arg("-c")
        .arg(dir.path().join("nginx.conf"))
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    Nginx {
        child,
        addr: format!("127.0.0.1:{port}"),
        _dir: dir,
    }
}

/// `kadr migrate up` on a test database, then the environment every role shares.
fn role_env(tdb: &TestDatabase, data: &Path) -> Vec<(String, String)> {
    let env: Vec<(String, String)> = [
        ("KADR_DATABASE__URL", tdb.url().to_owned()),
        ("KADR_DATA_DIR", data.display().to_string()),
        ("KADR_UPLOAD_API__LISTEN", "127.0.0.1:0".to_owned()),
        ("KADR_API__LISTEN", "127.0.0.1:0".to_owned()),
        ("KADR_WORKER__LISTEN", "127.0.0.1:0".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let out = command(&["migrate", "up"])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    env
}

#[tokio::test]
async fn deploy_proxy_sends_every_operation_to_the_service_that_serves_it() {
    let rules = proxy_rules();
    let ops = operations();
    assert!(ops.len() > 50, "{ops:?}");

    // (a) The proxy's rule agrees with which service documents each operation.
    let mut wrong = Vec::new();
    for (method, path) in &ops {
        let (to, rule) = proxied(&rules, method, &concrete(path));
        let owner = documented_by(method, path);
        if to != owner {
            wrong.push(format!(
                "{method} {path}: the proxy sends it to {} ({rule}), {} serves it",
                to.upstream(),
                owner.upstream()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // (b) Each service really serves what is sent to it, and the other does not.
    let tdb = TestDatabase::new().await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let env = role_env(&tdb, data.path());
    let start = |role: &str| {
        let mut cmd = command(&[role]);
        cmd.envs(env.iter().map(|(k, v)| (k, v)));
        Kadr::start(cmd)
    };
    let upload_api = start("upload-api");
    let api = start("api");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = |s: Service| match s {
        Service::UploadApi => format!("http://{}", upload_api.addr),
        Service::Api => format!("http://{}", api.addr),
    };
    let unknown = "/api/v1/no-such-route-anywhere";
    let unknown_head = [
        ask(
            &client,
            "HEAD",
            &format!("{}{unknown}", base(Service::UploadApi)),
        )
        .await,
        ask(&client, "HEAD", &format!("{}{unknown}", base(Service::Api))).await,
    ];
    let head_of = |s: Service| match s {
        Service::UploadApi => &unknown_head[0],
        Service::Api => &unknown_head[1],
    };
    // The operations, and paths outside the document that the api serves.
    let mut all: Vec<(String, String, Service)> = ops
        .iter()
        .map(|(m, p)| (m.clone(), p.clone(), documented_by(m, p)))
        .collect();
    for (m, p) in [
        ("GET", "/api/openapi.json"),
        ("GET", "/api/docs"),
        ("GET", "/media/{id}/hls/master.m3u8"),
        ("GET", "/"),
        ("GET", "/watch/{id}"),
    ] {
        assert_eq!(proxied(&rules, m, &concrete(p)).0, Service::Api, "{m} {p}");
        all.push((m.to_owned(), p.to_owned(), Service::Api));
    }
    let mut wrong = Vec::new();
    for (method, path, owner) in &all {
        let other = match owner {
            Service::UploadApi => Service::Api,
            Service::Api => Service::UploadApi,
        };
        let url_path = concrete(path);
        let at_owner = ask(&client, method, &format!("{}{url_path}", base(*owner))).await;
        if no_route(method, &at_owner, head_of(*owner)) {
            wrong.push(format!(
                "{method} {path}: {} has no such route: {at_owner:?}",
                owner.upstream()
            ));
        }
        let at_other = ask(&client, method, &format!("{}{url_path}", base(other))).await;
        if !no_route(method, &at_other, head_of(other)) {
            wrong.push(format!(
                "{method} {path}: {} answers it too: {at_other:?}",
                other.upstream()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // (c) Through nginx itself with this very file: nothing reaches a service without it.
    let nginx = start_nginx(upload_api.addr, api.addr);
    let proxy = format!("http://{}", nginx.addr);
    let started = Instant::now();
    loop {
        if let Ok(r) = client.get(format!("{proxy}/proxy-healthz")).send().await
            && r.status() == 200
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "nginx did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut wrong = Vec::new();
    for (method, path, owner) in &all {
        let through = ask(&client, method, &format!("{proxy}{}", concrete(path))).await;
        if no_route(method, &through, head_of(*owner)) || through.status == 502 {
            wrong.push(format!("{method} {path} through the proxy: {through:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // A tus creation's answer came from the upload-api (its own header), through the proxy.
    let opts = ask(&client, "OPTIONS", &format!("{proxy}/api/v1/uploads")).await;
    assert!(opts.headers.contains(&"tus-version".to_owned()), "{opts:?}");
    drop(nginx);
    api.terminate(Duration::from_secs(10));
    upload_api.terminate(Duration::from_secs(10));
}

/// The Ingress sends everything to the proxy, which applies the rule above (Ingress rules
/// cannot tell methods apart).
#[test]
fn deploy_ingress_sends_everything_to_the_proxy() {
    let text = std::fs::read_to_string(repo().join("deploy/k8s/ingress.yaml")).unwrap();
    let names: Vec<&str> = text
        .lines()
        .map(str::trim)
        .zip(text.lines().map(str::trim).skip(1))
        .filter(|(a, _)| *a == "service:")
        .map(|(_, b)| b.trim_start_matches("name:").trim())
        .collect();
    assert!(!names.is_empty(), "no backend service in the Ingress");
    assert!(
        names.iter().all(|n| *n == "kadr-proxy"),
        "the Ingress must send everything to kadr-proxy: {names:?}"
    );
    let kustomization =
        std::fs::read_to_string(repo().join("deploy/k8s/kustomization.yaml")).unwrap();
    assert!(
        kustomization.contains("proxy/kadr.conf"),
        "kadr-proxy's ConfigMap is generated from {PROXY_CONF}"
    );
    let compose = std::fs::read_to_string(repo().join("deploy/compose.yaml")).unwrap();
    assert!(
        compose.contains("./k8s/proxy/kadr.conf:/etc/nginx/conf.d/default.conf"),
        "compose's proxy mounts {PROXY_CONF}"
    );
}

/// Reads one sample of the Prometheus text, `name{labels} value`.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

#[tokio::test]
async fn deploy_worker_exports_the_queue_depth_and_oldest_job_age() {
    use sea_orm::{ConnectionTrait, Database};

    let tdb = TestDatabase::new().await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let env = role_env(&tdb, data.path());
    let db = Database::connect(tdb.url()).await.unwrap();
    // Ready: three transcodes (the oldest due 90 s ago) and a mail. Not ready: a transcode
    // waiting out its backoff, one running, one done.
    db.execute_unprepared(
        "INSERT INTO jobs (id, queue, max_attempts, run_at, state) VALUES
           (gen_random_uuid(), 'transcode', 5, now() - interval '90 seconds', 'queued'),
           (gen_random_uuid(), 'transcode', 5, now() - interval '10 seconds', 'queued'),
           (gen_random_uuid(), 'transcode', 5, now(), 'queued'),
           (gen_random_uuid(), 'mail', 5, now() - interval '30 seconds', 'queued'),
           (gen_random_uuid(), 'transcode', 5, now() + interval '1 hour', 'queued'),
           (gen_random_uuid(), 'transcode', 5, now() - interval '1 hour', 'running'),
           (gen_random_uuid(), 'transcode', 5, now() - interval '1 hour', 'done')",
    )
    .await
    .unwrap();
    // A worker that claims none of them.
    let mut cmd = command(&["worker"]);
    cmd.envs(env.iter().map(|(k, v)| (k, v)))
        .env("KADR_WORKER__KINDS", "[\"sweep_throttle\"]");
    let worker = Kadr::start(cmd);

    let read = || async { get(&worker.url("/metrics")).await.2 };
    let started = Instant::now();
    let metrics = loop {
        let m = read().await;
        if sample(&m, "kadr_queue_depth{kind=\"transcode\"}") == Some(3.0) {
            break m;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no kadr_queue_depth{{kind=\"transcode\"}} 3 on the worker's /metrics:\n{m}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        sample(&metrics, "kadr_queue_depth{kind=\"mail\"}"),
        Some(1.0)
    );
    // The running one is counted apart (an autoscaler adds it, so as not to stop busy workers).
    assert_eq!(
        sample(&metrics, "kadr_queue_running{kind=\"transcode\"}"),
        Some(1.0)
    );
    assert_eq!(
        sample(&metrics, "kadr_queue_running{kind=\"mail\"}"),
        Some(0.0)
    );
    // Queued kinds with nothing ready are there, at 0 (autoscalers find a series).
    assert_eq!(
        sample(&metrics, "kadr_queue_depth{kind=\"cleanup\"}"),
        Some(0.0)
    );
    let oldest = sample(&metrics, "kadr_queue_oldest_seconds{kind=\"transcode\"}").unwrap();
    assert!((90.0..200.0).contains(&oldest), "{oldest}");
    let mail = sample(&metrics, "kadr_queue_oldest_seconds{kind=\"mail\"}").unwrap();
    assert!((30.0..140.0).contains(&mail), "{mail}");
    assert!(
        metrics.contains("# TYPE kadr_queue_depth gauge"),
        "{metrics}"
    );

    // The queue drains: the gauges follow within a refresh or two.
    db.execute_unprepared("UPDATE jobs SET state = 'done' WHERE queue = 'transcode'")
        .await
        .unwrap();
    let started = Instant::now();
    loop {
        let m = read().await;
        if sample(&m, "kadr_queue_depth{kind=\"transcode\"}") == Some(0.0) {
            assert_eq!(
                sample(&m, "kadr_queue_oldest_seconds{kind=\"transcode\"}"),
                Some(0.0)
            );
            assert_eq!(sample(&m, "kadr_queue_depth{kind=\"mail\"}"), Some(1.0));
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "kadr_queue_depth{{kind=\"transcode\"}} did not fall to 0:\n{m}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    db.close().await.unwrap();
    let (status, elapsed) = worker.terminate(Duration::from_secs(15));
    assert!(status.success(), "{status}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}
