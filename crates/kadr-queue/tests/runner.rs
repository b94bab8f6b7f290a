#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The runner against a real Postgres: handlers' outcomes are recorded (done, retried, failed
//! for good), concurrency per kind holds, a shutdown gives a running job its grace and then
//! hands it back, and periodic kinds run on their interval.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use kadr_db::testing::TestDatabase;
use kadr_queue::runner::{BoxFuture, Control, Handler, Outcome, Periodic, Runner};
use kadr_queue::{Job, NewJob, Queue, QueueSettings};
use sea_orm::{Database, DatabaseConnection};
use serde_json::json;
use tokio_util::sync::CancellationToken;

fn settings() -> QueueSettings {
    QueueSettings {
        lease: Duration::from_secs(30),
        heartbeat: Duration::from_secs(10),
        poll_interval: Duration::from_millis(50),
        max_attempts: 2,
        backoff_base: Duration::ZERO,
        backoff_max: Duration::ZERO,
    }
}

async fn setup() -> (TestDatabase, DatabaseConnection) {
    let tdb = TestDatabase::new().await.unwrap();
    let db = Database::connect(tdb.url()).await.unwrap();
    kadr_migration::up(&db).await.unwrap();
    (tdb, db)
}

/// Answers by the job's payload: `{"answer": "done" | "retry" | "fail"}`; `"slow"` waits
/// until stopped and hands the job back. Counts how many run at once.
#[derive(Clone, Default)]
struct Scripted {
    running: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
    runs: Arc<AtomicUsize>,
}

impl Handler for Scripted {
    fn run(&self, job: Job, control: Control) -> BoxFuture<Outcome> {
        let me = self.clone();
        Box::pin(async move {
            let now = me.running.fetch_add(1, Ordering::SeqCst) + 1;
            me.most.fetch_max(now, Ordering::SeqCst);
            me.runs.fetch_add(1, Ordering::SeqCst);
            let answer = job.payload["answer"].as_str().unwrap_or("").to_owned();
            let outcome = match answer.as_str() {
                "done" => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Outcome::Done
                }
                "retry" => Outcome::Retry("storage down".into()),
                "fail" => Outcome::Fail("bad input".into()),
                _ => {
                    control.stop().cancelled().await;
                    Outcome::Release
                }
            };
            me.running.fetch_sub(1, Ordering::SeqCst);
            outcome
        })
    }
}

async fn enqueue(db: &DatabaseConnection, answer: &str) -> uuid::Uuid {
    let job = NewJob::new("work", &json!({ "answer": answer })).unwrap();
    kadr_queue::enqueue(db, job, 2).await.unwrap().unwrap()
}

async fn wait_state(q: &Queue, id: uuid::Uuid, state: &str) -> kadr_queue::JobStatus {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let s = q.status(id).await.unwrap().unwrap();
        if s.state == state {
            return s;
        }
        assert!(Instant::now() < deadline, "job {id} is {s:?}, not {state}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn outcomes_are_recorded_and_concurrency_holds() {
    let (_tdb, db) = setup().await;
    let q = Queue::new(db.clone(), settings(), "observer");
    let handler = Scripted::default();
    let shutdown = CancellationToken::new();
    let runner = Runner::new(Queue::new(db.clone(), settings(), "runner")).queued(
        "work",
        2,
        Duration::from_secs(5),
        handler.clone(),
    );
    assert_eq!(runner.kinds(), vec!["work"]);
    let done: Vec<_> = enqueue_many(&db, "done", 6).await;
    let retried = enqueue(&db, "retry").await;
    let failed = enqueue(&db, "fail").await;
    let handle = runner.start(shutdown.clone());
    for id in done {
        wait_state(&q, id, "done").await;
    }
    // Retried once (two attempts allowed), then failed with the reason.
    let r = wait_state(&q, retried, "failed").await;
    assert_eq!(r.attempts, 2);
    assert_eq!(r.last_error.as_deref(), Some("storage down"));
    let f = wait_state(&q, failed, "failed").await;
    assert_eq!(f.attempts, 1, "a failure for good is not retried");
    assert_eq!(handler.most.load(Ordering::SeqCst), 2, "two at a time");
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), handle)
        .await
        .unwrap()
        .unwrap();
}

async fn enqueue_many(db: &DatabaseConnection, answer: &str, n: usize) -> Vec<uuid::Uuid> {
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(enqueue(db, answer).await);
    }
    ids
}

#[tokio::test]
async fn a_shutdown_hands_a_running_job_back_after_its_grace() {
    let (_tdb, db) = setup().await;
    let q = Queue::new(db.clone(), settings(), "observer");
    let handler = Scripted::default();
    let shutdown = CancellationToken::new();
    let grace = Duration::from_millis(500);
    let handle = Runner::new(Queue::new(db.clone(), settings(), "runner"))
        .queued("work", 1, grace, handler.clone())
        .start(shutdown.clone());
    let slow = enqueue(&db, "slow").await;
    wait_state(&q, slow, "running").await;
    let asked = Instant::now();
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), handle)
        .await
        .unwrap()
        .unwrap();
    assert!(asked.elapsed() >= grace, "stopped before its grace");
    let s = wait_state(&q, slow, "queued").await;
    assert_eq!(s.attempts, 0, "a hand-back does not count as an attempt");
}

struct Ticks(Arc<AtomicUsize>);

impl Periodic for Ticks {
    fn run(&self, _control: Control) -> BoxFuture<()> {
        let n = self.0.clone();
        Box::pin(async move {
            n.fetch_add(1, Ordering::SeqCst);
        })
    }
}

#[tokio::test]
async fn periodic_kinds_run_on_their_interval_until_shutdown() {
    let (_tdb, db) = setup().await;
    let ticks = Arc::new(AtomicUsize::new(0));
    let late = Arc::new(AtomicUsize::new(0));
    let shutdown = CancellationToken::new();
    let handle = Runner::new(Queue::new(db.clone(), settings(), "runner"))
        .periodic(
            "often",
            Duration::from_millis(100),
            Duration::ZERO,
            Ticks(ticks.clone()),
        )
        .periodic(
            "later",
            Duration::from_secs(60),
            Duration::from_secs(60),
            Ticks(late.clone()),
        )
        .start(shutdown.clone());
    tokio::time::sleep(Duration::from_millis(1000)).await;
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), handle)
        .await
        .unwrap()
        .unwrap();
    let n = ticks.load(Ordering::SeqCst);
    assert!((5..=12).contains(&n), "{n} passes in a second at 100 ms");
    assert_eq!(
        late.load(Ordering::SeqCst),
        0,
        "the first pass waits its delay"
    );
}
