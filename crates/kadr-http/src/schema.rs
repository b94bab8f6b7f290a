//! OpenAPI schemas taken from the domain, so the document cannot drift from the code: the
//! error codes, the states a field may hold, and the limits of what a user types. Use them on
//! a field with `#[schema(schema_with = kadr_http::schema::…)]`.

use kadr_core::channels::{CHANNEL_DESCRIPTION_MAX, DISPLAY_NAME_MAX, HANDLE_LEN};
use kadr_core::comments::COMMENT_MAX;
use kadr_core::fields::{
    DESCRIPTION_MAX, PASSWORD_LEN, TAG_MAX, TAGS_MAX, TITLE_MAX, USERNAME_LEN,
};
use kadr_core::review::REASON_MAX;
use kadr_core::state::{
    CommentPolicy, DeliveryState, DisabledBy, Moderation, ModerationAction, NotificationType,
    ObjectType, Privacy, ReportOutcome, ReportReason, ReportTarget, Role, Standing, VideoStatus,
    WebhookEvent,
};
use kadr_core::{Code, Failure};
use utoipa::openapi::schema::{Array, ArrayBuilder, Object, ObjectBuilder, SchemaType, Type};

fn strings(values: Vec<&'static str>, nullable: bool) -> Object {
    let mut enum_values: Vec<serde_json::Value> = values.into_iter().map(Into::into).collect();
    let kind = if nullable {
        enum_values.push(serde_json::Value::Null);
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    };
    ObjectBuilder::new()
        .schema_type(kind)
        .enum_values(Some(enum_values))
        .build()
}

fn text(max: usize, nullable: bool) -> Object {
    let kind = if nullable {
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::Type(Type::String)
    };
    ObjectBuilder::new()
        .schema_type(kind)
        .max_length(Some(max))
        .build()
}

/// Every error code (`Problem.code`).
pub fn code() -> Object {
    strings(Code::ALL.iter().map(|c| c.as_str()).collect(), false)
}

/// Why a video failed (`Failure.code`).
pub fn failure_code() -> Object {
    strings(Failure::ALL.iter().map(|c| c.as_str()).collect(), false)
}

pub fn privacy() -> Object {
    strings(Privacy::ALL.iter().map(|c| c.as_str()).collect(), false)
}

/// A privacy that may be left out.
pub fn privacy_given() -> Object {
    strings(Privacy::ALL.iter().map(|c| c.as_str()).collect(), true)
}

pub fn video_status() -> Object {
    strings(VideoStatus::ALL.iter().map(|c| c.as_str()).collect(), false)
}

pub fn moderation() -> Object {
    strings(Moderation::ALL.iter().map(|c| c.as_str()).collect(), false)
}

pub fn role() -> Object {
    strings(Role::ALL.iter().map(|c| c.as_str()).collect(), false)
}

/// A role that may be left out.
pub fn role_given() -> Object {
    strings(Role::ALL.iter().map(|c| c.as_str()).collect(), true)
}

fn text_between(len: std::ops::RangeInclusive<usize>) -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::Type(Type::String))
        .min_length(Some(*len.start()))
        .max_length(Some(*len.end()))
        .build()
}

pub fn username() -> Object {
    text_between(USERNAME_LEN)
}

pub fn password() -> Object {
    text_between(PASSWORD_LEN)
}

/// A title that may be left out.
pub fn title_given() -> Object {
    text(TITLE_MAX, true)
}

/// A description that may be left out.
pub fn description_given() -> Object {
    text(DESCRIPTION_MAX, true)
}

/// A moderator's reason, which may be left out.
pub fn reason_given() -> Object {
    let mut o = text(REASON_MAX, true);
    o.description =
        Some("Why: required to reject (shown to the owner), optional to approve.".to_owned());
    o
}

/// The name a sign-in gives.
pub fn login_name() -> Object {
    text(kadr_core::accounts::LOGIN_NAME_MAX, false)
}

/// The kind of a token handed out: always `Bearer`.
pub fn bearer() -> Object {
    strings(vec!["Bearer"], false)
}

