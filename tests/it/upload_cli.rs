//! `kadr upload`: uploads a file and prints the video id; killed mid-way, the same command
//! resumes the same upload; a refused token is said in words.

use std::time::{Duration, Instant};

use crate::common::{
    Backend, Stack, bunny, command, http, make_file, register_and_login, sha256_file, source_sha256,
};

const MIB: usize = 1024 * 1024;

fn upload_cmd(
    server: &str,
    token: &str,
    state: &std::path::Path,
    file: &std::path::Path,
) -> std::process::Command {
    let mut cmd = command(&[
        "upload",
        file.to_str().unwrap(),
        "--title",
        "Клип",
        "--privacy",
        "unlisted",
    ]);
    cmd.env("KADR_SERVER_URL", server)
        .env("KADR_TOKEN", token)
        .env("XDG_STATE_HOME", state);
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_command_uploads_and_resumes() {
    let stack = Stack::start(Backend::Local, &[]).await;
    let base = stack.url("");
    let token = register_and_login(&base, "cli-user").await;
    let state = stack.dir.path().join("state");

    // A whole upload.
    let out = upload_cmd(&base, &token, &state, &bunny())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let video = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert_eq!(video.len(), 36, "prints the video id: {video:?}");
    assert_eq!(
        source_sha256(&base, &token, &video).await.0,
        sha256_file(&bunny())
    );

    // Killed mid-way, then run again: the same upload goes on.
    let file = stack.dir.path().join("long.bin");
    make_file(&file, 200 * MIB, 7);
    let mut cmd = upload_cmd(&base, &token, &state, &file);
    cmd.args(["--chunk-mib", "1"]);
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let state_file = state.join("kadr/uploads.json");
    let started = Instant::now();
    let url = loop {
        if let Ok(text) = std::fs::read_to_string(&state_file)
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            && let Some((_, entry)) = v["uploads"].as_object().and_then(|m| m.iter().next())
        {
            break entry["url"].as_str().unwrap().to_owned();
        }
        assert!(started.elapsed() < Duration::from_secs(30));
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    loop {
        let res = http()
            .head(&url)
            .bearer_auth(&token)
            .header("Tus-Resumable", "1.0.0")
            .send()
            .await
            .unwrap();
        let offset: u64 = res.headers()["upload-offset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            offset < 200 * MIB as u64,
            "finished before it could be interrupted"
        );
        if offset >= 16 * MIB as u64 {
            child.kill().unwrap();
            child.wait().unwrap();
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let out = upload_cmd(&base, &token, &state, &file).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("resuming video"), "{stderr}");
    let video = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(url.contains('/'), "{url}");
    assert_eq!(
        source_sha256(&base, &token, &video).await.0,
        sha256_file(&file)
    );
    // Done uploads are forgotten.
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state_file).unwrap()).unwrap();
    assert!(v["uploads"].as_object().unwrap().is_empty());

    // A bad token is refused in words, with a failing exit code.
    let out = upload_cmd(&base, "kadr_not-a-token", &state, &bunny())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("401") && stderr.contains("not valid"),
        "{stderr}"
    );
}

/// The token never crosses a network in the clear, and goes only where it was given.
#[test]
fn upload_command_keeps_the_token_safe() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("clip.bin");
    make_file(&file, 1000, 7);
    let run = |server: &str, extra: &[&str]| {
        let mut cmd = upload_cmd(server, "kadr_secret", dir.path(), &file);
        cmd.args(extra);
        let out = cmd.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // Plain http to another host: refused before any connection.
    let (ok, err) = run("http://192.0.2.10:8080", &[]);
    assert!(!ok && err.contains("refusing to send the token"), "{err}");
    // With --insecure it tries (and here cannot connect: a documentation address).
    let (ok, err) = run("http://192.0.2.10:1", &["--insecure"]);
    assert!(!ok && !err.contains("refusing"), "{err}");
    // https speaks TLS: a plain-HTTP listener on loopback is not mistaken for a server.
    let plain = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = plain.local_addr().unwrap();
    std::thread::spawn(move || {
        use std::io::Write;
        for mut c in plain.incoming().flatten() {
            let _ = c.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
        }
    });
    let (ok, err) = run(&format!("https://{addr}"), &[]);
    assert!(!ok, "{err}");
    assert!(!err.contains("refusing"), "{err}");
}

/// A server that answers the creation with an upload URL on another origin gets no token there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_command_sends_the_token_to_its_origin_only() {
    use std::io::{BufRead, BufReader, Write};
    // A fake server whose creation points elsewhere; the elsewhere counts what it is sent.
    let elsewhere = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let elsewhere_addr = elsewhere.local_addr().unwrap();
    let leaked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = leaked.clone();
    std::thread::spawn(move || {
        for c in elsewhere.incoming().flatten() {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(c);
        }
    });
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server_addr = server.local_addr().unwrap();
    std::thread::spawn(move || {
        for c in server.incoming().flatten() {
            // The headers, then the JSON body the creation sends.
            let mut reader = BufReader::new(c.try_clone().unwrap());
            let mut line = String::new();
            let mut length = 0usize;
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                line.clear();
            }
            let mut body = vec![0; length];
            let _ = std::io::Read::read_exact(&mut reader, &mut body);
            let mut c = c;
            let body = format!(
                r#"{{"id":"00000000-0000-0000-0000-000000000001","upload":{{"url":"http://{elsewhere_addr}/api/v1/uploads/x"}}}}"#
            );
            let _ = c.write_all(
                format!(
                    "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\n\
                     content-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                )
                .as_bytes(),
            );
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("clip.bin");
    make_file(&file, 1000, 7);
    let out = upload_cmd(
        &format!("http://{server_addr}"),
        "kadr_secret",
        dir.path(),
        &file,
    )
    .output()
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("not sent there"), "{err}");
    assert_eq!(leaked.load(std::sync::atomic::Ordering::SeqCst), 0);
}
