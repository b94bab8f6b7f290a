//! Webhook deliveries (`webhook` jobs): one event POSTed to one endpoint through the outbound
//! guard, signed, within `webhooks.timeout_secs`.
//!
//! - **At least once.** The job lives until the delivery is delivered or fails for good: a
//!   failed attempt is recorded on the delivery (status, error, duration) and the job is put
//!   back, due at the delivery's next attempt (`kadr_core::webhooks::backoff`), in one
//!   transaction. A worker that dies mid-attempt leaves the job to be claimed again once its
//!   lease lapses; the receiver may then see the event twice (same event id).
//! - **Bounded.** `webhooks.concurrency` deliveries at once per worker, of which at most
//!   `webhooks.per_endpoint` to one endpoint: a job for an endpoint at its limit is put back
//!   for a moment, so a slow endpoint holds at most that many of the loops and the claims
//!   (which take turns between endpoints) keep serving the others.
//! - **Nothing read beyond need.** The answer's body is read (to reuse the connection) up to
//!   64 KiB and dropped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use kadr_core::state::DeliveryState;
use kadr_core::webhooks::{self, Attempt, DeliveryJob, Recorded, Work};
use kadr_outbound::reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use kadr_queue::Job;
use kadr_queue::runner::{BoxFuture, Control, Handler, Outcome};
use kadr_runtime::Context;
use sea_orm::TransactionTrait;
use uuid::Uuid;

/// How long a job for an endpoint at its limit waits before it is claimed again.
const BUSY_WAIT: Duration = Duration::from_millis(250);
/// The most of an answer's body read.
const BODY_READ_MAX: usize = 64 * 1024;

/// Deliveries in flight per endpoint, in this process.
#[derive(Clone, Default)]
pub struct InFlight(Arc<Mutex<HashMap<Uuid, usize>>>);

/// One delivery in flight to an endpoint; the count goes down when it is dropped.
pub struct Slot {
    flights: InFlight,
    endpoint: Uuid,
}

impl InFlight {
    /// A slot for `endpoint` if it has fewer than `limit` in flight.
    fn take(&self, endpoint: Uuid, limit: usize) -> Option<Slot> {
        let mut map = match self.0.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        let n = map.entry(endpoint).or_insert(0);
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(Slot {
            flights: self.clone(),
            endpoint,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut map = match self.flights.0.lock() {
            Ok(m) => m,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(n) = map.get_mut(&self.endpoint) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.endpoint);
            }
        }
    }
}

/// Makes webhook deliveries.
#[derive(Clone)]
pub struct Deliveries {
    pub ctx: Context,
    pub client: kadr_outbound::Client,
    pub in_flight: InFlight,
}

/// Why a job ended without an attempt to record.
enum Skip {
    /// The endpoint has its share in flight: try again in a moment.
    Busy,
    /// Shutdown or a lost lease during the request.
    Stopped,
}

fn header_value(text: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(text).ok()
}

impl Deliveries {
    /// POSTs `work`'s event once and says how it went.
    async fn attempt(&self, work: &Work, control: &Control) -> Result<Attempt, Skip> {
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
            _ = control.stop().cancelled() => return Err(Skip::Stopped),
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
        let skip = match self
            .in_flight
            .take(work.endpoint_id, ctx.config.webhooks.per_endpoint)
        {
            None => Err(Skip::Busy),
            Some(_slot) => self.attempt(&work, control).await,
        };
        let attempt = match skip {
            Ok(a) => a,
            Err(Skip::Stopped) => return Ok(Outcome::Release),
            Err(Skip::Busy) => {
                let at =
                    chrono::Utc::now() + chrono::Duration::from_std(BUSY_WAIT).unwrap_or_default();
                kadr_queue::postpone_on(&ctx.db, job, at)
                    .await
                    .map_err(|e| e.to_string())?;
                return Ok(Outcome::Settled);
            }
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_endpoint_holds_at_most_its_share_of_slots() {
        let flights = InFlight::default();
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        let one = flights.take(a, 2).unwrap();
        let two = flights.take(a, 2).unwrap();
        assert!(flights.take(a, 2).is_none());
        // Another endpoint is not held back.
        let other = flights.take(b, 2).unwrap();
        drop(one);
        let three = flights.take(a, 2).unwrap();
        drop((two, three, other));
        // Nothing stays behind once every slot is given back.
        assert!(flights.0.lock().unwrap().is_empty());
    }
}
