//! Likes and dislikes: one rating per user and video, changeable. The counts move through
//! [`crate::counters`], so a popular video's likes never wait on its row.

use std::time::Duration;

use kadr_config::Config;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use uuid::Uuid;

use crate::codes::Code;
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
///
/// One statement, the hot path of a popular video: the action is counted against
/// `community.actions_per_minute`, the rating written only when that allows, and the count
/// changes appended, together. Each part decides on the rating's row as it is when it gets the
/// row's lock, so two requests of the same user at once count once.
pub async fn rate(
    db: &DatabaseConnection,
    config: &Config,
    user: &user::Model,
    video: Uuid,
    rating: Rating,
) -> Result<Rating, DomainError> {
    let key = format!("act:{}", user.id);
    let max = config.community.actions_per_minute;
    let mut values: Vec<sea_orm::Value> = vec![
        key.clone().into(),
        throttle::window_secs(Duration::from_secs(60)).into(),
        i64::from(max).into(),
        user.id.into(),
        video.into(),
    ];
    let change = match (rating.stored(), rating.counter()) {
        (Some(v), Some(counter)) => {
            let opposite = Rating::from_stored(Some(-v)).counter().map(Counter::as_str);
            values.push(v.into());
            values.push(counter.as_str().into());
            values.push(opposite.unwrap_or_default().into());
            // A fresh row adds to its count; a changed one also takes from the other.
            "r AS (INSERT INTO video_ratings (user_id, video_id, rating) SELECT $4, $5, $6 FROM ok
                   ON CONFLICT (user_id, video_id) DO UPDATE SET rating = excluded.rating,
                       rated_at = now()
                   WHERE video_ratings.rating <> excluded.rating
                   RETURNING (xmax = 0) AS fresh, -rating AS before),
             d AS (INSERT INTO counter_deltas (counter, target, delta)
                   SELECT x.counter, $5, x.delta FROM r,
                       LATERAL (VALUES ($7, 1), ($8, -1)) AS x(counter, delta)
                   WHERE x.delta = 1 OR NOT r.fresh)
             SELECT th.attempts, th.blocked_for, (SELECT count(*) FROM r) AS changed,
                    (SELECT CASE WHEN bool_and(fresh) THEN 0 ELSE max(before) END FROM r)::smallint
                        AS before
             FROM th"
        }
        _ => {
            values.push(Counter::VideoLikes.as_str().into());
            values.push(Counter::VideoDislikes.as_str().into());
            "r AS (DELETE FROM video_ratings WHERE user_id = $4 AND video_id = $5
                       AND EXISTS (SELECT 1 FROM ok)
                   RETURNING rating),
             d AS (INSERT INTO counter_deltas (counter, target, delta)
                   SELECT CASE WHEN r.rating = 1 THEN $6 ELSE $7 END, $5, -1
                   FROM r)
             SELECT th.attempts, th.blocked_for, (SELECT count(*) FROM r) AS changed,
                    (SELECT max(rating) FROM r)::smallint AS before
             FROM th"
        }
    };
    let sql = format!(
        "WITH th AS ({}),
         ok AS (SELECT 1 FROM th WHERE th.attempts <= $3 AND th.blocked_for = 0),
         {change}",
        throttle::COUNT
    );
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            values,
        ))
        .await?
        .ok_or_else(|| DomainError::Internal("the rating returned no row".to_owned()))?;
    let attempts: i64 = row.try_get("", "attempts")?;
    let blocked_for: i64 = row.try_get("", "blocked_for")?;
    if let Verdict::Blocked(wait) = throttle::settle(db, &key, max, attempts, blocked_for).await? {
        return Err(throttle::too_many(
            Code::TooManyActions,
            "Too many likes, ratings or subscription changes",
            wait,
        ));
    }
    let changed: i64 = row.try_get("", "changed")?;
    let before: Option<i16> = row.try_get("", "before")?;
    Ok(match (changed, rating) {
        (0, _) => rating,
        (_, Rating::None) => Rating::from_stored(before),
        _ => Rating::from_stored(before.filter(|b| *b != 0)),
    })
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
