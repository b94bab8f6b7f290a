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
use kadr_db::entities::user;

/// Moderation states, as stored in `videos.moderation`.
pub const PENDING: &str = "pending";
pub const APPROVED: &str = "approved";
pub const REJECTED: &str = "rejected";

/// What the owner is told when a change sent an approved video back to review.
pub const BACK_TO_REVIEW: &str =
    "Changed after approval: waiting for a moderator to review it again";

/// Whether what `user` publishes skips the queue.
pub fn trusted(config: &ModerationConfig, user: &user::Model) -> bool {
    !config.require_review || user.verified || user.is_moderator()
}

/// The moderation state of a new video of `owner`.
pub fn initial_state(config: &ModerationConfig, owner: &user::Model) -> &'static str {
    if trusted(config, owner) {
        APPROVED
    } else {
        PENDING
    }
}

/// Whether an edit by `editor` (the owner, or an admin acting for them) of fields viewers see
/// sends a video in moderation state `current` back to review.
pub fn edit_returns_to_review(
    config: &ModerationConfig,
    editor: &user::Model,
    current: &str,
    changes_what_viewers_see: bool,
) -> bool {
    changes_what_viewers_see
        && config.review_edits
        && current == APPROVED
        && !trusted(config, editor)
}

/// Whether a video in `status` may be approved.
pub fn approvable(status: &str) -> bool {
    status == "ready"
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn user(role: &str, verified: bool) -> user::Model {
        let now = chrono::Utc::now().fixed_offset();
        user::Model {
            id: uuid::Uuid::nil(),
            username: "u".into(),
            email: "u@example.org".into(),
            password_hash: String::new(),
            role: role.into(),
            verified,
            storage_used_bytes: 0,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn edits_of_approved_videos_by_untrusted_owners_go_back() {
        let on = ModerationConfig::default();
        let plain = user("user", false);
        assert!(edit_returns_to_review(&on, &plain, APPROVED, true));
        assert!(!edit_returns_to_review(&on, &plain, APPROVED, false));
        assert!(!edit_returns_to_review(&on, &plain, PENDING, true));
        assert!(!edit_returns_to_review(&on, &plain, REJECTED, true));
        assert!(!edit_returns_to_review(
            &on,
            &user("user", true),
            APPROVED,
            true
        ));
        assert!(!edit_returns_to_review(
            &on,
            &user("moderator", false),
            APPROVED,
            true
        ));
        let off = ModerationConfig {
            review_edits: false,
            ..ModerationConfig::default()
        };
        assert!(!edit_returns_to_review(&off, &plain, APPROVED, true));
        let open = ModerationConfig {
            require_review: false,
            ..ModerationConfig::default()
        };
        assert!(!edit_returns_to_review(&open, &plain, APPROVED, true));
        assert_eq!(initial_state(&on, &plain), PENDING);
        assert_eq!(initial_state(&open, &plain), APPROVED);
    }

    #[test]
    fn only_ready_videos_are_approvable() {
        assert!(approvable("ready"));
        for s in ["awaiting_upload", "queued", "processing", "failed"] {
            assert!(!approvable(s), "{s}");
        }
    }
}
