//! Likes and dislikes: one rating per user and video, changeable. The counts move through
//! [`crate::counters`], so a popular video's likes never wait on its row.

use std::time::Duration;

use kadr_config::Config;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use uuid::Uuid;

use crate::codes::Code;
use crate::counters;
use crate::entities::user;
use crate::error::DomainError;
use crate::state::Counter;
use crate::throttle::{self, Verdict};

/// A user's rating of a video.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rating {
    Like,
    Dislike,
    None,
}

impl Rating {
    pub fn parse(text: &str) -> Option<Rating> {
        match text {
            "like" => Some(Rating::Like),
            "dislike" => Some(Rating::Dislike),
            "none" => Some(Rating::None),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Rating::Like => "like",
            Rating::Dislike => "dislike",
            Rating::None => "none",
        }
    }

    fn stored(self) -> Option<i16> {
        match self {
            Rating::Like => Some(1),
            Rating::Dislike => Some(-1),
            Rating::None => None,
        }
    }

    fn from_stored(v: Option<i16>) -> Rating {
        match v {
            Some(1) => Rating::Like,
            Some(-1) => Rating::Dislike,
            _ => Rating::None,
        }
    }

    fn counter(self) -> Option<Counter> {
        match self {
            Rating::Like => Some(Counter::VideoLikes),
            Rating::Dislike => Some(Counter::VideoDislikes),
            Rating::None => None,
        }
    }
}

/// Counts one action of `user` against `community.actions_per_minute` (ratings, comment
/// likes, subscription changes).
pub async fn count_action(
    db: &impl ConnectionTrait,
    config: &Config,
    user: Uuid,
) -> Result<(), DomainError> {
    let verdict = throttle::attempt(
        db,
        &format!("act:{user}"),
        config.community.actions_per_minute,
        Duration::from_secs(60),
    )
    .await?;
    match verdict {
        Verdict::Allowed => Ok(()),
        Verdict::Blocked(wait) => Err(throttle::too_many(
            Code::TooManyActions,
            "Too many likes, ratings or subscription changes",
            wait,
        )),
    }
}

/// Sets `user`'s rating of `video` (whose visibility the caller checked). Returns the rating
/// before.
pub async fn rate(
    db: &DatabaseConnection,
    config: &Config,
    user: &user::Model,
    video: Uuid,
    rating: Rating,
) -> Result<Rating, DomainError> {
    count_action(db, config, user.id).await?;
    let tx = db.begin().await?;
    // Each statement decides on the row as it is when it gets its lock, so two requests of
    // the same user at once count once.
    let before = match rating.stored() {
        Some(v) => {
            let row = tx
                .query_one_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "INSERT INTO video_ratings (user_id, video_id, rating) VALUES ($1, $2, $3)
                     ON CONFLICT (user_id, video_id) DO UPDATE SET rating = excluded.rating,
                         rated_at = now()
                     WHERE video_ratings.rating <> excluded.rating
                     RETURNING (xmax = 0) AS fresh",
                    [user.id.into(), video.into(), v.into()],
                ))
                .await?;
            match row {
                None => rating,
                Some(r) if r.try_get::<bool>("", "fresh")? => Rating::None,
                Some(_) => Rating::from_stored(Some(-v)),
            }
        }
        None => {
            let row = tx
                .query_one_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "DELETE FROM video_ratings WHERE user_id = $1 AND video_id = $2
                     RETURNING rating",
                    [user.id.into(), video.into()],
                ))
                .await?;
            Rating::from_stored(row.map(|r| r.try_get::<i16>("", "rating")).transpose()?)
        }
    };
    if before != rating {
        let mut changes = Vec::new();
        if let Some(c) = before.counter() {
            changes.push((c, video, -1));
        }
        if let Some(c) = rating.counter() {
            changes.push((c, video, 1));
        }
        counters::add(&tx, &changes).await?;
    }
    tx.commit().await?;
    Ok(before)
}

/// `user`'s rating of `video`.
pub async fn of(db: &impl ConnectionTrait, user: Uuid, video: Uuid) -> Result<Rating, DomainError> {
    let v = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT rating FROM video_ratings WHERE user_id = $1 AND video_id = $2",
            [user.into(), video.into()],
        ))
        .await?
        .map(|r| r.try_get::<i16>("", "rating"))
        .transpose()?;
    Ok(Rating::from_stored(v))
}
