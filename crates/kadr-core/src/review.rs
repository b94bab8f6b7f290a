//! The moderation rule for new videos and for changes viewers would see.
//!
//! - A new video of a user who is not trusted (verified, moderator or admin) waits for a
//!   moderator when `moderation.require_review` is on.
//! - A decision covers what was decided on: when an untrusted owner changes anything viewers
//!   would see on an approved video (title, description and tags today; thumbnails, captions
//!   and channel art under the same rule as they are added) it goes back to review, unless
//!   `moderation.review_edits` is off. A new source after a decision always goes back.
//! - Only a video that is ready (its media complete) can be approved: a moderator approves
//!   what they could watch.

use kadr_config::ModerationConfig;
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement};
use uuid::Uuid;

use crate::codes::Code;
use crate::entities::user;
use crate::error::DomainError;
use crate::fields;
use crate::state::{Moderation, VideoStatus};

/// Longest reason, in characters.
pub const REASON_MAX: usize = 1000;

/// What the owner is told when a change sent an approved video back to review.
pub const BACK_TO_REVIEW: &str =
    "Changed after approval: waiting for a moderator to review it again";

/// Whether what `user` publishes skips the queue.
pub fn trusted(config: &ModerationConfig, user: &user::Model) -> bool {
    !config.require_review || user.verified || user.is_moderator()
}

/// The moderation state of a new video of `owner`.
pub fn initial_state(config: &ModerationConfig, owner: &user::Model) -> Moderation {
    if trusted(config, owner) {
        Moderation::Approved
    } else {
        Moderation::Pending
    }
}

/// Whether an edit by `editor` (the owner, or an admin acting for them) of fields viewers see
/// sends a video in moderation state `current` back to review.
pub fn edit_returns_to_review(
    config: &ModerationConfig,
    editor: &user::Model,
    current: Moderation,
    changes_what_viewers_see: bool,
) -> bool {
    changes_what_viewers_see
        && config.review_edits
        && current == Moderation::Approved
        && !trusted(config, editor)
}

/// Whether a video in `status` may be approved.
pub fn approvable(status: VideoStatus) -> bool {
    status == VideoStatus::Ready
}

/// A decision as asked: checked before anything is written.
#[derive(Debug, Clone)]
pub struct Decision {
    pub decision: Moderation,
    /// Why, trimmed; required to reject (the owner sees it).
    pub reason: Option<String>,
}

impl Decision {
    /// Checks a decision on a video in `status`: only a ready video can be approved (a
    /// moderator approves what they could watch), a rejection needs a reason, and a reason is
    /// plain text of at most [`REASON_MAX`] characters.
    pub fn check(
        decision: Moderation,
        reason: Option<&str>,
        status: VideoStatus,
    ) -> Result<Decision, DomainError> {
        if decision == Moderation::Pending {
            return Err(DomainError::Internal(
                "pending is not a decision".to_owned(),
            ));
        }
        if decision == Moderation::Approved && !approvable(status) {
            return Err(DomainError::refused(
                Code::NotReady,
                "Only a video that is ready can be approved: watch it first",
            )
            .detail(format!("status: {status}")));
        }
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if let Some(r) = reason {
            fields::plain_text("reason", r, true)?;
            if r.chars().count() > REASON_MAX {
                return Err(DomainError::invalid(
                    "reason",
                    "A reason has at most 1000 characters",
                ));
            }
        }
        if decision == Moderation::Rejected && reason.is_none() {
            return Err(DomainError::refused(
                Code::ReasonRequired,
                "Say why the video is rejected: the owner sees it",
            )
            .field("reason"));
        }
        Ok(Decision {
            decision,
            reason: reason.map(str::to_owned),
        })
    }

    /// Records the decision on `video_id` by `moderator` in `tx`: the video's state and
    /// reason, and a row in `moderation_decisions` with who and when; the owner is told.
    pub async fn record(
        &self,
        tx: &DatabaseTransaction,
        config: &kadr_config::Config,
        by: &user::Model,
        video_id: Uuid,
    ) -> Result<(), DomainError> {
        let owner = self.apply(tx, config, by, video_id).await?;
        // The owner is told by a job (their own decisions on their own videos excepted).
        if let Some(owner) = owner
            && owner != by.id
        {
            crate::notifications::enqueue(
                tx,
                config,
                &crate::notifications::NewNotification {
                    user_id: owner,
                    kind: crate::state::NotificationType::Moderation,
                    video_id: Some(video_id),
                    comment_id: None,
                    actor_id: Some(by.id),
                    data: serde_json::json!({
                        "decision": self.decision.as_str(),
                        "reason": self.reason,
                    }),
                },
            )
            .await?;
        }
        Ok(())
    }

    /// Records the decision as [`Decision::record`] does, without telling the owner (a
    /// decision on a whole import batch tells them once).
    pub async fn record_quietly(
        &self,
        tx: &impl ConnectionTrait,
        config: &kadr_config::Config,
        by: &user::Model,
        video_id: Uuid,
    ) -> Result<(), DomainError> {
        self.apply(tx, config, by, video_id).await.map(|_| ())
    }

