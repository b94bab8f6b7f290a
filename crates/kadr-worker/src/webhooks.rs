//! Webhook deliveries (`webhook` jobs): one event POSTed to one endpoint through the outbound
//! guard, signed, within `webhooks.timeout_secs`.
//!
//! - **At least once.** The job lives until the delivery is delivered or fails for good: a
//!   failed attempt is recorded on the delivery (status, error, duration) and the job is put
//!   back, due at the delivery's next attempt (`kadr_core::webhooks::backoff`), in one
//!   transaction. A worker that dies mid-attempt leaves the job to be claimed again once its
//!   lease lapses; the receiver may then see the event twice (same event id).
//! - **Bounded.** `webhooks.concurrency` deliveries at once per worker, and at most
//!   `webhooks.per_endpoint` running to one endpoint across every worker: the claim leaves an
//!   endpoint's jobs in the queue, in order, while it has that many running (the endpoint is
//!   the jobs' `fair_key`), so a slow endpoint holds at most that many slots and the claims,
//!   which take turns between endpoints, keep serving the others.
//! - **Nothing read beyond need.** The answer's body is read (to reuse the connection) up to
//!   64 KiB and dropped.

use std::time::{Duration, Instant};

use bytes::Bytes;
use kadr_core::state::DeliveryState;
use kadr_core::webhooks::{self, Attempt, DeliveryJob, Recorded, Work};
use kadr_outbound::reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use kadr_queue::Job;
use kadr_queue::runner::{BoxFuture, Control, Handler, Outcome, Periodic};
use kadr_runtime::Context;
use sea_orm::TransactionTrait;

/// The most of an answer's body read.
const BODY_READ_MAX: usize = 64 * 1024;

/// Makes webhook deliveries.
#[derive(Clone)]
pub struct Deliveries {
    pub ctx: Context,
    pub client: kadr_outbound::Client,
}

/// Shutdown or a lost lease during the request.
struct Stopped;

fn header_value(text: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(text).ok()
}

impl Deliveries {
    /// POSTs `work`'s event once and says how it went.
    async fn attempt(&self, work: &Work, control: &Control) -> Result<Attempt, Stopped> {
        let body = work.body();
        let now = chrono::Utc::now();
        let signature = webhooks::signature_header(&work.secrets(now), now.timestamp(), &body);
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        for (name, value) in [
            ("kadr-event-id", work.event_id.to_string()),
            ("kadr-event-type", work.event_type.as_str().to_owned()),
            ("kadr-delivery-id", work.id.to_string()),
            ("kadr-signature", signature),
        ] {
            if let Some(v) = header_value(&value) {
                headers.insert(HeaderName::from_static(name), v);
            }
        }
        let started = Instant::now();
        let elapsed = |s: Instant| s.elapsed().as_millis().min(u64::MAX as u128) as u64;
        let url = match url::Url::parse(&work.url) {
            Ok(u) => u,
            Err(e) => {
                return Ok(Attempt {
                    status: None,
                    error: Some(format!("not a URL: {e}")),
                    duration_ms: 0,
                });
            }
        };
        let timeout = Duration::from_secs(self.ctx.config.webhooks.timeout_secs);
        let request = async {
            let mut response = self
                .client
                .post(&url, headers, Bytes::from(body), timeout)
                .await?;
            let status = response.status().as_u16();
            // Read a little of the answer (the connection is then reused), within the timeout.
            let mut read = 0usize;
            let deadline = tokio::time::Instant::from_std(started) + timeout;
            loop {
                match tokio::time::timeout_at(deadline, response.chunk()).await {
                    Ok(Ok(Some(chunk))) => {
                        read += chunk.len();
                        if read > BODY_READ_MAX {
                            break;
                        }
                    }
                    Ok(Ok(None)) | Ok(Err(_)) => break,
                    Err(_) => return Err(kadr_outbound::Error::Timeout),
                }
            }
            Ok::<u16, kadr_outbound::Error>(status)
        };
        let result = tokio::select! {
            r = request => r,
            _ = control.stop().cancelled() => return Err(Stopped),
        };
        let duration_ms = elapsed(started);
        Ok(match result {
            Ok(status) if (200..300).contains(&status) => Attempt {
                status: Some(status),
                error: None,
                duration_ms,
            },
            Ok(status) => Attempt {
                status: Some(status),
                error: Some(format!("the endpoint answered {status}")),
                duration_ms,
            },
            Err(kadr_outbound::Error::Timeout) => Attempt {
                status: None,
                error: Some(format!("no answer within {} s", timeout.as_secs())),
                duration_ms,
            },
            Err(e) => Attempt {
                status: None,
                error: Some(e.to_string()),
                duration_ms,
            },
        })
    }