/// Tags that may be left out.
pub fn tags_given() -> Array {
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(text(TAG_MAX, false))
        .max_items(Some(TAGS_MAX))
        .build()
}

pub fn comment_policy() -> Object {
    strings(
        CommentPolicy::ALL.iter().map(|c| c.as_str()).collect(),
        false,
    )
}

/// A comment policy that may be left out.
pub fn comment_policy_given() -> Object {
    strings(
        CommentPolicy::ALL.iter().map(|c| c.as_str()).collect(),
        true,
    )
}

pub fn notification_type() -> Object {
    strings(
        NotificationType::ALL.iter().map(|c| c.as_str()).collect(),
        false,
    )
}

/// A webhook event type.
pub fn webhook_event() -> Object {
    strings(
        WebhookEvent::ALL.iter().map(|c| c.as_str()).collect(),
        false,
    )
}

/// Where a webhook delivery is.
pub fn delivery_state() -> Object {
    strings(
        DeliveryState::ALL.iter().map(|c| c.as_str()).collect(),
        false,
    )
}

/// Who disabled a webhook endpoint (null while it is enabled).
pub fn webhook_disabled_by() -> Object {
    strings(DisabledBy::ALL.iter().map(|c| c.as_str()).collect(), true)
}

/// A rating of a video.
pub fn rating() -> Object {
    strings(vec!["like", "dislike", "none"], false)
}

pub fn handle() -> Object {
    text_between(HANDLE_LEN)
}

/// A handle that may be left out.
pub fn handle_given() -> Object {
    text(*HANDLE_LEN.end(), true)
}

/// A display name that may be left out.
pub fn display_name_given() -> Object {
    text(DISPLAY_NAME_MAX, true)
}

/// A channel description that may be left out.
pub fn channel_description_given() -> Object {
    text(CHANNEL_DESCRIPTION_MAX, true)
}

/// A comment's text.
pub fn comment_body() -> Object {
    text_between(1..=COMMENT_MAX)
}

/// A user's standing.
pub fn standing() -> Object {
    strings(Standing::ALL.iter().map(|c| c.as_str()).collect(), false)
}

/// A standing that may be left out.
pub fn standing_given() -> Object {
    strings(Standing::ALL.iter().map(|c| c.as_str()).collect(), true)
}

/// What a report is about.
pub fn report_target() -> Object {
    strings(
        ReportTarget::ALL.iter().map(|c| c.as_str()).collect(),
        false,
    )
}

/// Why something is reported.
pub fn report_reason() -> Object {
    strings(
        ReportReason::ALL.iter().map(|c| c.as_str()).collect(),
        false,
    )
}

/// What became of a report (`null` while open).
pub fn report_outcome() -> Object {
    strings(
        ReportOutcome::ALL.iter().map(|c| c.as_str()).collect(),
        true,
    )
}

/// An entry of the moderators' record.
pub fn moderation_action() -> Object {
    strings(
        ModerationAction::ALL.iter().map(|c| c.as_str()).collect(),
        false,
    )
}

/// What an entry of the moderators' record is about.
pub fn object_type() -> Object {
    strings(ObjectType::ALL.iter().map(|c| c.as_str()).collect(), true)
}

/// What a moderator does about a target's reports.
pub fn resolution() -> Object {
    strings(vec!["dismiss", "remove", "warn", "suspend", "ban"], false)
}

/// What a moderator does to a user.
pub fn sanction() -> Object {
    strings(vec!["warn", "suspend", "ban", "reinstate"], false)
}

/// A playlist's title.
pub fn playlist_title() -> Object {
    text_between(1..=kadr_core::playlists::TITLE_MAX)
}

/// A playlist's title that may be left out.
pub fn playlist_title_given() -> Object {
    text(kadr_core::playlists::TITLE_MAX, true)
}

/// A playlist's description that may be left out.
pub fn playlist_description_given() -> Object {
    text(kadr_core::playlists::DESCRIPTION_MAX, true)
}