    /// The video's state, its standing entry and its decision row; the owner, if the video
    /// exists.
    async fn apply(
        &self,
        tx: &impl ConnectionTrait,
        config: &kadr_config::Config,
        by: &user::Model,
        video_id: Uuid,
    ) -> Result<Option<Uuid>, DomainError> {
        let moderator = by.id;
        let owner = tx
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "UPDATE videos SET moderation = $2, moderation_reason = $3, moderated_by = $4,
                 moderated_at = now(), updated_at = now() WHERE id = $1 RETURNING owner_id",
                [
                    video_id.into(),
                    self.decision.as_str().into(),
                    self.reason.clone().into(),
                    moderator.into(),
                ],
            ))
            .await?;
        let owner = match owner {
            Some(row) => Some(row.try_get::<Uuid>("", "owner_id")?),
            None => None,
        };
        if let Some(owner) = owner {
            let action = if self.decision == Moderation::Approved {
                crate::state::ModerationAction::Approve
            } else {
                crate::state::ModerationAction::Reject
            };
            crate::standing::record(
                tx,
                Some(by),
                &crate::standing::Entry::new(
                    action,
                    Some(owner),
                    self.reason.as_deref().unwrap_or_default(),
                )
                .object(crate::state::ObjectType::Video, video_id),
            )
            .await?;
            // Systems listening are told, in the same transaction.
            let told = if self.decision == Moderation::Approved {
                crate::state::WebhookEvent::VideoApproved
            } else {
                crate::state::WebhookEvent::VideoRejected
            };
            crate::webhooks::emit(
                tx,
                config,
                crate::webhooks::Event::video(told, owner, video_id)
                    .data(serde_json::json!({ "reason": self.reason })),
            )
            .await?;
        }
        tx.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO moderation_decisions (id, video_id, moderator_id, decision, reason)
             VALUES ($1, $2, $3, $4, $5)",
            [
                Uuid::now_v7().into(),
                video_id.into(),
                moderator.into(),
                self.decision.as_str().into(),
                self.reason.clone().into(),
            ],
        ))
        .await?;
        Ok(owner)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::state::Role;

    fn user(role: Role, verified: bool) -> user::Model {
        let now = chrono::Utc::now().fixed_offset();
        user::Model {
            id: uuid::Uuid::nil(),
            username: "u".into(),
            email: "u@example.org".into(),
            password_hash: String::new(),
            role,
            verified,
            storage_used_bytes: 0,
            created_at: now,
            updated_at: now,
            standing: crate::state::Standing::Active,
            suspended_until: None,
            display_name: String::new(),
            bio: String::new(),
            email_verified: false,
            quota_bytes: None,
            history_paused: false,
            deleting_at: None,
            ui_language: None,
            video_language: None,
        }
    }

    #[test]
    fn edits_of_approved_videos_by_untrusted_owners_go_back() {
        let on = ModerationConfig::default();
        let plain = user(Role::User, false);
        assert!(edit_returns_to_review(
            &on,
            &plain,
            Moderation::Approved,
            true
        ));
        assert!(!edit_returns_to_review(
            &on,
            &plain,
            Moderation::Approved,
            false
        ));
        assert!(!edit_returns_to_review(
            &on,
            &plain,
            Moderation::Pending,
            true
        ));
        assert!(!edit_returns_to_review(
            &on,
            &plain,
            Moderation::Rejected,
            true
        ));
        assert!(!edit_returns_to_review(
            &on,
            &user(Role::User, true),
            Moderation::Approved,
            true
        ));
        assert!(!edit_returns_to_review(
            &on,
            &user(Role::Moderator, false),
            Moderation::Approved,
            true
        ));
        let off = ModerationConfig {
            review_edits: false,
            ..ModerationConfig::default()
        };
        assert!(!edit_returns_to_review(
            &off,
            &plain,
            Moderation::Approved,
            true
        ));
        let open = ModerationConfig {
            require_review: false,
            ..ModerationConfig::default()
        };
        assert!(!edit_returns_to_review(
            &open,
            &plain,
            Moderation::Approved,
            true
        ));
        assert_eq!(initial_state(&on, &plain), Moderation::Pending);
        assert_eq!(initial_state(&open, &plain), Moderation::Approved);
    }

    #[test]
    fn decisions_are_checked() {
        let ok =
            Decision::check(Moderation::Approved, Some("  fine "), VideoStatus::Ready).unwrap();
        assert_eq!(ok.reason.as_deref(), Some("fine"));
        let code = |r: Result<Decision, DomainError>| r.unwrap_err().code();
        assert_eq!(
            code(Decision::check(
                Moderation::Approved,
                None,
                VideoStatus::Processing
            )),
            Some(Code::NotReady)
        );
        assert_eq!(
            code(Decision::check(
                Moderation::Rejected,
                Some("  "),
                VideoStatus::Ready
            )),
            Some(Code::ReasonRequired)
        );
        // Rejecting does not need a ready video.
        assert!(Decision::check(Moderation::Rejected, Some("spam"), VideoStatus::Queued).is_ok());
        assert_eq!(
            code(Decision::check(
                Moderation::Rejected,
                Some(&"x".repeat(1001)),
                VideoStatus::Ready
            )),
            Some(Code::InvalidField)
        );
        assert_eq!(
            code(Decision::check(
                Moderation::Rejected,
                Some("a\0b"),
                VideoStatus::Ready
            )),
            Some(Code::InvalidField)
        );
    }

    #[test]
    fn only_ready_videos_are_approvable() {
        for s in VideoStatus::ALL {
            assert_eq!(approvable(*s), *s == VideoStatus::Ready, "{s}");
        }
    }
}
