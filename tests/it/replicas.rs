//! Kadr scaled out: one Postgres cluster and one S3 cluster (SeaweedFS), two `upload-api`, two
//! `api` and two `worker` processes, a client going from one replica to the other. What one
//! replica accepts, the others honour: an upload begun on a replica that dies is finished on
//! the other, a transcode whose worker dies is finished by the other worker, signed media URLs
//! minted by one api are served by the other, a view counts once, an edit and a ban reach
//! every replica. Then the faults: Postgres restarted, SeaweedFS stopped, a worker killed on
//! the same job again and again.
//!
//! Deadlines here are generous on purpose; how fast things propagate is measured in bench/.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use kadr_db::embedded::{EmbeddedOptions, EmbeddedPostgres};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::json;

use crate::common::{
    ADMIN_PASSWORD, Kadr, command, get_json, http, process_alive, send_json, sha256_file,
    source_sha256,
};

pub const MEDIA_SECRET: &str = "one-media-key-for-every-api-replica";

/// Where media go: a bucket of the run's SeaweedFS, or a SeaweedFS of the test's own (which
/// the test may stop and start).
pub struct S3Place {
    pub endpoint: String,
    pub bucket: String,
    pub key: String,
    pub secret: String,
    /// The test's own SeaweedFS data directory, when it has one.
    pub own: Option<PathBuf>,
    _bucket: Option<kadr_storage::testing::S3TestServer>,
}

impl S3Place {
    /// A fresh bucket on the run's SeaweedFS (`KADR_TEST_S3_ENDPOINT`).
    pub async fn shared() -> S3Place {
        let s3 = kadr_storage::testing::S3TestServer::external()
            .await
            .expect("KADR_TEST_S3_ENDPOINT names the S3 cluster (make test starts SeaweedFS)")
            .unwrap();
        S3Place {
            endpoint: s3.endpoint().to_owned(),
            bucket: s3.bucket.clone(),
            key: s3.access_key_id.clone(),
            secret: s3.secret_access_key.clone(),
            own: None,
            _bucket: Some(s3),
        }
    }

    /// A SeaweedFS of this test's own in `dir` (tests/s3/seaweed.sh).
    pub fn own(dir: &Path) -> S3Place {
        seaweed("start", dir);
        let env = std::fs::read_to_string(dir.join("env")).unwrap();
        let var = |name: &str| {
            env.lines()
                .find_map(|l| l.strip_prefix(&format!("{name}=")))
                .unwrap()
                .to_owned()
        };
        S3Place {
            endpoint: var("KADR_TEST_S3_ENDPOINT"),
            bucket: var("KADR_TEST_S3_BUCKET"),
            key: var("KADR_TEST_S3_ACCESS_KEY_ID"),
            secret: var("KADR_TEST_S3_SECRET_ACCESS_KEY"),
            own: Some(dir.to_owned()),
            _bucket: None,
        }
    }
}

impl Drop for S3Place {
    fn drop(&mut self) {
        if let Some(dir) = &self.own {
            seaweed("stop", dir);
        }
    }
}

/// `tests/s3/seaweed.sh start|stop DIR`.
pub fn seaweed(action: &str, dir: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/s3/seaweed.sh");
    let out = std::process::Command::new(script)
        .arg(action)
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "seaweed.sh {action}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The shared parts (Postgres and S3) and the kadr processes started on them.
pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub pg: Option<EmbeddedPostgres>,
    pub db_url: String,
    pub s3: S3Place,
    /// Extra KADR_* settings for every process.
    pub env: Vec<(String, String)>,
}

impl Cluster {
    pub async fn start(s3: S3Place, env: &[(&str, &str)]) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let pg =
            EmbeddedPostgres::start(&dir.path().join("db"), EmbeddedOptions { throwaway: true })
                .await
                .unwrap();
        let db_url = pg.url().to_owned();
        let c = Cluster {
            dir,
            pg: Some(pg),
            db_url,
            s3,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        let out = c.command(&["migrate", "up"]).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        c
    }

