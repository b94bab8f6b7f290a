#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The queue against a real Postgres: transactional enqueue, exclusive claims, leases that
//! lapse, retries that stop at the limit, and NOTIFY wake-up.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use kadr_db::testing::TestDatabase;
use kadr_queue::{FailOutcome, NewJob, Queue, QueueError, QueueSettings};
use sea_orm::{Database, DatabaseConnection, TransactionTrait};
use serde_json::json;
use tokio_util::sync::CancellationToken;

fn settings() -> QueueSettings {
    QueueSettings {
        lease: Duration::from_secs(30),
        heartbeat: Duration::from_secs(10),
        poll_interval: Duration::from_millis(100),
        max_attempts: 3,
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

fn job(n: u32) -> NewJob {
    NewJob::new("transcode", &json!({ "n": n })).unwrap()
}

#[tokio::test]
async fn enqueue_follows_the_callers_transaction() {
    let (_tdb, db) = setup().await;
    let q = Queue::new(db.clone(), settings(), "w1");

    let tx = db.begin().await.unwrap();
    kadr_queue::enqueue(&tx, job(1), 3).await.unwrap().unwrap();
    tx.rollback().await.unwrap();
    assert!(
        q.claim("transcode").await.unwrap().is_none(),
        "rolled back: no job"
    );

    let tx = db.begin().await.unwrap();
    let id = kadr_queue::enqueue(&tx, job(2), 3).await.unwrap().unwrap();
    assert!(
        q.claim("transcode").await.unwrap().is_none(),
        "not visible before commit"
    );
    tx.commit().await.unwrap();
    let claimed = q.claim("transcode").await.unwrap().unwrap();
    assert_eq!(claimed.id, id);
    assert_eq!(claimed.payload, json!({ "n": 2 }));
    assert_eq!(claimed.attempt, 1);
    assert!(q.claim("other-queue").await.unwrap().is_none());
}

#[tokio::test]
async fn concurrent_claimers_never_hold_the_same_job() {
    let (_tdb, db) = setup().await;
    let q = Queue::new(db.clone(), settings(), "enqueuer");
    let mut all = HashSet::new();
    for n in 0..200 {
        all.insert(q.enqueue(job(n)).await.unwrap().unwrap());
    }
    let mut tasks = Vec::new();
    for w in 0..4 {
        // Each claimer on its own pool, as separate processes would be.
        let url = _tdb.url().to_owned();
        tasks.push(tokio::spawn(async move {
            let db = Database::connect(&url).await.unwrap();
            let q = Queue::new(db, settings(), format!("worker-{w}"));
            let mut mine = Vec::new();
            while let Some(j) = q.claim("transcode").await.unwrap() {
                mine.push(j.id);
                q.complete(&j).await.unwrap();
            }
            mine
        }));
    }
    let mut seen = Vec::new();
    let mut busy_claimers = 0;
    for t in tasks {
        let mine = t.await.unwrap();
        busy_claimers += usize::from(!mine.is_empty());
        seen.extend(mine);
    }
    let unique: HashSet<_> = seen.iter().copied().collect();
    assert_eq!(seen.len(), 200, "every job claimed exactly once");
    assert_eq!(unique, all);
    assert!(busy_claimers >= 2, "claims were really concurrent");
}

#[tokio::test]
async fn a_claimer_that_stops_heartbeating_loses_the_job() {
    let (tdb, db) = setup().await;
    let short = QueueSettings {
        lease: Duration::from_secs(2),
        heartbeat: Duration::from_millis(300),
        ..settings()
    };
    let a = Queue::new(db.clone(), short.clone(), "worker-a");
    let b = Queue::new(
        Database::connect(tdb.url()).await.unwrap(),
        short,
        "worker-b",
    );
    let id = a.enqueue(job(1)).await.unwrap().unwrap();

    // While A heartbeats, B gets nothing even after the lease time has passed.
    let claimed = a.claim("transcode").await.unwrap().unwrap();
    let beat = a.keep_alive(&claimed);
    tokio::time::sleep(Duration::from_millis(3000)).await;
    assert!(b.claim("transcode").await.unwrap().is_none());
    assert!(!beat.lost().is_cancelled());

    // A dies (its heartbeat stops): once the lease lapses, B claims the same job.
    drop(beat);
    let started = Instant::now();
    let reclaimed = loop {
        if let Some(j) = b.claim("transcode").await.unwrap() {
            break j;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "never reclaimed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(reclaimed.id, id);
    assert_eq!(reclaimed.attempt, 2);

    // A's late work is fenced off.
    assert!(matches!(
        a.complete(&claimed).await,
        Err(QueueError::LeaseLost { .. })
    ));
    assert!(matches!(
        a.heartbeat(&claimed).await,
        Err(QueueError::LeaseLost { .. })
    ));
    b.complete(&reclaimed).await.unwrap();
    assert_eq!(b.status(id).await.unwrap().unwrap().state, "done");
}

#[tokio::test]
async fn retries_stop_at_the_limit() {
    let (_tdb, db) = setup().await;
    let q = Queue::new(db, settings(), "w");
    let id = q.enqueue(job(1)).await.unwrap().unwrap();
    for attempt in 1..=3 {
        let j = q.claim("transcode").await.unwrap().unwrap();
        assert_eq!(j.attempt, attempt);
        let outcome = q
            .fail(&j, &format!("storage unavailable #{attempt}"), true)
            .await
            .unwrap();
        if attempt < 3 {
            assert!(matches!(outcome, FailOutcome::Retrying { .. }));
        } else {
            assert_eq!(outcome, FailOutcome::Failed);
        }
    }
    assert!(q.claim("transcode").await.unwrap().is_none());
    let status = q.status(id).await.unwrap().unwrap();
    assert_eq!(status.state, "failed");
    assert_eq!(status.attempts, 3);
    assert_eq!(status.last_error.as_deref(), Some("storage unavailable #3"));
}

#[tokio::test]
async fn backoff_delays_the_retry() {
    let (_tdb, db) = setup().await;
    let q = Queue::new(
        db,
        QueueSettings {
            backoff_base: Duration::from_secs(60),
            backoff_max: Duration::from_secs(600),
            ..settings()
        },
        "w",
    );
    q.enqueue(job(1)).await.unwrap().unwrap();
    let j = q.claim("transcode").await.unwrap().unwrap();
    let FailOutcome::Retrying { after } = q.fail(&j, "db gone", true).await.unwrap() else {
        panic!("expected a retry");
    };
    assert!(
        after >= Duration::from_secs(54) && after <= Duration::from_secs(66),
        "{after:?}"
    );
    assert!(q.claim("transcode").await.unwrap().is_none(), "not due yet");
}

#[tokio::test]
async fn input_faults_are_not_retried_and_release_does_not_count() {
    let (_tdb, db) = setup().await;
    let q = Queue::new(db, settings(), "w");
    let id = q.enqueue(job(1)).await.unwrap().unwrap();

    // Shutdown hands the job back without using up an attempt.
    let j = q.claim("transcode").await.unwrap().unwrap();
    q.release(&j).await.unwrap();
    let j = q.claim("transcode").await.unwrap().unwrap();
    assert_eq!(j.attempt, 1);

    assert_eq!(
        q.fail(&j, "not a video file", false).await.unwrap(),
        FailOutcome::Failed
    );
    let status = q.status(id).await.unwrap().unwrap();
    assert_eq!((status.state.as_str(), status.attempts), ("failed", 1));
    assert_eq!(status.last_error.as_deref(), Some("not a video file"));
}

#[tokio::test]
async fn dedupe_key_allows_one_live_job() {
    let (_tdb, db) = setup().await;
    let q = Queue::new(db, settings(), "w");
    assert!(
        q.enqueue(job(1).dedupe_key("video-1"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        q.enqueue(job(2).dedupe_key("video-1"))
            .await
            .unwrap()
            .is_none()
    );
    let j = q.claim("transcode").await.unwrap().unwrap();
    q.complete(&j).await.unwrap();
    assert!(
        q.enqueue(job(3).dedupe_key("video-1"))
            .await
            .unwrap()
            .is_some(),
        "done jobs free the key"
    );
}

#[tokio::test]
async fn notify_wakes_a_waiting_claimer_before_the_poll_interval() {
    let (tdb, db) = setup().await;
    let slow_poll = QueueSettings {
        poll_interval: Duration::from_secs(120),
        ..settings()
    };
    let q = Queue::new(db, slow_poll.clone(), "w");
    let shutdown = CancellationToken::new();
    let mut waiter = q.waiter("transcode");
    let wait = tokio::spawn({
        let shutdown = shutdown.clone();
        async move { waiter.next(&shutdown).await }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let producer = Queue::new(Database::connect(tdb.url()).await.unwrap(), slow_poll, "p");
    let id = producer.enqueue(job(7)).await.unwrap().unwrap();
    let got = tokio::time::timeout(Duration::from_secs(20), wait)
        .await
        .expect("woken by NOTIFY well before the 120 s poll")
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(got.id, id);

    // And shutdown ends a wait.
    let mut waiter = q.waiter("transcode");
    let s2 = shutdown.clone();
    let wait = tokio::spawn(async move { waiter.next(&s2).await });
    shutdown.cancel();
    assert!(wait.await.unwrap().unwrap().is_none());
}

#[tokio::test]
async fn claims_take_turns_between_owners() {
    let (_tdb, db) = setup().await;
    let q = Queue::new(db.clone(), settings(), "w1");
    // One owner's five jobs, then another owner's one, then a job with no owner.
    for n in 0..5 {
        q.enqueue(job(n).fair_key("alice")).await.unwrap();
    }
    q.enqueue(job(100).fair_key("bob")).await.unwrap();
    let n = |j: &kadr_queue::Job| j.payload["n"].as_u64().unwrap();
    let first = q.claim("transcode").await.unwrap().unwrap();
    assert_eq!(n(&first), 0);
    // Alice has one running: Bob's first goes before her second.
    let second = q.claim("transcode").await.unwrap().unwrap();
    assert_eq!(n(&second), 100);
    q.complete(&first).await.unwrap();
    q.complete(&second).await.unwrap();
    let rest: Vec<u64> = {
        let mut v = Vec::new();
        while let Some(j) = q.claim("transcode").await.unwrap() {
            v.push(n(&j));
            q.complete(&j).await.unwrap();
        }
        v
    };
    assert_eq!(rest, [1, 2, 3, 4]);
}

#[tokio::test]
async fn a_postponed_job_waits_without_using_an_attempt_until_hastened() {
    let (_tdb, db) = setup().await;
    let q = Queue::new(db.clone(), settings(), "w");
    let id = q.enqueue(job(1).dedupe_key("d-1")).await.unwrap().unwrap();
    let j = q.claim("transcode").await.unwrap().unwrap();
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    kadr_queue::postpone_on(&db, &j, later).await.unwrap();
    // Not due: nobody claims it; its attempt was not counted; its key is still live.
    assert!(q.claim("transcode").await.unwrap().is_none());
    let status = q.status(id).await.unwrap().unwrap();
    assert_eq!((status.state.as_str(), status.attempts), ("queued", 0));
    assert!(q.enqueue(job(2).dedupe_key("d-1")).await.unwrap().is_none());
    // A stale holder cannot postpone it again.
    assert!(kadr_queue::postpone_on(&db, &j, later).await.is_err());
    // Hastened by its key: due now.
    let n = kadr_queue::hasten(&db, "transcode", &["d-1".to_owned(), "other".to_owned()])
        .await
        .unwrap();
    assert_eq!(n, 1);
    let again = q.claim("transcode").await.unwrap().unwrap();
    assert_eq!((again.id, again.attempt), (id, 1));
}

#[tokio::test]
async fn a_key_at_its_limit_waits_its_turn_while_others_are_claimed() {
    let (_tdb, db) = setup().await;
    let q = Queue::new(db, settings(), "w");
    for n in 0..3 {
        q.enqueue(job(n).fair_key("slow")).await.unwrap().unwrap();
    }
    let first = q
        .claim_limited("transcode", Some(2))
        .await
        .unwrap()
        .unwrap();
    let second = q
        .claim_limited("transcode", Some(2))
        .await
        .unwrap()
        .unwrap();
    // Two running for `slow`: its third waits, in the queue.
    assert!(
        q.claim_limited("transcode", Some(2))
            .await
            .unwrap()
            .is_none()
    );
    // Another key is not held back.
    let other = q.enqueue(job(9).fair_key("fast")).await.unwrap().unwrap();
    let got = q
        .claim_limited("transcode", Some(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.id, other);
    // One ends: the third is claimed, the oldest first.
    q.complete(&first).await.unwrap();
    let third = q
        .claim_limited("transcode", Some(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(third.payload["n"], 2);
    assert_eq!(second.payload["n"], 1);
}

#[tokio::test]
async fn a_batch_claim_keeps_each_key_under_its_limit() {
    let (_tdb, db) = setup().await;
    let q = Queue::new(db, settings(), "w");
    for n in 0..5 {
        q.enqueue(job(n).fair_key("busy")).await.unwrap().unwrap();
    }
    q.enqueue(job(7).fair_key("quiet")).await.unwrap().unwrap();
    let got = q.claim_batch("transcode", 2, 10).await.unwrap();
    let mut ns: Vec<i64> = got
        .iter()
        .map(|j| j.payload["n"].as_i64().unwrap())
        .collect();
    ns.sort();
    assert_eq!(ns, vec![0, 1, 7]);
    // At the limit: nothing more of `busy` until one ends.
    assert!(q.claim_batch("transcode", 2, 10).await.unwrap().is_empty());
    q.complete(&got[0]).await.unwrap();
    assert_eq!(q.claim_batch("transcode", 2, 10).await.unwrap().len(), 1);
}
