//! Subscriptions: a user follows channels. The subscriber count moves through
//! [`crate::counters`]; subscribing puts the channel's newest listed videos into the user's feed
//! (later ones arrive through the announcement, [`crate::feed`]).

use kadr_config::Config;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};

use crate::channels::ChannelRow;
use crate::codes::Code;
use crate::counters;
use crate::entities::user;
use crate::error::DomainError;
use crate::ratings::count_action;
use crate::state::Counter;
use crate::visibility::LISTED;

/// How many of a channel's newest listed videos a new subscriber's feed receives.
pub const FEED_BACKFILL: i64 = 30;

/// Subscribes `user` to `channel`. Returns whether they were not subscribed before.
pub async fn subscribe(
    db: &DatabaseConnection,
    config: &Config,
    user: &user::Model,
    channel: &ChannelRow,
) -> Result<bool, DomainError> {
    if channel.owner_id == user.id {
        return Err(DomainError::refused(
            Code::OwnChannel,
            "You cannot subscribe to your own channel",
        ));
    }
    let tx = db.begin().await?;
    count_action(&tx, config, user.id).await?;
    let fresh = tx
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO subscriptions (user_id, channel_id) VALUES ($1, $2)
             ON CONFLICT DO NOTHING RETURNING 1 AS fresh",
            [user.id.into(), channel.id.into()],
        ))
        .await?
        .is_some();
    if fresh {
        counters::add(&tx, &[(Counter::ChannelSubscribers, channel.id, 1)]).await?;
        tx.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "INSERT INTO feed_items (user_id, published_at, video_id, channel_id, is_short)
                 SELECT $1, v.published_at, v.id, v.channel_id, v.is_short FROM videos v
                 WHERE v.channel_id = $2 AND {LISTED} AND v.published_at IS NOT NULL
                 ORDER BY v.published_at DESC, v.id DESC LIMIT {FEED_BACKFILL}
                 ON CONFLICT DO NOTHING"
            ),
            [user.id.into(), channel.id.into()],
        ))
        .await?;
    }
    tx.commit().await?;
    Ok(fresh)
}

/// Unsubscribes `user` from `channel`; its videos leave the feed. Returns whether they were
/// subscribed.
pub async fn unsubscribe(
    db: &DatabaseConnection,
    config: &Config,
    user: &user::Model,
    channel: &ChannelRow,
) -> Result<bool, DomainError> {
    let tx = db.begin().await?;
    count_action(&tx, config, user.id).await?;
    let was = tx
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "DELETE FROM subscriptions WHERE user_id = $1 AND channel_id = $2 RETURNING 1 AS was",
            [user.id.into(), channel.id.into()],
        ))
        .await?
        .is_some();
    if was {
        counters::add(&tx, &[(Counter::ChannelSubscribers, channel.id, -1)]).await?;
        tx.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "DELETE FROM feed_items WHERE user_id = $1 AND channel_id = $2",
            [user.id.into(), channel.id.into()],
        ))
        .await?;
    }
    tx.commit().await?;
    Ok(was)
}
