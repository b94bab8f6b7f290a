//! The states of Kadr's entities, as Rust enums over the text columns (each has a CHECK
//! constraint naming the same values). SQL that must name a state literally (partial indexes
//! match only literals) takes it from [`sql_list`] or `as_str`, never from a typed-in string.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

macro_rules! states {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $value:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize,
            Deserialize,
        )]
        #[sea_orm(rs_type = "String", db_type = "Text")]
        pub enum $name {
            $(
                $(#[$vmeta])*
                #[sea_orm(string_value = $value)]
                #[serde(rename = $value)]
                $variant,
            )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stored text.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $value,)+
                }
            }

            /// The state stored as `text`, if it is one.
            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($value => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

states! {
    /// Where a video is on its way to being watchable (`videos.status`).
    VideoStatus {
        /// Created; its file has not fully arrived.
        AwaitingUpload = "awaiting_upload",
        /// Its file arrived; a transcode job waits.
        Queued = "queued",
        Processing = "processing",
        /// Every rung published.
        Ready = "ready",
        /// The input's fault (`failure_code`), or ours after every attempt.
        Failed = "failed",
    }
}

states! {
    /// What the transcode of a processing video is doing (`videos.stage`).
    Stage {
        Probing = "probing",
        Transcoding = "transcoding",
        Publishing = "publishing",
    }
}

states! {
    /// Who may see a video besides its owner and moderators (`videos.privacy`).
    Privacy {
        /// Listed, searched, and watched by anyone.
        Public = "public",
        /// Watched by anyone with the link; never listed.
        Unlisted = "unlisted",
        /// The owner and moderators only.
        Private = "private",
    }
}

states! {
    /// A moderator's decision on a video (`videos.moderation`).
    Moderation {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
    }
}

states! {
    /// What a user may do (`users.role`).
    Role {
        User = "user",
        Moderator = "moderator",
        Admin = "admin",
    }
}

states! {
    /// A resumable upload (`uploads.state`).
    UploadState {
        /// Taking bytes.
        Active = "active",
        /// Every byte arrived; the original is stored.
        Complete = "complete",
        /// Ended by its owner (tus termination) or by deleting the video.
        Aborted = "aborted",
        /// Not finished in time; its bytes were removed.
        Expired = "expired",
    }
}

states! {
    /// Where a job is (`jobs.state`), as the domain reads it back (the queue writes it).
    JobState {
        Queued = "queued",
        Running = "running",
        Done = "done",
        Failed = "failed",
        Cancelled = "cancelled",
    }
}

states! {
    /// What storage backend an upload's bytes are in (`uploads.backend`).
    UploadBackend {
        S3 = "s3",
        Local = "local",
    }
}

states! {
    /// A picture made by the transcoder (`images.kind`).
    ImageKind {
        Poster = "poster",
        PosterSmall = "poster_small",
        Storyboard = "storyboard",
        StoryboardVtt = "storyboard_vtt",
        /// A candidate frame the owner may pick as the poster.
        Frame = "frame",
        FrameSmall = "frame_small",
        /// A picture the owner uploaded as the poster.
        Custom = "custom",
        CustomSmall = "custom_small",
        /// The silent hover preview (`preview.mp4`).
        Preview = "preview",
    }
}

states! {
    /// A download file made by the transcoder (`downloads.format`).
    DownloadFormat {
        /// H.264 + AAC, progressive (`moov` first): `downloads/{video}/video.mp4`.
        Mp4 = "mp4",
        /// AAC alone: `downloads/{video}/audio.m4a`.
        M4a = "m4a",
    }
}

impl DownloadFormat {
    /// Its file name in storage and in media URLs.
    pub const fn file_name(self) -> &'static str {
        match self {
            DownloadFormat::Mp4 => "video.mp4",
            DownloadFormat::M4a => "audio.m4a",
        }
    }

    /// The format stored as `file` (`video.mp4`, `audio.m4a`).
    pub fn of_file(file: &str) -> Option<DownloadFormat> {
        DownloadFormat::ALL
            .iter()
            .copied()
            .find(|f| f.file_name() == file)
    }

    pub const fn content_type(self) -> &'static str {
        match self {
            DownloadFormat::Mp4 => "video/mp4",
            DownloadFormat::M4a => "audio/mp4",
        }
    }

    /// The extension of the file a browser saves.
    pub const fn extension(self) -> &'static str {
        match self {
            DownloadFormat::Mp4 => "mp4",
            DownloadFormat::M4a => "m4a",
        }
    }
}

