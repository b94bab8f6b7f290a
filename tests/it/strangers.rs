//! What the platform tells strangers, through `kadr all`: security headers on the web UI, its
//! assets, the API and its docs page; problem bodies with a request id and no internals; URLs
//! that never come from a client's `Host`; bounded metric labels and an internal metrics
//! listener; and a generated admin password kept in a private file, not in the log.

use std::io::{Read, Write};
use std::net::TcpStream;

use crate::common::{Backend, Kadr, Stack, command, get_json, http, register_and_login, send_json};
use serde_json::json;

fn assert_security_headers(what: &str, headers: &reqwest::header::HeaderMap) {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let csp = get("content-security-policy");
    for part in [
        "default-src 'self'",
        "script-src 'self';",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "media-src 'self' blob:",
        "worker-src 'self' blob:",
    ] {
        assert!(csp.contains(part), "{what}: CSP {csp:?} lacks {part}");
    }
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(
        get("referrer-policy"),
        "strict-origin-when-cross-origin",
        "{what}"
    );
    assert!(!get("x-request-id").is_empty(), "{what}: no request id");
}

/// A raw HTTP/1.1 exchange, for headers and methods reqwest would not send.
fn raw(addr: &std::net::SocketAddr, request: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_strangers_see() {
    // A web UI of the test's own, so the page and an asset exist whatever was built.
    let web = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(web.path().join("assets")).unwrap();
    std::fs::write(
        web.path().join("index.html"),
        "<!doctype html><title>Kadr</title><script type=module src=/assets/app.js></script>",
    )
    .unwrap();
    std::fs::write(web.path().join("assets/app.js"), "console.log('kadr')").unwrap();
    let metrics_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let metrics_at = format!("127.0.0.1:{metrics_port}");
    let stack = Stack::start(
        Backend::Local,
        &[
            ("KADR_API__WEB_DIR", web.path().to_str().unwrap()),
            ("KADR_SERVER__METRICS_LISTEN", &metrics_at),
        ],
    )
    .await;
    let base = stack.url("");
    let base = base.trim_end_matches('/');

    for path in [
        "/",
        "/assets/app.js",
        "/api/docs",
        "/api/docs/docs.js",
        "/api/v1/videos",
        "/healthz",
        "/nope",
    ] {
        let res = http().get(format!("{base}{path}")).send().await.unwrap();
        assert_security_headers(path, res.headers());
    }
    // The docs page loads nothing from elsewhere.
    let docs = http()
        .get(format!("{base}/api/docs"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!docs.contains("https://"), "{docs}");
    assert!(docs.contains("/api/docs/docs.js"), "{docs}");

    // A problem names its request, as the header and the log line do.
    let res = http()
        .get(format!(
            "{base}/api/v1/videos/00000000-0000-0000-0000-000000000000"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["request_id"], id.as_str(), "{body}");
    assert_eq!(body["code"], "not_found");

    // A client's Host and X-Forwarded-Host never reach a URL.
    let alice = register_and_login(base, "alice").await;
    let (status, created) = send_json(
        http()
            .post(format!("{base}/api/v1/videos"))
            .bearer_auth(&alice)
            .header("Host", "evil.example")
            .header("X-Forwarded-Host", "evil.example")
            .header("X-Forwarded-Proto", "https")
            .header("Forwarded", "host=evil.example;proto=https"),
        &json!({ "title": "Where am I", "size": 10 }),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let upload_url = created["upload"]["url"].as_str().unwrap();
    assert!(
        upload_url.starts_with(&format!("http://{}/", stack.kadr.addr)),
        "{upload_url}"
    );
    let (_, page) = get_json(&format!("{base}/api/v1/videos"), None).await;
    assert!(!page.to_string().contains("evil"), "{page}");

    // Invented methods are counted as OTHER; metrics are served on the internal listener
    // only.
    let answer = raw(
        &stack.kadr.addr,
        "BREW /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 "), "{answer}");
    assert_eq!(
        http()
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let metrics = http()
        .get(format!("http://{metrics_at}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("method=\"OTHER\""), "{metrics}");
    assert!(!metrics.contains("BREW"), "{metrics}");
}

#[test]
fn admin_password_is_kept_private() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("var");
    let kadr = Kadr::start(command(&[
        "all",
        "--data-dir",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]));
    let file = data.join("admin-password");
    let password = std::fs::read_to_string(&file).unwrap();
    let password = password.trim();
    assert!(password.len() >= 20, "{password:?}");
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let log = kadr.log();
    assert!(
        !log.contains(password),
        "the password is in the log:\n{log}"
    );
    assert!(
        log.contains("admin-password"),
        "the log does not say where:\n{log}"
    );
    // And it signs in.
    let base = kadr.url("");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let token = crate::common::login(base.trim_end_matches('/'), "admin", password).await;
        assert!(!token.is_empty());
    });
    drop(kadr);

    // `kadr config` shows the effective configuration without the secrets.
    let out = command(&["config"])
        .env("KADR_ADMIN_PASSWORD", "s3cret-admin-pass")
        .env(
            "KADR_API__MEDIA_SECRET",
            "a media secret that is long enough, 32+",
        )
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(!text.contains("s3cret-admin-pass"), "{text}");
    assert!(!text.contains("a media secret"), "{text}");
}
