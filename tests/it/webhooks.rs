//! Signed webhooks through real processes: `kadr all` delivering to a receiver written in
//! Python (tests/webhooks/receiver.py), which checks every signature itself (HMAC-SHA256 over
//! `t.body`, constant-time compare, stale `t` refused) and records what it accepts. Shown here:
//! signatures verified there and a tampered body refused there; retries after 5xx and after a
//! timeout; the same event id on every delivery of an event (what a receiver de-duplicates
//! by); manual redelivery, also of a delivery that failed for good; secret rotation with its
//! overlap; disabling after persistent failure, with a notification; the events of a real
//! upload and of a URL import reaching their owner's endpoint and nobody else's; and the
//! outbound guard refusing a loopback URL without the allow-list.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::common::{
    ADMIN_PASSWORD, Backend, Stack, call, clip, creator, get_json, hex, http, login,
    register_and_login, testsrc, upload_with, wait_ready,
};
use crate::origin::Origin;

/// The Python receiver, killed when dropped.
struct Receiver {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Receiver {
    fn start(dir: &Path, extra: &[&str]) -> Receiver {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/webhooks/receiver.py");
        let log = dir.join(format!("received-{}.jsonl", rand_suffix()));
        let mut child = Command::new("python3")
            .arg(&script)
            .arg("--log")
            .arg(&log)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3 runs the receiver");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().unwrap();
        Receiver { child, port, log }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    async fn control(&self, settings: Value) {
        let res = http()
            .post(self.url("/_control"))
            .json(&settings)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200);
    }

