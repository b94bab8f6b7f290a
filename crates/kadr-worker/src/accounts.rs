//! Accounts' background work: mail sent through SMTP (`mail`), accounts deleted with what
//! they made (`delete_account`), suspensions lifted when their time is up
//! (`lift_suspensions`), and related videos worked out ahead (`relate`).

use std::time::Duration;

use kadr_core::entities::user;
use kadr_core::leaving::DeleteAccount;
use kadr_core::mail::{MailJob, Message};
use kadr_queue::Job;
use kadr_queue::runner::{BoxFuture, Control, Handler, Outcome, Periodic};
use kadr_runtime::Context;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sea_orm::EntityTrait;

/// How often suspensions are looked at.
pub const LIFT_EVERY: Duration = Duration::from_secs(5);
/// Suspensions lifted per pass.
const LIFT_BATCH: u64 = 100;
/// Videos (or comment threads) of a leaving account removed per transaction.
const DELETE_BATCH: u64 = 50;

fn retry(what: &str, e: impl std::fmt::Display) -> Outcome {
    Outcome::Retry(format!("{what}: {e}"))
}

/// Where links in mail point: `server.public_url`, or the address of `kadr all`.
fn site(ctx: &Context) -> String {
    match &ctx.config.server.public_url {
        Some(u) => u.trim_end_matches('/').to_owned(),
        None => format!("http://{}", ctx.config.server.listen),
    }
}

/// Sends one message through the configured SMTP server.
pub async fn send(ctx: &Context, m: &Message) -> Result<(), String> {
    let mail = &ctx.config.mail;
    let url = mail
        .smtp_url
        .as_ref()
        .filter(|u| !u.is_empty())
        .ok_or("mail.smtp_url is not set")?;
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
        .map_err(|e| format!("mail.smtp_url: {e}"))?
        .timeout(Some(Duration::from_secs(mail.timeout_secs)))
        .build();
    let message = lettre::Message::builder()
        .from(mail.from.parse().map_err(|e| format!("mail.from: {e}"))?)
        .to(m.to.parse().map_err(|e| format!("recipient: {e}"))?)
        .subject(m.subject.clone())
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        // Base64: Cyrillic text would be mostly escapes in quoted-printable.
        .body(
            lettre::message::Body::new_with_encoding(
                m.text.clone(),
                lettre::message::header::ContentTransferEncoding::Base64,
            )
            .map_err(|_| "the message cannot be encoded".to_owned())?,
        )
        .map_err(|e| format!("building the message: {e}"))?;
    transport
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| format!("SMTP: {e}"))
}

/// Writes and sends a mail: a fresh one-time token each time (only its hash is stored).
pub struct Mail(pub Context);

impl Handler for Mail {
    fn run(&self, job: Job, _control: Control) -> BoxFuture<Outcome> {
        let ctx = self.0.clone();
        Box::pin(async move {
            let work = match job.payload::<MailJob>() {
                Ok(w) => w,
                Err(e) => return Outcome::Fail(format!("unreadable mail job: {e}")),
            };
            if !ctx.config.mail.enabled() {
                return Outcome::Fail("mail.smtp_url is not set".to_owned());
            }
            let user = match user::Entity::find_by_id(work.user_id).one(&ctx.db).await {
                Ok(Some(u)) if u.deleting_at.is_none() => u,
                Ok(_) => return Outcome::Done,
                Err(e) => return retry("database", e),
            };
            let (token, expires) = match kadr_core::mail::issue(
                &ctx.db,
                &ctx.config,
                user.id,
                work.purpose,
                &user.email,
            )
            .await
            {
                Ok(t) => t,
                Err(e) => return retry("database", e),
            };
            let message = kadr_core::mail::compose(
                work.purpose,
                &site(&ctx),
                &user.username,
                &user.email,
                &token,
                expires,
            );
            match send(&ctx, &message).await {
                Ok(()) => {
                    tracing::info!(user = %user.id, purpose = %work.purpose, "mail sent");
                    Outcome::Done
                }
                // The server may be down for a while: the queue retries with its backoff.
                Err(e) => retry("mail", e),
            }
        })
    }
}

/// Deletes an account step by step; stops between steps when asked and resumes where it was.
pub struct DeleteAccounts(pub Context);

impl Handler for DeleteAccounts {
    fn run(&self, job: Job, control: Control) -> BoxFuture<Outcome> {
        let ctx = self.0.clone();
        Box::pin(async move {
            let work = match job.payload::<DeleteAccount>() {
                Ok(w) => w,
                Err(e) => return Outcome::Fail(format!("unreadable delete_account job: {e}")),
            };
            loop {
                if control.stop().is_cancelled() {
                    return Outcome::Release;
                }
                match kadr_core::leaving::step(&ctx.db, &ctx.config, work.user_id, DELETE_BATCH)
                    .await
                {
                    Ok(true) => {
                        tracing::info!(user = %work.user_id, "account deleted");
                        return Outcome::Done;
                    }
                    Ok(false) => {}
                    Err(e) => return retry("database", e),
                }
            }
        })
    }
}

/// Reinstates users whose suspension has run out.
pub struct LiftSuspensions(pub Context);

impl Periodic for LiftSuspensions {
    fn run(&self, _control: Control) -> BoxFuture<()> {
        let ctx = self.0.clone();
        Box::pin(async move {
            match kadr_core::standing::lift_expired(&ctx.db, &ctx.config, LIFT_BATCH).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(users = n, "suspensions ended"),
                Err(e) => tracing::warn!(error = %e, "lifting suspensions failed"),
            }
        })
    }
}

/// How often related videos are worked out.
pub const RELATE_EVERY: Duration = Duration::from_secs(1);
/// Videos whose related list is worked out per pass.
const RELATE_BATCH: u64 = 20;

/// Works out related videos of newly listed videos, and again of old lists.
pub struct Relate(pub Context);

impl Periodic for Relate {
    fn run(&self, _control: Control) -> BoxFuture<()> {
        let ctx = self.0.clone();
        Box::pin(async move {
            if let Err(e) = kadr_core::related::compute_pending(&ctx.db, RELATE_BATCH).await {
                tracing::warn!(error = %e, "working out related videos failed");
            }
        })
    }
}