states! {
    /// Who may comment on a video (`videos.comment_policy`), as its owner set it.
    CommentPolicy {
        /// Comments appear at once (unless the author's are held by `moderation.hold_comments`).
        Open = "open",
        /// Every comment waits for the owner or a moderator.
        Hold = "hold",
        /// No new comments; the existing ones are hidden.
        Off = "off",
    }
}

states! {
    /// What a notification is about (`notifications.type`).
    NotificationType {
        /// A subscribed channel published a video.
        NewVideo = "new_video",
        /// Someone replied to my comment.
        CommentReply = "comment_reply",
        /// My video reached a number of likes (10, 100, 1000, …).
        LikeMilestone = "like_milestone",
        /// A moderator approved or rejected my video.
        Moderation = "moderation",
        /// My video finished processing.
        Processed = "processed",
        /// My video could not be processed.
        ProcessingFailed = "processing_failed",
        /// A moderator decided on something I reported.
        ReportResolved = "report_resolved",
        /// A moderator warned me.
        Warning = "warning",
        /// My account was suspended, banned or reinstated.
        Standing = "standing",
        /// One of my webhook endpoints was disabled after failing for too long.
        WebhookDisabled = "webhook_disabled",
    }
}

states! {
    /// A count kept by folding changes (`counter_deltas.counter`).
    Counter {
        VideoLikes = "video_likes",
        VideoDislikes = "video_dislikes",
        VideoComments = "video_comments",
        ChannelSubscribers = "channel_subscribers",
        CommentLikes = "comment_likes",
        CommentReplies = "comment_replies",
    }
}

states! {
    /// A picture of a channel (`channel_images.image`).
    ChannelImage {
        Avatar = "avatar",
        AvatarSmall = "avatar_small",
        Banner = "banner",
        BannerSmall = "banner_small",
    }
}

states! {
    /// A user's standing (`users.standing`).
    Standing {
        Active = "active",
        /// Until `suspended_until`: signed out, content withheld.
        Suspended = "suspended",
        /// Until a moderator reinstates the account: signed out, content withheld.
        Banned = "banned",
    }
}

states! {
    /// What a report is about (`reports.target_type`).
    ReportTarget {
        Video = "video",
        Comment = "comment",
        Channel = "channel",
    }
}

states! {
    /// Why something was reported (`reports.reason`).
    ReportReason {
        Spam = "spam",
        Harassment = "harassment",
        Hate = "hate",
        Violence = "violence",
        Sexual = "sexual",
        ChildSafety = "child_safety",
        Misinformation = "misinformation",
        Copyright = "copyright",
        Other = "other",
    }
}

states! {
    /// What a moderator decided on a report (`reports.outcome`).
    ReportOutcome {
        Dismissed = "dismissed",
        Removed = "removed",
        Warned = "warned",
        Suspended = "suspended",
        Banned = "banned",
    }
}

states! {
    /// An entry of the moderators' record (`moderation_actions.action`).
    ModerationAction {
        /// Reports closed without action.
        Dismiss = "dismiss",
        /// The reported video, comment or channel removed.
        Remove = "remove",
        Warn = "warn",
        Suspend = "suspend",
        Ban = "ban",
        /// A suspension or ban lifted.
        Reinstate = "reinstate",
        /// A video approved or rejected.
        Approve = "approve",
        Reject = "reject",
        /// An administrator's change of a user's role, verified flag or quota.
        Role = "role",
        Verified = "verified",
        Quota = "quota",
    }
}

states! {
    /// What an entry of the moderators' record is about (`moderation_actions.object_type`).
    ObjectType {
        Video = "video",
        Comment = "comment",
        Channel = "channel",
        User = "user",
        Playlist = "playlist",
    }
}

states! {
    /// What a mailed one-time token is for (`account_tokens.purpose`).
    TokenPurpose {
        PasswordReset = "password_reset",
        EmailVerification = "email_verification",
    }
}

states! {
    /// How far an imported video's file got (`imports.state`); once fetched, the video's own
    /// status tells the rest.
    ImportState {
        /// Waiting for a worker (or, for `upload`, for the client's bytes).
        Queued = "queued",
        Fetching = "fetching",
        /// The file is stored and the video queued for transcoding.
        Fetched = "fetched",
        Failed = "failed",
    }
}