    pub fn command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = command(args);
        cmd.env("KADR_DATABASE__URL", &self.db_url)
            .env("KADR_DATA_DIR", self.dir.path().join("var"))
            .env("KADR_STORAGE__BACKEND", "s3")
            .env("KADR_STORAGE__S3__ENDPOINT", &self.s3.endpoint)
            .env("KADR_STORAGE__S3__BUCKET", &self.s3.bucket)
            .env("KADR_STORAGE__S3__ACCESS_KEY_ID", &self.s3.key)
            .env("KADR_STORAGE__S3__SECRET_ACCESS_KEY", &self.s3.secret)
            .env("KADR_STORAGE__S3__PATH_STYLE", "true")
            .env("KADR_API__MEDIA_SECRET", MEDIA_SECRET)
            .env("KADR_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("KADR_UPLOAD_API__LISTEN", "127.0.0.1:0")
            .env("KADR_API__LISTEN", "127.0.0.1:0")
            .env("KADR_WORKER__LISTEN", "127.0.0.1:0")
            // Faster than a production cluster, so the test does not wait for minutes.
            .env("KADR_QUEUE__LEASE_SECS", "4")
            .env("KADR_QUEUE__HEARTBEAT_SECS", "1")
            .env("KADR_QUEUE__POLL_INTERVAL_MS", "300")
            .env("KADR_QUEUE__BACKOFF_BASE_SECS", "1")
            .env("KADR_QUEUE__BACKOFF_MAX_SECS", "2")
            .env("KADR_AUTH__CACHE_SECS", "2")
            .env("KADR_API__VIEWS_FLUSH_SECS", "1");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Starts a `kadr ROLE` on a port of its own.
    pub fn spawn(&self, role: &str) -> Kadr {
        Kadr::start(self.command(&[role]))
    }

    pub async fn db(&self) -> DatabaseConnection {
        sea_orm::Database::connect(&self.db_url).await.unwrap()
    }

    /// Stops Postgres (fast shutdown: every connection is cut).
    pub async fn stop_postgres(&mut self) {
        if let Some(pg) = self.pg.take() {
            pg.stop(Duration::from_secs(10)).await.unwrap();
        }
    }

    /// Starts Postgres again on the same data and socket.
    pub async fn start_postgres(&mut self) {
        let pg = EmbeddedPostgres::start(
            &self.dir.path().join("db"),
            EmbeddedOptions { throwaway: true },
        )
        .await
        .unwrap();
        assert_eq!(pg.url(), self.db_url);
        self.pg = Some(pg);
    }
}

pub fn sigkill(k: &Kadr) {
    kill(Pid::from_raw(k.pid() as i32), Signal::SIGKILL).unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    while process_alive(k.pid() as i32) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(10));
    }
}

pub async fn query(db: &DatabaseConnection, sql: &str) -> Vec<sea_orm::QueryResult> {
    db.query_all_raw(Statement::from_string(
        sea_orm::DatabaseBackend::Postgres,
        sql.to_owned(),
    ))
    .await
    .unwrap()
}

/// A 1280×720 test pattern long enough that its transcode is caught running.
pub fn long_clip(dir: &Path, secs: u32) -> PathBuf {
    let path = dir.join(format!("long-{secs}.mp4"));
    crate::common::testsrc(&path, "1280x720", 30, secs, &["-g", "60"]);
    path
}