    async fn deliver(&self, job: &Job, control: &Control) -> Result<Outcome, String> {
        let ctx = &self.ctx;
        let id = job
            .payload::<DeliveryJob>()
            .map_err(|e| format!("payload: {e}"))?
            .delivery_id;
        let Some(work) = webhooks::load(&ctx.db, id)
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(Outcome::Done);
        };
        if work.state != DeliveryState::Pending {
            return Ok(Outcome::Done);
        }
        if !work.enabled {
            webhooks::give_up(&ctx.db, id, "the endpoint is disabled")
                .await
                .map_err(|e| e.to_string())?;
            return Ok(Outcome::Done);
        }
        let Ok(attempt) = self.attempt(&work, control).await else {
            return Ok(Outcome::Release);
        };
        self.settle(job, &work, &attempt, false).await?;
        Ok(Outcome::Settled)
    }

    /// Records `attempt` and settles `job` by it, in one transaction: done, or due again at
    /// the next attempt (a fresh job when this one is `spent`).
    async fn settle(
        &self,
        job: &Job,
        work: &Work,
        attempt: &Attempt,
        spent: bool,
    ) -> Result<(), String> {
        let ctx = &self.ctx;
        let err = |e: &dyn std::fmt::Display| e.to_string();
        let tx = ctx.db.begin().await.map_err(|e| err(&e))?;
        let recorded = webhooks::record(&tx, &ctx.config, work, attempt)
            .await
            .map_err(|e| err(&e))?;
        match recorded {
            Recorded::RetryAt(at) if !spent => kadr_queue::postpone_on(&tx, job, at)
                .await
                .map_err(|e| err(&e))?,
            Recorded::RetryAt(at) => {
                kadr_queue::complete_on(&tx, job)
                    .await
                    .map_err(|e| err(&e))?;
                webhooks::requeue(&tx, &ctx.config, work, at)
                    .await
                    .map_err(|e| err(&e))?;
            }
            Recorded::Delivered | Recorded::Failed => kadr_queue::complete_on(&tx, job)
                .await
                .map_err(|e| err(&e))?,
        }
        tx.commit().await.map_err(|e| err(&e))?;
        tracing::debug!(
            delivery = %work.id,
            endpoint = %work.endpoint_id,
            event = %work.event_id,
            status = ?attempt.status,
            error = ?attempt.error,
            ms = attempt.duration_ms,
            outcome = ?recorded,
            "webhook attempt"
        );
        Ok(())
    }
}

impl Handler for Deliveries {
    fn run(&self, job: Job, control: Control) -> BoxFuture<Outcome> {
        let this = self.clone();
        Box::pin(async move {
            match this.deliver(&job, &control).await {
                Ok(outcome) => outcome,
                // Ours (the database): the queue retries the job with its own backoff.
                Err(why) => {
                    tracing::warn!(error = %why, "could not make a webhook delivery");
                    Outcome::Retry(why)
                }
            }
        })
    }

    /// Workers died on every attempt of this job: that counts as a failed attempt of the
    /// delivery, which goes on with a fresh job by its own schedule.
    fn exhausted(&self, job: Job, reason: String) -> BoxFuture<Outcome> {
        let this = self.clone();
        Box::pin(async move {
            let Ok(payload) = job.payload::<DeliveryJob>() else {
                return Outcome::Fail(reason);
            };
            let work = match webhooks::load(&this.ctx.db, payload.delivery_id).await {
                Ok(Some(w)) if w.state == DeliveryState::Pending => w,
                Ok(_) => return Outcome::Done,
                Err(e) => return Outcome::Fail(format!("{reason}; then: {e}")),
            };
            let attempt = Attempt {
                status: None,
                error: Some("the worker stopped during the attempt".to_owned()),
                duration_ms: 0,
            };
            match this.settle(&job, &work, &attempt, true).await {
                Ok(()) => Outcome::Settled,
                Err(e) => Outcome::Fail(format!("{reason}; then: {e}")),
            }
        })
    }
}

/// Removes finished deliveries and their events after `webhooks.log_days`.
pub struct Prune(pub Context);

impl Periodic for Prune {
    fn run(&self, _control: Control) -> BoxFuture<()> {
        let ctx = self.0.clone();
        Box::pin(async move {
            match webhooks::prune(&ctx.db, ctx.config.webhooks.log_days).await {
                Ok((0, 0)) => {}
                Ok((deliveries, events)) => {
                    tracing::info!(deliveries, events, "old webhook deliveries removed")
                }
                Err(e) => tracing::warn!(error = %e, "pruning webhook deliveries failed"),
            }
        })
    }
}