states! {
    /// Where an imported video's file comes from (`imports.source`).
    ImportSource {
        /// An `http(s)://` URL, fetched by a worker through the outbound guard.
        Url = "url",
        /// An object in a named S3 source (`s3://SOURCE/BUCKET/KEY`).
        S3 = "s3",
        /// A file the client uploads itself (tus or the simple upload).
        Upload = "upload",
    }
}

states! {
    /// What an API token is (`api_tokens.kind`).
    TokenKind {
        /// Handed out at sign-in: everything its account may do.
        Session = "session",
        /// Made by a person for their own scripts, with the scopes they chose.
        Personal = "personal",
        /// Made for another system (a CMS, a notifier), named after it, with its scopes.
        Integration = "integration",
    }
}

states! {
    /// What a webhook event tells (`webhook_events.event_type`).
    WebhookEvent {
        /// Sent on request to test an endpoint.
        Ping = "ping",
        /// A video was created (its file not yet arrived).
        VideoCreated = "video.created",
        /// A video's file arrived whole (an upload, or an imported file landed).
        UploadCompleted = "upload.completed",
        /// A video has its first segments: players can start.
        VideoPlayable = "video.playable",
        /// A video's whole ladder is published.
        VideoReady = "video.ready",
        /// A video could not be processed or imported.
        VideoFailed = "video.failed",
        /// A moderator approved a video.
        VideoApproved = "video.approved",
        /// A moderator rejected a video.
        VideoRejected = "video.rejected",
        /// A video was deleted.
        VideoDeleted = "video.deleted",
        /// An imported video's file landed.
        ImportItemCompleted = "import.item.completed",
        /// An import failed for good.
        ImportItemFailed = "import.item.failed",
        /// Someone commented on a video.
        CommentCreated = "comment.created",
    }
}

states! {
    /// Where a webhook delivery is (`webhook_deliveries.state`).
    DeliveryState {
        /// Not delivered yet: attempted now or later.
        Pending = "pending",
        /// The endpoint answered 2xx.
        Delivered = "delivered",
        /// Given up: the retry window closed, or the endpoint was disabled.
        Failed = "failed",
    }
}

states! {
    /// Who disabled a webhook endpoint (`webhook_endpoints.disabled_by`).
    DisabledBy {
        /// Its owner turned it off.
        Owner = "owner",
        /// Kadr, after every attempt failed for `webhooks.disable_after_secs`.
        Failures = "failures",
    }
}

impl Role {
    /// Moderators and administrators review videos.
    pub fn moderates(self) -> bool {
        matches!(self, Role::Moderator | Role::Admin)
    }
}