pub async fn register(base: &str, name: &str) {
    let (status, body) = send_json(
        http().post(format!("{base}/api/v1/users")),
        &json!({ "username": name, "email": format!("{name}@example.org"), "password": "correct horse battery" }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

pub async fn token(base: &str, name: &str) -> String {
    crate::common::login(base, name, "correct horse battery").await
}

/// A tus creation on `upload_api`: the upload's path.
pub async fn tus_create(upload_api: &Kadr, token: &str, title: &str, len: u64) -> String {
    let (status, v) = send_json(
        http()
            .post(upload_api.url("/api/v1/videos"))
            .bearer_auth(token),
        &json!({ "title": title, "size": len }),
    )
    .await;
    assert_eq!(status, 201, "{v}");
    let url = url::Url::parse(v["upload"]["url"].as_str().unwrap()).unwrap();
    url.path().to_owned()
}

/// One tus PATCH; the new offset, or the status when refused.
pub async fn tus_patch(
    upload_api: &Kadr,
    token: &str,
    path: &str,
    offset: u64,
    data: Vec<u8>,
) -> Result<u64, u16> {
    let res = http()
        .patch(upload_api.url(path))
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", offset.to_string())
        .header("Content-Type", "application/offset+octet-stream")
        .body(data)
        .send()
        .await
        .map_err(|_| 0u16)?;
    match res.status().as_u16() {
        204 => Ok(res.headers()["upload-offset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap()),
        s => Err(s),
    }
}

pub async fn tus_offset(upload_api: &Kadr, token: &str, path: &str) -> Result<u64, u16> {
    let res = http()
        .head(upload_api.url(path))
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .map_err(|_| 0u16)?;
    match res.status().as_u16() {
        200 => Ok(res.headers()["upload-offset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap()),
        s => Err(s),
    }
}

/// Waits until `check` holds, polling; panics with `what` after `limit`.
pub async fn eventually<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub async fn video_status(api: &Kadr, token: &str, id: &str) -> String {
    let (_, v) = get_json(&api.url(&format!("/api/v1/videos/{id}")), Some(token)).await;
    v["status"].as_str().unwrap_or("").to_owned()
}

/// The transcode job of `video` while a worker runs it: (job id, the worker's pid).
pub async fn running_transcode(db: &DatabaseConnection, video: &str) -> Option<(String, u32)> {
    let rows = query(
        db,
        &format!(
            "SELECT id::text AS id, locked_by FROM jobs WHERE queue = 'transcode'
             AND state = 'running' AND payload->>'video_id' = '{video}'"
        ),
    )
    .await;
    let row = rows.first()?;
    let locked_by: String = row.try_get("", "locked_by").ok()?;
    // worker-HOST-PID-SUFFIX
    let pid = locked_by.rsplit('-').nth(1)?.parse().ok()?;
    Some((row.try_get("", "id").ok()?, pid))
}

fn swap_host(url: &str, to: &Kadr) -> String {
    let mut u = url::Url::parse(url).unwrap();
    u.set_port(Some(to.addr.port())).unwrap();
    u.to_string()
}

fn uris(base: &str, playlist: &str) -> Vec<String> {
    let base = url::Url::parse(base).unwrap();
    playlist
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| base.join(l).unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs KADR_TEST_S3_ENDPOINT (make test starts SeaweedFS)"]
async fn two_of_each_share_one_state() {
    let cluster = Cluster::start(S3Place::shared().await, &[]).await;
    let u = [cluster.spawn("upload-api"), cluster.spawn("upload-api")];
    let a = [cluster.spawn("api"), cluster.spawn("api")];
    let w = [cluster.spawn("worker"), cluster.spawn("worker")];
    let db = cluster.db().await;

    // An account made on one upload API signs in on the other; the admin (made by whichever
    // replica came first) exists once.
    register(&u[0].url(""), "alice").await;
    let alice = token(&u[1].url(""), "alice").await;
    let admin = crate::common::login(&u[1].url(""), "admin", ADMIN_PASSWORD).await;
    let admins = query(&db, "SELECT id FROM users WHERE username = 'admin'").await;
    assert_eq!(admins.len(), 1);
    crate::common::admin_sets(&u[0].url(""), &admin, &alice, json!({ "verified": true })).await;

    // A tus upload begun on A, A killed, finished on B: every acknowledged byte is there.
    let clip = long_clip(cluster.dir.path(), 20);
    let bytes = std::fs::read(&clip).unwrap();
    let len = bytes.len() as u64;
    let path = tus_create(&u[0], &alice, "Across replicas", len).await;
    let half = len / 3;
    assert_eq!(
        tus_patch(&u[0], &alice, &path, 0, bytes[..half as usize].to_vec()).await,
        Ok(half)
    );
    let [u0, u1] = u;
    sigkill(&u0);
    drop(u0);
    assert_eq!(tus_offset(&u1, &alice, &path).await, Ok(half));
    assert_eq!(
        tus_patch(&u1, &alice, &path, half, bytes[half as usize..].to_vec()).await,
        Ok(len)
    );
    let video = path.rsplit('/').next().unwrap().to_owned();
    let video = {
        let rows = query(
            &db,
            &format!("SELECT video_id::text AS v FROM uploads WHERE id = '{video}'"),
        )
        .await;
        rows[0].try_get::<String>("", "v").unwrap()
    };
    let (sha, size) = source_sha256(&u1.url(""), &alice, &video).await;
    assert_eq!((sha, size), (sha256_file(&clip), len));

    // Its transcode: the worker running it is killed; the other one finishes it.
    let started = Instant::now();
    let (job, pid) = loop {
        if let Some(found) = running_transcode(&db, &video).await {
            break found;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no worker took the transcode"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let (victim, survivor) = if w[0].pid() == pid {
        (&w[0], &w[1])
    } else {
        (&w[1], &w[0])
    };
    assert_eq!(
        victim.pid(),
        pid,
        "the job is held by one of the two workers"
    );
    sigkill(victim);
    eventually(
        Duration::from_secs(180),
        "the other worker finishes the transcode",
        || async { video_status(&a[1], &alice, &video).await == "ready" },
    )
    .await;
    assert!(process_alive(survivor.pid() as i32));
    // In the data: two attempts, the first ended by its lapsed lease, one set of renditions.
    let row = &query(
        &db,
        &format!(
            "SELECT attempts, state, coalesce(last_error, '') AS e FROM jobs WHERE id = '{job}'"
        ),
    )
    .await[0];
    assert_eq!(row.try_get::<String>("", "state").unwrap(), "done");
    assert!(row.try_get::<i32>("", "attempts").unwrap() >= 2);
    let dup = query(
        &db,
        &format!(
            "SELECT height FROM renditions WHERE video_id = '{video}' GROUP BY height HAVING count(*) > 1"
        ),
    )
    .await;
    assert!(dup.is_empty(), "renditions written twice");
    assert!(
        survivor.log().contains(&job) || survivor.log().contains("transcode"),
        "the survivor ran it"
    );

    // Private, so its media need signed URLs: minted by api A, served by api B.
    let (status, v) = send_json(
        http()
            .patch(a[0].url(&format!("/api/v1/videos/{video}")))
            .bearer_auth(&alice),
        &json!({ "privacy": "private" }),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let (status, playback) = get_json(
        &a[0].url(&format!("/api/v1/videos/{video}/playback")),
        Some(&alice),
    )
    .await;
    assert_eq!(status, 200, "{playback}");
    let master = swap_host(playback["hls"].as_str().unwrap(), &a[1]);
    assert!(master.contains("token="), "{master}");
    let res = http().get(&master).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200, "{master}");
    let text = res.text().await.unwrap();
    let variant = swap_host(&uris(&master, &text)[0], &a[1]);
    let res = http().get(&variant).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200, "{variant}");
    let text = res.text().await.unwrap();
    let segment = uris(&variant, &text)[0].clone();
    // Served by api B (private media pass through the api, or redirect to a presigned URL).
    let res = http().get(&segment).send().await.unwrap();
    let body = match res.status().as_u16() {
        200 => res.bytes().await.unwrap(),
        302 => {
            let to = res.headers()["location"].to_str().unwrap().to_owned();
            assert!(to.starts_with(&cluster.s3.endpoint), "{to}");
            let res = http().get(&to).send().await.unwrap();
            assert_eq!(res.status().as_u16(), 200);
            res.bytes().await.unwrap()
        }
        other => panic!("{segment}: {other}"),
    };
    assert!(body.len() > 1000);
    // The same URL with a forged token is refused by both.
    for api in &a {
        let forged = swap_host(&master.replace("token=", "token=x"), api);
        assert_eq!(
            http().get(&forged).send().await.unwrap().status().as_u16(),
            403
        );
    }

    // Public again: one viewer's views on both replicas count once.
    let (status, _) = send_json(
        http()
            .patch(a[1].url(&format!("/api/v1/videos/{video}")))
            .bearer_auth(&alice),
        &json!({ "privacy": "public", "title": "Seen on both" }),
    )
    .await;
    assert_eq!(status, 200);
    for api in [&a[0], &a[1], &a[0], &a[1]] {
        let res = http()
            .post(api.url(&format!("/api/v1/videos/{video}/views")))
            .header("user-agent", "one viewer")
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{}", res.status());
    }
    // An edit made through one replica is seen through the other, and the views add up once.
    for api in &a {
        eventually(
            Duration::from_secs(30),
            "the edit and the one view",
            || async {
                let (_, v) = get_json(&api.url(&format!("/api/v1/videos/{video}")), None).await;
                v["title"] == "Seen on both" && v["views"] == 1
            },
        )
        .await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, v) = get_json(&a[1].url(&format!("/api/v1/videos/{video}")), None).await;
    assert_eq!(v["views"], 1, "{v}");

    // A ban through one api reaches every replica: the token is refused everywhere.
    let alice_id = crate::common::user_id(&u1.url(""), &alice).await;
    let (status, v) = send_json(
        http()
            .post(a[1].url(&format!("/api/v1/moderation/users/{alice_id}/sanctions")))
            .bearer_auth(&admin),
        &json!({ "action": "ban", "reason": "test" }),
    )
    .await;
    assert!(status == 200 || status == 201, "{status} {v}");
    for url in [
        u1.url("/api/v1/me"),
        a[0].url("/api/v1/me/history"),
        a[1].url("/api/v1/me/history"),
    ] {
        eventually(
            Duration::from_secs(30),
            "the ban on every replica",
            || async { get_json(&url, Some(&alice)).await.0 == 401 },
        )
        .await;
    }
    // The banned owner's video is withheld on both.
    for api in &a {
        eventually(Duration::from_secs(30), "the video withheld", || async {
            let (status, _) = get_json(&api.url(&format!("/api/v1/videos/{video}")), None).await;
            status == 404
        })
        .await;
    }
}
