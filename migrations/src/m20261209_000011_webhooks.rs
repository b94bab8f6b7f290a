//! Signed webhooks: endpoints users register, the events that happen to their videos, and one
//! delivery per event and endpoint.
//!
//! - `webhook_endpoints`: a URL, the event types it wants (`{*}` for all), the secret that
//!   signs what is sent there (and the previous one while a rotation overlaps), whether it is
//!   enabled, and since when every delivery to it has failed (`failing_since`; past
//!   `webhooks.disable_after_secs` it is disabled with a reason). `all_users`: an
//!   administrator's endpoint that hears every user's events.
//! - `webhook_events`: what happened, written in the transaction of the change that caused it
//!   (only when some enabled endpoint wants it), with the payload's `data` as it was then.
//! - `webhook_deliveries`: one event to one endpoint: pending until a 2xx arrives (delivered)
//!   or the retry window closes (failed), with the last attempt's status, error and duration.
//!   A `webhook` job per pending delivery carries it out; the delivery row keeps its schedule.
//! - `notifications.type` gains `webhook_disabled`.

use sea_orm_migration::prelude::*;

use crate::exec;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261209_000011_webhooks"
    }
}

const UP: &str = r#"
CREATE TABLE webhook_endpoints (
    id              uuid PRIMARY KEY,
    owner_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    url             text NOT NULL CHECK (char_length(url) BETWEEN 1 AND 2048),
    description     text NOT NULL DEFAULT '' CHECK (char_length(description) <= 500),
    -- event types, or '*' for every type
    events          text[] NOT NULL CHECK (cardinality(events) >= 1),
    -- an administrator's endpoint hearing every user's events
    all_users       boolean NOT NULL DEFAULT false,
    enabled         boolean NOT NULL DEFAULT true,
    secret          text NOT NULL,
    -- the secret before the last rotation, still signing until previous_until
    previous_secret text,
    previous_until  timestamptz,
    -- the first failed attempt since the last delivered one
    failing_since   timestamptz,
    disabled_reason text,
    disabled_at     timestamptz,
    -- who turned it off: its owner, or Kadr after it failed for too long
    disabled_by     text CHECK (disabled_by IN ('owner', 'failures')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_owner_idx ON webhook_endpoints (owner_id, created_at, id);
CREATE INDEX webhook_endpoints_all_users_idx ON webhook_endpoints (id) WHERE all_users AND enabled;

CREATE TABLE webhook_events (
    id         uuid PRIMARY KEY,
    event_type text NOT NULL CHECK (event_type IN ('ping', 'video.created', 'upload.completed',
                   'video.playable', 'video.ready', 'video.failed', 'video.approved',
                   'video.rejected', 'video.deleted', 'import.item.completed',
                   'import.item.failed', 'comment.created')),
    -- whose event it is (no foreign key: an account's deletion is an event too)
    owner_id   uuid NOT NULL,
    video_id   uuid,
    data       jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_events_created_idx ON webhook_events USING brin (created_at);

CREATE TABLE webhook_deliveries (
    id               uuid PRIMARY KEY,
    endpoint_id      uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id         uuid NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    state            text NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    last_status      integer,
    last_error       text,
    last_duration_ms integer,
    last_attempt_at  timestamptz,
    next_attempt_at  timestamptz,
    delivered_at     timestamptz,
    -- a manual redelivery names the delivery it repeats
    redelivery_of    uuid,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_deliveries_endpoint_idx
    ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_pending_idx
    ON webhook_deliveries (endpoint_id) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id);

ALTER TABLE notifications DROP CONSTRAINT notifications_type_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_type_check
    CHECK (type IN ('new_video', 'comment_reply', 'like_milestone', 'moderation', 'processed',
                    'processing_failed', 'report_resolved', 'warning', 'standing',
                    'webhook_disabled'));
"#;

const DOWN: &str = r#"
DELETE FROM notifications WHERE type = 'webhook_disabled';
ALTER TABLE notifications DROP CONSTRAINT notifications_type_check;
-- (written as `= ANY`, so the schema test reads the list of the way up)
ALTER TABLE notifications ADD CONSTRAINT notifications_type_check
    CHECK (type = ANY (ARRAY['new_video', 'comment_reply', 'like_milestone', 'moderation',
                             'processed', 'processing_failed', 'report_resolved', 'warning',
                             'standing']));
DELETE FROM jobs WHERE queue = 'webhook';
DROP TABLE webhook_deliveries;
DROP TABLE webhook_events;
DROP TABLE webhook_endpoints;
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        exec(manager, UP).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        exec(manager, DOWN).await
    }
}