    /// Every line the receiver logged, accepted or not.
    fn lines(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// What it accepted on `path`.
    fn accepted(&self, path: &str) -> Vec<Value> {
        self.lines()
            .into_iter()
            .filter(|l| l["accepted"] == true && l["path"] == path)
            .collect()
    }

    /// Waits until `ok` holds of what `path` accepted.
    async fn until(&self, path: &str, what: &str, ok: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let got = self.accepted(path);
            if ok(&got) {
                return got;
            }
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "{what}: the receiver has {got:#?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rand_suffix() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

fn allow_loopback() -> Vec<(&'static str, &'static str)> {
    vec![
        ("KADR_OUTBOUND__ALLOW", "[\"127.0.0.1\"]"),
        ("KADR_WEBHOOKS__BACKOFF_BASE_MS", "300"),
        ("KADR_WEBHOOKS__TIMEOUT_SECS", "1"),
    ]
}

async fn register(base: &str, token: &str, body: Value) -> (u16, Value) {
    call(
        http()
            .post(format!("{base}/api/v1/webhooks"))
            .bearer_auth(token),
        Some(body),
    )
    .await
}

async fn post(base: &str, token: &str, path: &str) -> (u16, Value) {
    call(
        http().post(format!("{base}{path}")).bearer_auth(token),
        None,
    )
    .await
}

/// The endpoint's delivery `id` from its log, once `ok` holds of it.
async fn delivery_until(
    base: &str,
    token: &str,
    endpoint: &str,
    id: &str,
    ok: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let (status, page) = get_json(
            &format!("{base}/api/v1/webhooks/{endpoint}/deliveries?limit=100"),
            Some(token),
        )
        .await;
        assert_eq!(status, 200, "{page}");
        let found = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == id)
            .cloned();
        if let Some(d) = &found
            && ok(d)
        {
            return d.clone();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "delivery {id}: {found:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    hex(&mac.finalize().into_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_retried_redelivered_and_rotated() {
    let stack = Stack::start(Backend::Local, &allow_loopback()).await;
    let base = stack.url("");
    let token = register_and_login(&base, "integrator").await;
    let rx = Receiver::start(stack.dir.path(), &[]);

    let (status, ep) = register(
        &base,
        &token,
        json!({ "url": rx.url("/hook"), "events": ["*"], "description": "the CMS" }),
    )
    .await;
    assert_eq!(status, 201, "{ep}");
    let id = ep["id"].as_str().unwrap().to_owned();
    let secret = ep["secret"].as_str().unwrap().to_owned();
    assert!(
        secret.starts_with("whsec_") && secret.len() >= 6 + 43,
        "{secret}"
    );
    // The secret is shown once: not in the listing nor in the endpoint.
    let (_, shown) = get_json(&format!("{base}/api/v1/webhooks/{id}"), Some(&token)).await;
    assert!(shown.get("secret").is_none(), "{shown}");
    assert_eq!(shown["events"], json!(["*"]));
    rx.control(json!({ "secrets": { "/hook": [secret] } }))
        .await;

    // A ping, signed: the Python receiver verifies it and records it.
    let (status, ping) = post(&base, &token, &format!("/api/v1/webhooks/{id}/ping")).await;
    assert_eq!(status, 202, "{ping}");
    let event = ping["event_id"].as_str().unwrap().to_owned();
    let got = rx
        .until("/hook", "the ping", |a| {
            a.iter().any(|l| l["event_id"] == event)
        })
        .await;
    let first = got.iter().find(|l| l["event_id"] == event).unwrap();
    assert_eq!(first["type"], "ping");
    assert_eq!(first["delivery_id"], ping["id"]);
    assert_eq!(first["payload"]["id"], event.as_str());
    assert_eq!(first["payload"]["data"]["endpoint"]["id"], id.as_str());
    let d = delivery_until(&base, &token, &id, ping["id"].as_str().unwrap(), |d| {
        d["state"] == "delivered"
    })
    .await;
    assert_eq!(d["attempts"], 1);
    assert_eq!(d["last_status"], 200);
    assert!(d["last_duration_ms"].as_i64().is_some());

    // Forged requests straight to the receiver: a tampered body with a genuine signature, a
    // wrong secret, and a stale timestamp are all refused there, and nothing is recorded.
    let body = br#"{"id":"00000000-0000-0000-0000-000000000001","type":"ping","created_at":"2026-01-01T00:00:00Z","data":{}}"#;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let genuine = sign(&secret, now, body);
    let tampered = body
        .iter()
        .copied()
        .map(|b| if b == b'1' { b'2' } else { b })
        .collect::<Vec<u8>>();
    for (payload, signature, want) in [
        (tampered.clone(), format!("t={now},v1={genuine}"), 401),
        (
            body.to_vec(),
            format!("t={now},v1={}", sign("whsec_wrong", now, body)),
            401,
        ),
        (
            body.to_vec(),
            format!("t={},v1={}", now - 600, sign(&secret, now - 600, body)),
            400,
        ),
        (body.to_vec(), String::new(), 400),
    ] {
        let res = http()
            .post(rx.url("/hook"))
            .header("content-type", "application/json")
            .header("kadr-event-id", "00000000-0000-0000-0000-000000000001")
            .header("kadr-event-type", "ping")
            .header("kadr-signature", signature)
            .body(payload)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), want);
    }
    // The genuine one is accepted (the receiver's check is not refusing everything).
    let res = http()
        .post(rx.url("/hook"))
        .header("kadr-event-id", "00000000-0000-0000-0000-000000000001")
        .header("kadr-event-type", "ping")
        .header("kadr-signature", format!("t={now},v1={genuine}"))
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let refused: Vec<Value> = rx
        .lines()
        .into_iter()
        .filter(|l| l["accepted"] == false)
        .collect();
    assert_eq!(refused.len(), 4, "{refused:#?}");

    // The receiver fails twice with 500: retried with backoff, then delivered.
    rx.control(json!({ "fail": 2 })).await;
    let (_, retried) = post(&base, &token, &format!("/api/v1/webhooks/{id}/ping")).await;
    let d = delivery_until(&base, &token, &id, retried["id"].as_str().unwrap(), |d| {
        d["state"] == "delivered"
    })
    .await;
    assert_eq!(d["attempts"], 3, "{d}");
    assert_eq!(d["last_status"], 200);

    // The receiver sleeps past the 1 s timeout once: that attempt fails, the next delivers.
    // (The slow request may still be processed by the receiver after Kadr gave up: at least
    // once means the same event id can arrive twice; a receiver de-duplicates by it.)
    rx.control(json!({ "sleep": 1, "sleep_secs": 2.5 })).await;
    let (_, slow) = post(&base, &token, &format!("/api/v1/webhooks/{id}/ping")).await;
    let d = delivery_until(&base, &token, &id, slow["id"].as_str().unwrap(), |d| {
        d["state"] == "delivered"
    })
    .await;
    assert_eq!(d["attempts"], 2, "{d}");
    let slow_event = slow["event_id"].as_str().unwrap();
    let seen = rx
        .until("/hook", "the slow ping", |a| {
            a.iter().any(|l| l["event_id"] == slow_event)
        })
        .await;
    assert!(
        seen.iter()
            .filter(|l| l["event_id"] == slow_event)
            .all(|l| l["delivery_id"] == slow["id"])
    );

    // Manual redelivery: a new delivery (new id), the same event id.
    let (status, again) = post(
        &base,
        &token,
        &format!(
            "/api/v1/webhooks/{id}/deliveries/{}/redeliver",
            ping["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(status, 202, "{again}");
    assert_eq!(again["event_id"], event.as_str());
    assert_ne!(again["id"], ping["id"]);
    assert_eq!(again["redelivery_of"], ping["id"]);
    let got = rx
        .until("/hook", "the redelivery", |a| {
            a.iter().filter(|l| l["event_id"] == event).count() == 2
        })
        .await;
    let deliveries: Vec<&Value> = got
        .iter()
        .filter(|l| l["event_id"] == event)
        .map(|l| &l["delivery_id"])
        .collect();
    assert_eq!(deliveries, vec![&ping["id"], &again["id"]]);

    // Rotation: the receiver still knows only the old secret, and verifies during the
    // overlap (the old secret's signature rides along); then only the new one, which verifies.
    let (status, rotated) = post(&base, &token, &format!("/api/v1/webhooks/{id}/rotate")).await;
    assert_eq!(status, 200, "{rotated}");
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, secret);
    assert!(rotated["previous_secret_until"].is_string(), "{rotated}");
    let (_, p1) = post(&base, &token, &format!("/api/v1/webhooks/{id}/ping")).await;
    let e1 = p1["event_id"].as_str().unwrap().to_owned();
    rx.until("/hook", "a ping signed with the old secret too", |a| {
        a.iter().any(|l| l["event_id"] == e1)
    })
    .await;
    rx.control(json!({ "secrets": { "/hook": [new_secret] } }))
        .await;
    let (_, p2) = post(&base, &token, &format!("/api/v1/webhooks/{id}/ping")).await;
    let e2 = p2["event_id"].as_str().unwrap().to_owned();
    rx.until("/hook", "a ping signed with the new secret", |a| {
        a.iter().any(|l| l["event_id"] == e2)
    })
    .await;

    // The log pages newest first with keyset cursors.
    let (_, page) = get_json(
        &format!("{base}/api/v1/webhooks/{id}/deliveries?limit=2"),
        Some(&token),
    )
    .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    assert_eq!(page["items"][0]["id"], p2["id"]);
    let next = page["next_cursor"].as_str().unwrap();
    let (status, rest) = get_json(
        &format!("{base}/api/v1/webhooks/{id}/deliveries?limit=100&cursor={next}"),
        Some(&token),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(rest["items"].as_array().unwrap().len(), 4, "{rest}");
    assert!(rest["next_cursor"].is_null());

    // Forty days on, the log is pruned after `webhooks.log_days` (30): the finished deliveries
    // are gone, but for one made today of an old event (a redelivery), whose event stays and
    // can be delivered again.
    use sea_orm::ConnectionTrait;
    let db = stack.db().await;
    db.execute_unprepared(&format!(
        "UPDATE webhook_events SET created_at = created_at - interval '40 days';
         UPDATE webhook_deliveries SET created_at = created_at - interval '40 days'
         WHERE id <> '{}'",
        p2["id"].as_str().unwrap()
    ))
    .await
    .unwrap();
    // What the log showed: six deliveries, of fewer events (redeliveries repeat theirs).
    let shown: Vec<&Value> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["items"].as_array().unwrap())
        .collect();
    let mut old_events: Vec<&str> = shown
        .iter()
        .map(|d| d["event_id"].as_str().unwrap())
        .filter(|e| *e != e2)
        .collect();
    old_events.sort_unstable();
    old_events.dedup();
    let (deliveries, events) = kadr_core::webhooks::prune(&db, 30).await.unwrap();
    assert_eq!(deliveries as usize, shown.len() - 1);
    assert_eq!(
        events as usize,
        old_events.len(),
        "the ping of today's delivery stays"
    );
    let (_, left) = get_json(
        &format!("{base}/api/v1/webhooks/{id}/deliveries"),
        Some(&token),
    )
    .await;
    let items = left["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{left}");
    assert_eq!(items[0]["id"], p2["id"]);
    let p2_id = p2["id"].as_str().unwrap();
    let (status, again) = post(
        &base,
        &token,
        &format!("/api/v1/webhooks/{id}/deliveries/{p2_id}/redeliver"),
    )
    .await;
    assert_eq!(status, 202, "{again}");
    rx.until("/hook", "the old event delivered again", |a| {
        a.iter().filter(|l| l["event_id"] == e2).count() >= 2
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_after_failing_too_long_with_a_notice() {
    let mut env = allow_loopback();
    env.push(("KADR_WEBHOOKS__DISABLE_AFTER_SECS", "2"));
    let stack = Stack::start(Backend::Local, &env).await;
    let base = stack.url("");
    let token = register_and_login(&base, "flaky-owner").await;
    let rx = Receiver::start(stack.dir.path(), &[]);
    let (_, ep) = register(&base, &token, json!({ "url": rx.url("/down") })).await;
    let id = ep["id"].as_str().unwrap().to_owned();
    rx.control(json!({ "secrets": { "/down": [ep["secret"]] }, "status": 503 }))
        .await;

    let (_, ping) = post(&base, &token, &format!("/api/v1/webhooks/{id}/ping")).await;
    let delivery = ping["id"].as_str().unwrap().to_owned();
    let started = Instant::now();
    let disabled = loop {
        let (_, e) = get_json(&format!("{base}/api/v1/webhooks/{id}"), Some(&token)).await;
        if e["enabled"] == false {
            break e;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{e}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(disabled["disabled_by"], "failures", "{disabled}");
    let reason = disabled["disabled_reason"].as_str().unwrap();
    assert!(reason.contains("every delivery failed"), "{reason}");
    assert!(reason.contains("503"), "{reason}");
    // The delivery failed for good with the endpoint.
    let d = delivery_until(&base, &token, &id, &delivery, |d| d["state"] == "failed").await;
    assert!(d["attempts"].as_i64().unwrap() >= 2, "{d}");
    assert_eq!(d["last_status"], 503);
    // The owner is told.
    let (_, notes) = get_json(&format!("{base}/api/v1/me/notifications"), Some(&token)).await;
    let note = notes["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["type"] == "webhook_disabled")
        .unwrap_or_else(|| panic!("{notes}"));
    assert_eq!(note["data"]["endpoint_id"], id.as_str());
    assert_eq!(note["data"]["url"], rx.url("/down").as_str());
    // A disabled endpoint is not pinged nor redelivered to.
    let (status, refused) = post(&base, &token, &format!("/api/v1/webhooks/{id}/ping")).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["code"], "webhook_disabled");

    // Enabled again once the receiver is back: the failed delivery is redelivered by hand.
    rx.control(json!({ "status": 0 })).await;
    let (status, on) = call(
        http()
            .patch(format!("{base}/api/v1/webhooks/{id}"))
            .bearer_auth(&token),
        Some(json!({ "enabled": true })),
    )
    .await;
    assert_eq!(status, 200, "{on}");
    assert!(on["disabled_reason"].is_null() && on["failing_since"].is_null());
    assert!(on["disabled_by"].is_null(), "{on}");
    let (status, again) = post(
        &base,
        &token,
        &format!("/api/v1/webhooks/{id}/deliveries/{delivery}/redeliver"),
    )
    .await;
    assert_eq!(status, 202, "{again}");
    let event = ping["event_id"].as_str().unwrap();
    let got = rx
        .until("/down", "the redelivered ping", |a| {
            a.iter().any(|l| l["event_id"] == event)
        })
        .await;
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["delivery_id"], again["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guard_the_limits_and_the_owner_only() {
    let stack = Stack::start(Backend::Local, &[("KADR_WEBHOOKS__MAX_ENDPOINTS", "2")]).await;
    let base = stack.url("");
    let token = register_and_login(&base, "careful").await;
    let other = register_and_login(&base, "nosy").await;
    // Loopback without the allow-list: refused at the door, in any notation.
    for url in [
        "http://127.0.0.1:9/hook",
        "http://2130706433/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest",
        "ftp://example.org/",
    ] {
        let (status, v) = register(&base, &token, json!({ "url": url })).await;
        assert_eq!(status, 400, "{url}: {v}");
        assert_eq!(v["code"], "url_not_allowed", "{url}");
    }
    let (status, v) = register(
        &base,
        &token,
        json!({ "url": "https://example.org/hook", "events": ["video.exploded"] }),
    )
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("invalid_field")),
        "{v}"
    );
    // all_users is for administrators.
    let (status, v) = register(
        &base,
        &token,
        json!({ "url": "https://example.org/hook", "all_users": true }),
    )
    .await;
    assert_eq!(status, 403, "{v}");
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let (status, v) = register(
        &base,
        &admin,
        json!({ "url": "https://example.org/all", "all_users": true }),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    assert_eq!(v["all_users"], true);
    // At most webhooks.max_endpoints each.
    let mut mine = Vec::new();
    for n in 0..2 {
        let (status, v) = register(
            &base,
            &token,
            json!({ "url": format!("https://example.org/{n}"), "events": ["video.ready"] }),
        )
        .await;
        assert_eq!(status, 201, "{v}");
        mine.push(v["id"].as_str().unwrap().to_owned());
    }
    let (status, v) = register(&base, &token, json!({ "url": "https://example.org/3" })).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (409, Some("too_many_webhooks")),
        "{v}"
    );
    // Someone else's endpoint does not exist for them.
    let id = &mine[0];
    for (method, path) in [
        ("GET", format!("/api/v1/webhooks/{id}")),
        ("DELETE", format!("/api/v1/webhooks/{id}")),
        ("POST", format!("/api/v1/webhooks/{id}/rotate")),
        ("POST", format!("/api/v1/webhooks/{id}/ping")),
        ("GET", format!("/api/v1/webhooks/{id}/deliveries")),
    ] {
        let req = http().request(method.parse().unwrap(), format!("{base}{path}"));
        let (status, _) = call(req.bearer_auth(&other), None).await;
        assert_eq!(status, 404, "{method} {path}");
    }
    let (_, list) = get_json(&format!("{base}/api/v1/webhooks"), Some(&other)).await;
    assert_eq!(list["items"], json!([]));
    let (_, list) = get_json(&format!("{base}/api/v1/webhooks"), Some(&token)).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    // PATCH and DELETE by the owner.
    let (status, v) = call(
        http()
            .patch(format!("{base}/api/v1/webhooks/{id}"))
            .bearer_auth(&token),
        Some(json!({ "events": ["video.ready", "video.failed"], "description": "two", "url": "http://10.0.0.1/" })),
    )
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("url_not_allowed")),
        "{v}"
    );
    let (status, v) = call(
        http()
            .patch(format!("{base}/api/v1/webhooks/{id}"))
            .bearer_auth(&token),
        Some(json!({ "events": ["video.ready", "video.failed"], "description": "two" })),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["events"], json!(["video.ready", "video.failed"]));
    assert_eq!(v["description"], "two");
    assert!(v["disabled_by"].is_null(), "{v}");
    // Turned off by its owner: said so, in a word a page can translate.
    let (status, v) = call(
        http()
            .patch(format!("{base}/api/v1/webhooks/{id}"))
            .bearer_auth(&token),
        Some(json!({ "enabled": false })),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        (v["enabled"].as_bool(), v["disabled_by"].as_str()),
        (Some(false), Some("owner")),
        "{v}"
    );
    let (status, _) = call(
        http()
            .delete(format!("{base}/api/v1/webhooks/{id}"))
            .bearer_auth(&token),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = get_json(&format!("{base}/api/v1/webhooks/{id}"), Some(&token)).await;
    assert_eq!(status, 404);
}

/// The types `got` received for `video`, in the order the events happened.
fn types_for(got: &[Value], video: &str) -> Vec<String> {
    let mut mine: Vec<&Value> = got
        .iter()
        .filter(|l| l["payload"]["data"]["video"]["id"] == video)
        .collect();
    mine.sort_by_key(|l| l["payload"]["created_at"].as_str().unwrap_or("").to_owned());
    let mut out: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for l in mine {
        // De-duplicated by event id, as a receiver would.
        if seen.insert(l["event_id"].as_str().unwrap_or("").to_owned()) {
            out.push(l["type"].as_str().unwrap_or("").to_owned());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_and_an_import_tell_their_owner_only() {
    let origin = Origin::start("127.0.0.1").await;
    let stack = Stack::start(Backend::Local, &allow_loopback()).await;
    let base = stack.url("");
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let alice = creator(&base, &admin, "alice-news").await;
    let bob = register_and_login(&base, "bob-other").await;
    let rx = Receiver::start(stack.dir.path(), &[]);
    let (_, a) = register(&base, &alice, json!({ "url": rx.url("/alice") })).await;
    let (_, b) = register(
        &base,
        &bob,
        json!({ "url": rx.url("/bob"), "events": ["*"] }),
    )
    .await;
    // An administrator's endpoint hears everyone's events.
    let (status, all) = register(
        &base,
        &admin,
        json!({ "url": rx.url("/all"), "all_users": true, "events": ["video.created"] }),
    )
    .await;
    assert_eq!(status, 201, "{all}");
    rx.control(json!({ "secrets": {
        "/alice": [a["secret"]], "/bob": [b["secret"]], "/all": [all["secret"]],
    } }))
    .await;

    // A real upload: created, upload completed, playable, ready.
    let file = clip(&stack, "news.mp4");
    let video = upload_with(&stack, &alice, &file, &[]);
    wait_ready(&base, &alice, &video).await;
    let got = rx
        .until("/alice", "the upload's events", |g| {
            types_for(g, &video).contains(&"video.ready".to_owned())
        })
        .await;
    assert_eq!(
        types_for(&got, &video),
        vec![
            "video.created",
            "upload.completed",
            "video.playable",
            "video.ready"
        ]
    );
    let ready = got
        .iter()
        .find(|l| l["type"] == "video.ready" && l["payload"]["data"]["video"]["id"] == video)
        .unwrap();
    let v = &ready["payload"]["data"]["video"];
    assert_eq!(v["status"], "ready");
    assert_eq!(v["moderation"], "approved");
    assert!(v["title"].is_string());

    // An import from a local origin: the item completes, then the video is ready.
    let src = stack.dir.path().join("archive-7.mp4");
    testsrc(&src, "320x240", 15, 2, &[]);
    origin.file("archive-7.mp4", std::fs::read(&src).unwrap());
    let (status, import) = call(
        http()
            .post(format!("{base}/api/v1/videos/import"))
            .bearer_auth(&alice),
        Some(json!({ "url": origin.url("/file/archive-7.mp4"), "external_id": "arch/7" })),
    )
    .await;
    assert_eq!(status, 202, "{import}");
    let imported = import["video_id"].as_str().unwrap().to_owned();
    let got = rx
        .until("/alice", "the import's events", |g| {
            types_for(g, &imported).contains(&"video.ready".to_owned())
        })
        .await;
    let types = types_for(&got, &imported);
    assert!(
        types.contains(&"import.item.completed".to_owned()),
        "{types:?}"
    );
    let item = got
        .iter()
        .find(|l| l["type"] == "import.item.completed")
        .unwrap();
    assert_eq!(item["payload"]["data"]["import"]["id"], import["id"]);
    assert_eq!(item["payload"]["data"]["import"]["external_id"], "arch/7");

    // A moderator's decision and a deletion are events too.
    let (status, v) = call(
        http()
            .post(format!("{base}/api/v1/moderation/videos/{imported}/reject"))
            .bearer_auth(&admin),
        Some(json!({ "reason": "not ours to show" })),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let (status, _) = call(
        http()
            .delete(format!("{base}/api/v1/videos/{imported}"))
            .bearer_auth(&alice),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let got = rx
        .until("/alice", "the rejection and the deletion", |g| {
            types_for(g, &imported).contains(&"video.deleted".to_owned())
        })
        .await;
    let types = types_for(&got, &imported);
    let at = |t: &str| types.iter().position(|x| x == t).unwrap();
    assert!(at("video.rejected") < at("video.deleted"), "{types:?}");
    let rejected = got.iter().find(|l| l["type"] == "video.rejected").unwrap();
    assert_eq!(rejected["payload"]["data"]["reason"], "not ours to show");

    // Bob's own video reaches his endpoint; none of Alice's events ever did, nor his hers.
    let (status, mine) = call(
        http()
            .post(format!("{base}/api/v1/videos"))
            .bearer_auth(&bob),
        Some(json!({ "title": "bob's draft" })),
    )
    .await;
    assert_eq!(status, 201, "{mine}");
    let bobs = mine["id"].as_str().unwrap().to_owned();
    rx.until("/bob", "bob's video.created", |g| {
        types_for(g, &bobs) == vec!["video.created".to_owned()]
    })
    .await;
    let to_bob = rx.accepted("/bob");
    assert!(
        to_bob
            .iter()
            .all(|l| l["payload"]["data"]["video"]["id"] == bobs.as_str()),
        "{to_bob:#?}"
    );
    assert!(
        rx.accepted("/alice")
            .iter()
            .all(|l| l["payload"]["data"]["video"]["owner_id"]
                != to_bob[0]["payload"]["data"]["video"]["owner_id"]),
    );
    // The administrator's endpoint heard both users' videos being created, and only that.
    let heard = rx
        .until("/all", "every video.created", |g| {
            [&video, &imported, &bobs]
                .iter()
                .all(|v| types_for(g, v) == vec!["video.created".to_owned()])
        })
        .await;
    assert!(
        heard.iter().all(|l| l["type"] == "video.created"),
        "{heard:#?}"
    );
    // Nothing was refused: every delivery was signed with the endpoint's own secret.
    assert!(rx.lines().iter().all(|l| l["accepted"] == true));
}
