//! Account basics through `kadr all` and a real SMTP server process (aiosmtpd, from
//! `make test-deps`): password reset and address checks by mail, read back from the server;
//! password change, sessions, and deleting an account with everything it made.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

use crate::common::{
    ADMIN_PASSWORD, Backend, Stack, call, clip, creator, get_json, http, login, post_comment,
    register_and_login, send_json, until, upload_with, wait_ready,
};

/// aiosmtpd on a free port, writing what it receives into a directory.
struct SmtpServer {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

impl SmtpServer {
    fn start() -> SmtpServer {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let python = root.join("target/mail-venv/bin/python");
        assert!(
            python.is_file(),
            "no {}: run `make test-deps` (it installs aiosmtpd)",
            python.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(python)
            .arg(root.join("tests/mail/smtp_sink.py"))
            .arg(dir.path())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        std::io::BufRead::read_line(&mut out, &mut line).unwrap();
        let port = line
            .trim()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the SMTP server said {line:?}"));
        SmtpServer { child, dir, port }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn messages(&self) -> Vec<PathBuf> {
        let mut all: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        all.sort();
        all
    }

    /// Waits for the `n`-th message (1-based) and returns its headers and decoded text.
    async fn message(&self, n: usize) -> (String, String) {
        let started = Instant::now();
        loop {
            if let Some(p) = self.messages().get(n - 1) {
                let raw = std::fs::read_to_string(p).unwrap().replace("\r\n", "\n");
                let (head, body) = raw.split_once("\n\n").unwrap();
                let text = if head
                    .to_ascii_lowercase()
                    .contains("content-transfer-encoding: base64")
                {
                    let joined: String = body.split_whitespace().collect();
                    String::from_utf8(
                        base64::engine::general_purpose::STANDARD
                            .decode(joined)
                            .unwrap(),
                    )
                    .unwrap()
                } else {
                    body.to_owned()
                };
                return (head.to_owned(), text);
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no message {n} arrived"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let _ = self.child.wait();
    }
}

/// The token of the link `{path}?token=…` in a mail's text.
fn token_in(text: &str, path: &str) -> String {
    let at = text
        .find(&format!("{path}?token="))
        .unwrap_or_else(|| panic!("no {path} link in {text}"));
    text[at + path.len() + 7..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

async fn me(base: &str, token: &str) -> (u16, Value) {
    get_json(&format!("{base}/api/v1/me"), Some(token)).await
}

#[tokio::test]
async fn password_reset_and_address_checks_go_by_mail() {
    let smtp = SmtpServer::start();
    let stack = Stack::start(
        Backend::Local,
        &[
            ("KADR_MAIL__SMTP_URL", &smtp.url()),
            ("KADR_MAIL__FROM", "Kadr <noreply@video.example.org>"),
            ("KADR_SERVER__PUBLIC_URL", "https://video.example.org"),
        ],
    )
    .await;
    let base = stack.url("");
    let c = http();
    let (_, f) = get_json(&format!("{base}/api/v1/features"), None).await;
    assert_eq!(f["mail"], true);
    let bob = register_and_login(&base, "bob").await;
    let (_, m) = me(&base, &bob).await;
    let email = m["email"].as_str().unwrap().to_owned();
    assert_eq!(m["email_verified"], false);
    // Registering sends the address check.
    let (head, text) = smtp.message(1).await;
    assert!(head.contains(&format!("To: {email}")), "{head}");
    assert!(
        text.contains("https://video.example.org/verify-email?token="),
        "{text}"
    );

    // Asked for by address (any case); an unknown login gets the same answer and no mail.
    let reset = format!("{base}/api/v1/auth/password-reset");
    let (status, _) = send_json(c.post(&reset), &json!({ "login": "nobody@example.org" })).await;
    assert_eq!(status, 202);
    let (status, _) = send_json(c.post(&reset), &json!({ "login": email.to_uppercase() })).await;
    assert_eq!(status, 202);
    let (head, text) = smtp.message(2).await;
    assert!(head.contains(&format!("To: {email}")), "{head}");
    assert!(head.contains("noreply@video.example.org"), "{head}");
    assert!(text.contains("Здравствуйте, bob"), "{text}");
    let token = token_in(&text, "https://video.example.org/reset-password");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(smtp.messages().len(), 2, "no mail for an unknown login");

    // The token sets a new password once; every session ends.
    let confirm = format!("{base}/api/v1/auth/password-reset/confirm");
    let (status, v) = send_json(
        c.post(&confirm),
        &json!({ "token": token, "password": "short" }),
    )
    .await;
    assert_eq!((status, v["field"].as_str()), (400, Some("password")));
    let (status, v) = send_json(
        c.post(&confirm),
        &json!({ "token": token, "password": "новый пароль 123" }),
    )
    .await;
    assert_eq!(status, 204, "{v}");
    assert_eq!(me(&base, &bob).await.0, 401, "signed out everywhere");
    let (status, v) = send_json(
        c.post(&confirm),
        &json!({ "token": token, "password": "другой пароль 456" }),
    )
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("invalid_account_token"))
    );
    let (status, _) = send_json(
        c.post(format!("{base}/api/v1/auth/token")),
        &json!({ "username": "bob", "password": "correct horse battery" }),
    )
    .await;
    assert_eq!(status, 401);
    let bob = login(&base, "bob", "новый пароль 123").await;
    let (_, m) = me(&base, &bob).await;
    assert_eq!(m["email_verified"], true, "the mail reached the address");

    // A new address is unchecked until the mail sent to it is answered.
    let (status, m) = call(
        c.patch(format!("{base}/api/v1/me")).bearer_auth(&bob),
        Some(json!({ "email": "Bob.New@Example.org", "display_name": "Боб", "bio": "о себе" })),
    )
    .await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(
        (&m["email"], &m["email_verified"], &m["display_name"]),
        (&json!("bob.new@example.org"), &json!(false), &json!("Боб"))
    );
    let (head, text) = smtp.message(3).await;
    assert!(head.contains("To: bob.new@example.org"), "{head}");
    let check = token_in(&text, "https://video.example.org/verify-email");
    let (status, _) = send_json(
        c.post(format!("{base}/api/v1/auth/email-verification")),
        &json!({ "token": "not-a-token" }),
    )
    .await;
    assert_eq!(status, 400);
    let (status, _) = send_json(
        c.post(format!("{base}/api/v1/auth/email-verification")),
        &json!({ "token": check }),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(me(&base, &bob).await.1["email_verified"], true);
    // Asking again and again is limited (mail.per_hour, 5 by default).
    let mut last = 0;
    for _ in 0..6 {
        last = call(
            c.post(format!("{base}/api/v1/me/email/verification"))
                .bearer_auth(&bob),
            None,
        )
        .await
        .0;
    }
    assert_eq!(last, 429);
}

#[tokio::test]
async fn passwords_sessions_and_leaving() {
    let stack = Stack::start(
        Backend::Local,
        &[
            ("KADR_COMMUNITY__FOLD_INTERVAL_MS", "200"),
            ("KADR_AUTH__REGISTER_MAX_PER_HOUR", "1000"),
        ],
    )
    .await;
    let base = stack.url("");
    let c = http();
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    // Without mail, its features say they are off.
    let (_, f) = get_json(&format!("{base}/api/v1/features"), None).await;
    assert_eq!(f["mail"], false);
    let (status, v) = send_json(
        c.post(format!("{base}/api/v1/auth/password-reset")),
        &json!({ "login": "admin" }),
    )
    .await;
    assert_eq!((status, v["code"].as_str()), (409, Some("mail_off")));

    let bob = register_and_login(&base, "bob").await;
    let phone = login(&base, "bob", "correct horse battery").await;
    let (_, s) = get_json(&format!("{base}/api/v1/me/sessions"), Some(&bob)).await;
    let sessions = s["items"].as_array().unwrap();
    assert_eq!(sessions.len(), 2, "{s}");
    assert_eq!(
        sessions.iter().filter(|s| s["current"] == true).count(),
        1,
        "{s}"
    );
    // Signing out the other session.
    let other = sessions.iter().find(|s| s["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = call(
        c.delete(format!("{base}/api/v1/me/sessions/{other}"))
            .bearer_auth(&bob),
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(me(&base, &phone).await.0, 401);
    assert_eq!(me(&base, &bob).await.0, 200);
    let (status, _) = call(
        c.delete(format!("{base}/api/v1/me/sessions/{other}"))
            .bearer_auth(&admin),
        None,
    )
    .await;
    assert_eq!(status, 404, "nobody else's sessions");

    // Changing the password: the current one is asked; other sessions end, this one stays.
    let phone = login(&base, "bob", "correct horse battery").await;
    let change = format!("{base}/api/v1/me/password");
    let (status, v) = call(
        c.post(&change).bearer_auth(&bob),
        Some(json!({ "current_password": "wrong one!", "new_password": "brand new pass" })),
    )
    .await;
    assert_eq!((status, v["code"].as_str()), (403, Some("wrong_password")));
    let (status, _) = call(
        c.post(&change).bearer_auth(&bob),
        Some(json!({ "current_password": "correct horse battery", "new_password": "brand new pass" })),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(me(&base, &phone).await.0, 401);
    assert_eq!(me(&base, &bob).await.0, 200);
    login(&base, "bob", "brand new pass").await;

    // Leaving: Carol's video, channel and comment go, her likes leave the counts.
    let carol = creator(&base, &admin, "carol").await;
    let file = clip(&stack, "clip.mp4");
    let hers = upload_with(&stack, &carol, &file, &["--title", "Моё"]);
    let alice = creator(&base, &admin, "alice").await;
    let alices = upload_with(&stack, &alice, &file, &["--title", "Алиса"]);
    wait_ready(&base, &carol, &hers).await;
    wait_ready(&base, &alice, &alices).await;
    let (_, top) = post_comment(&base, &alice, &alices, "вопрос", None).await;
    let top = top["id"].as_str().unwrap().to_owned();
    post_comment(&base, &carol, &alices, "ответ", Some(&top)).await;
    let (_, carols_own) = post_comment(&base, &carol, &alices, "моё мнение", None).await;
    post_comment(
        &base,
        &alice,
        &alices,
        "ответ Кэрол",
        carols_own["id"].as_str(),
    )
    .await;
    call(
        c.put(format!("{base}/api/v1/videos/{alices}/rating"))
            .bearer_auth(&carol),
        Some(json!({ "rating": "like" })),
    )
    .await;
    until(
        &format!("{base}/api/v1/videos/{alices}"),
        None,
        "counted",
        |v| v["comments"] == 4 && v["likes"] == 1,
    )
    .await;
    let leave = format!("{base}/api/v1/me/deletion");
    let (status, v) = call(
        c.post(&leave).bearer_auth(&carol),
        Some(json!({ "password": "correct horse battery", "confirm": "alice" })),
    )
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("confirmation_required"))
    );
    let (status, v) = call(
        c.post(&leave).bearer_auth(&carol),
        Some(json!({ "password": "nope nope", "confirm": "carol" })),
    )
    .await;
    assert_eq!((status, v["code"].as_str()), (403, Some("wrong_password")));
    let (status, _) = call(
        c.post(&leave).bearer_auth(&carol),
        Some(json!({ "password": "correct horse battery", "confirm": "CAROL" })),
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(me(&base, &carol).await.0, 401);
    let (status, _) = get_json(&format!("{base}/api/v1/videos/{hers}"), None).await;
    assert_eq!(status, 404, "hidden at once");
    let (status, _) = get_json(&format!("{base}/api/v1/channels/carol"), None).await;
    assert_eq!(status, 404);
    // Then gone: the account, its video rows, its comments (with the reply under her own),
    // and the counts follow.
    until(
        &format!("{base}/api/v1/videos/{alices}"),
        None,
        "the counts without Carol",
        |v| v["comments"] == 1 && v["likes"] == 0,
    )
    .await;
    let db = stack.db().await;
    use sea_orm::ConnectionTrait;
    let started = Instant::now();
    loop {
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT (SELECT count(*) FROM users WHERE username = 'carol')
                      + (SELECT count(*) FROM videos WHERE title = 'Моё')
                      + (SELECT count(*) FROM channels WHERE handle = 'carol') AS n"
                    .to_owned(),
            ))
            .await
            .unwrap()
            .unwrap();
        if row.try_get::<i64>("", "n").unwrap() == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "carol is still there"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, v) = send_json(
        c.post(format!("{base}/api/v1/auth/token")),
        &json!({ "username": "carol", "password": "correct horse battery" }),
    )
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (401, Some("invalid_credentials"))
    );
    // The name is free again.
    register_and_login(&base, "carol").await;
    // Administrators hand over the role before leaving.
    let (status, _) = call(
        c.post(&leave).bearer_auth(&admin),
        Some(json!({ "password": ADMIN_PASSWORD, "confirm": "admin" })),
    )
    .await;
    assert_eq!(status, 403);
}