/// `'a', 'b'` for SQL `IN (…)` lists of states (the values are fixed identifiers, never input).
pub fn sql_list<T: Copy>(states: &[T], text: fn(T) -> &'static str) -> String {
    states
        .iter()
        .map(|s| format!("'{}'", text(*s)))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn states_read_back_what_they_store() {
        for s in VideoStatus::ALL {
            assert_eq!(VideoStatus::parse(s.as_str()), Some(*s));
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::Value::String(s.as_str().to_owned())
            );
        }
        assert_eq!(Privacy::parse("secret"), None);
        assert_eq!(
            sql_list(&[Privacy::Public, Privacy::Unlisted], Privacy::as_str),
            "'public', 'unlisted'"
        );
    }

    /// Every migration's source, oldest first.
    fn migrations() -> String {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/src");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('m'))
            })
            .collect();
        files.sort();
        files
            .iter()
            .map(|f| std::fs::read_to_string(f).unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The enums hold exactly the values of the migrations' CHECK constraints (the latest
    /// migration that names a column's list wins, so a migration changing a list is checked).
    #[test]
    fn states_match_the_check_constraints() {
        let schema = migrations();
        let check = |column: &str| -> Vec<String> {
            let at = schema
                .rfind(&format!("CHECK ({column} IN ("))
                .unwrap_or_else(|| panic!("no CHECK on {column}"));
            let rest = &schema[at..];
            let list = &rest[rest.find("IN (").unwrap() + 4..rest.find("))").unwrap()];
            list.split(',')
                .map(|v| v.trim().trim_matches('\'').to_owned())
                .collect()
        };
        // The list of `column` in the first CHECK on it after the last `anchor`.
        let check_after = |anchor: &str, column: &str| -> Vec<String> {
            let at = schema
                .rfind(anchor)
                .unwrap_or_else(|| panic!("no {anchor}"));
            let rest = &schema[at..];
            let rest = &rest[rest
                .find(&format!("CHECK ({column} IN ("))
                .unwrap_or_else(|| panic!("no CHECK on {column} after {anchor}"))..];
            let list = &rest[rest.find("IN (").unwrap() + 4..rest.find("))").unwrap()];
            list.split(',')
                .map(|v| v.trim().trim_matches('\'').to_owned())
                .collect()
        };
        let names = |all: &[&str]| all.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            check("status"),
            names(
                &VideoStatus::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
            )
        );
        assert_eq!(
            check_after("CREATE TABLE jobs", "state"),
            names(&JobState::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>())
        );
        assert_eq!(
            check("privacy"),
            names(&Privacy::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>())
        );
        assert_eq!(
            check("moderation"),
            names(
                &Moderation::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
            )
        );
        assert_eq!(
            check("role"),
            names(&Role::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>())
        );
        assert_eq!(
            check("backend"),
            names(
                &UploadBackend::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
            )
        );
        assert_eq!(
            check_after("ADD CONSTRAINT images_kind_check CHECK (kind IN (", "kind"),
            names(
                &ImageKind::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
            )
        );
        let list = |all: Vec<&str>| names(&all);
        assert_eq!(
            check("comment_policy"),
            list(CommentPolicy::ALL.iter().map(|s| s.as_str()).collect())
        );
        assert_eq!(
            check("type"),
            list(NotificationType::ALL.iter().map(|s| s.as_str()).collect())
        );
        assert_eq!(
            check("counter"),
            list(Counter::ALL.iter().map(|s| s.as_str()).collect())
        );
        assert_eq!(
            check("image"),
            list(ChannelImage::ALL.iter().map(|s| s.as_str()).collect())
        );
        assert_eq!(
            check("standing"),
            list(Standing::ALL.iter().map(|s| s.as_str()).collect())
        );
        assert_eq!(
            check("target_type"),
            list(ReportTarget::ALL.iter().map(|s| s.as_str()).collect())
        );
        assert_eq!(
            check("reason"),
            list(ReportReason::ALL.iter().map(|s| s.as_str()).collect())
        );
        assert_eq!(
            check("format"),
            list(DownloadFormat::ALL.iter().map(|s| s.as_str()).collect())
        );
        assert_eq!(
            check("outcome"),
            list(ReportOutcome::ALL.iter().map(|s| s.as_str()).collect())
        );
        assert_eq!(
            check("action"),
            list(ModerationAction::ALL.iter().map(|s| s.as_str()).collect())
        );
        assert_eq!(
            check("object_type"),
            list(ObjectType::ALL.iter().map(|s| s.as_str()).collect())
        );
        assert_eq!(
            check("purpose"),
            list(TokenPurpose::ALL.iter().map(|s| s.as_str()).collect())
        );
        assert_eq!(
            check_after("CREATE TABLE imports", "state"),
            list(ImportState::ALL.iter().map(|s| s.as_str()).collect())
        );
        assert_eq!(
            check("source"),
            list(ImportSource::ALL.iter().map(|s| s.as_str()).collect())
        );
        assert_eq!(
            check_after("ALTER TABLE api_tokens\n    ADD COLUMN kind", "kind"),
            list(TokenKind::ALL.iter().map(|s| s.as_str()).collect())
        );
        assert_eq!(
            check("event_type"),
            list(WebhookEvent::ALL.iter().map(|s| s.as_str()).collect())
        );
        assert_eq!(
            check_after("CREATE TABLE webhook_deliveries", "state"),
            list(DeliveryState::ALL.iter().map(|s| s.as_str()).collect())
        );
        assert_eq!(
            check("disabled_by"),
            list(DisabledBy::ALL.iter().map(|s| s.as_str()).collect())
        );
        // `state` is checked for uploads and for jobs: the uploads' list is the one naming
        // `active`.
        let at = schema
            .find("CHECK (state IN ('active'")
            .expect("the uploads' state CHECK");
        let rest = &schema[at..];
        let list: Vec<String> = rest[rest.find("IN (").unwrap() + 4..rest.find("))").unwrap()]
            .split(',')
            .map(|v| v.trim().trim_matches('\'').to_owned())
            .collect();
        assert_eq!(
            list,
            names(
                &UploadState::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
            )
        );
    }
}
