//! Related videos, worked out ahead: the worker finds, for every listed video, the listed
//! videos whose titles and tags share the most words with it (Postgres full-text search over
//! the same vectors as search, ranked by `ts_rank` among the newest matches), and keeps the
//! best [`KEEP`] in `video_related`. It does it again as newer videos arrive: after as long as
//! the video had been listed (at least [`REFRESH_MIN_SECS`], at most 30 days: at 1M videos a
//! list with common words costs about 0.4 s, so a worker keeps about 1M lists fresh). The
//! watch page then reads one row, mixes in the channel's newest videos, and leaves out what
//! the viewer just watched. No external service.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use uuid::Uuid;

use crate::error::DomainError;
use crate::visibility::LISTED;

fn stmt(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// Related videos kept per video.
pub const KEEP: i64 = 40;
/// A list is worked out again after at least this long…
pub const REFRESH_MIN_SECS: i64 = 10;
/// …and at most this long.
pub const REFRESH_MAX_SECS: i64 = 30 * 24 * 3600;
/// Words of title and tags looked for.
const WORDS: usize = 12;
/// Matches ranked: the newest this many.
const CANDIDATES: i64 = 2000;

/// The words a video is related by: its title's and tags', two letters or more, each once.
pub fn words(title: &str, tags: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let all = crate::fields::words(title).chain(tags.iter().flat_map(|t| crate::fields::words(t)));
    for w in all {
        if w.chars().count() >= 2 && !out.contains(&w) {
            out.push(w);
        }
        if out.len() == WORDS {
            break;
        }
    }
    out
}

/// `'a' | 'b' | …` for `to_tsquery` (the words hold letters, digits and marks only).
pub fn any_of(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("'{w}'"))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Works out and stores the related videos of `video` (none kept when it is gone).
pub async fn compute(db: &DatabaseConnection, video: Uuid) -> Result<(), DomainError> {
    let row = db
        .query_one_raw(stmt(
            "SELECT title, tags FROM videos WHERE id = $1",
            vec![video.into()],
        ))
        .await?;
    let Some(row) = row else {
        return Ok(());
    };
    let title: String = row.try_get("", "title")?;
    let tags: Vec<String> = row.try_get("", "tags")?;
    let words = words(&title, &tags);
    let tx = db.begin().await?;
    // Several workers share the work: a list another is making now, or made since this one
    // looked, is left alone.
    let mine = tx
        .query_one_raw(stmt(
            "SELECT pg_try_advisory_xact_lock(hashtextextended($1::text, 7)) AND EXISTS (
                 SELECT 1 FROM videos v LEFT JOIN video_related r ON r.video_id = v.id
                 WHERE v.id = $1 AND (v.related_at IS NULL OR r.refresh_at <= now())) AS mine",
            vec![video.into()],
        ))
        .await?
        .map(|r| r.try_get::<bool>("", "mine"))
        .transpose()?
        .unwrap_or(false);
    if !mine {
        return Ok(());
    }
    // One list is never worth more than this.
    tx.execute_unprepared("SET LOCAL statement_timeout = '5s'")
        .await?;
    let related: Vec<Uuid> = if words.is_empty() {
        Vec::new()
    } else {
        let rows = tx
            .query_all_raw(stmt(
                &format!(
                    "WITH q AS (SELECT to_tsquery('simple', $2) || to_tsquery('russian', $2)
                                    || to_tsquery('english', $2) || to_tsquery('arabic', $2) AS q),
                     c AS (SELECT v.id, v.search, v.published_at FROM videos v, q
                           WHERE {LISTED} AND v.search @@ q.q AND v.id <> $1
                           ORDER BY v.published_at DESC LIMIT {CANDIDATES})
                     SELECT c.id FROM c, q
                     ORDER BY ts_rank(c.search, q.q) DESC, c.published_at DESC LIMIT {KEEP}"
                ),
                vec![video.into(), any_of(&words).into()],
            ))
            .await?;
        rows.iter()
            .map(|r| r.try_get::<Uuid>("", "id"))
            .collect::<Result<_, _>>()?
    };
    tx.execute_raw(stmt(
        &format!(
            "INSERT INTO video_related (video_id, related, computed_at, refresh_at)
             SELECT $1, $2, now(), now() + greatest(make_interval(secs => {REFRESH_MIN_SECS}),
                 least(make_interval(secs => {REFRESH_MAX_SECS}), now() - coalesce(published_at, now())))
             FROM videos WHERE id = $1
             ON CONFLICT (video_id) DO UPDATE
                 SET related = EXCLUDED.related, computed_at = now(), refresh_at = EXCLUDED.refresh_at"
        ),
        vec![video.into(), related.into()],
    ))
    .await?;
    tx.execute_raw(stmt(
        "UPDATE videos SET related_at = now() WHERE id = $1",
        vec![video.into()],
    ))
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Works out the lists of up to `batch` listed videos that have none yet (newest first), or
/// else of those whose time to be worked out again has come. Returns how many.
pub async fn compute_pending(db: &DatabaseConnection, batch: u64) -> Result<u64, DomainError> {
    let mut due = db
        .query_all_raw(stmt(
            &format!(
                "SELECT v.id FROM videos v WHERE v.related_at IS NULL AND {LISTED}
                 ORDER BY v.published_at DESC LIMIT {batch}"
            ),
            vec![],
        ))
        .await?;
    if due.is_empty() {
        due = db
            .query_all_raw(stmt(
                &format!(
                    "SELECT video_id AS id FROM video_related WHERE refresh_at <= now()
                     ORDER BY refresh_at LIMIT {batch}"
                ),
                vec![],
            ))
            .await?;
    }
    let mut n = 0;
    for row in due {
        compute(db, row.try_get("", "id")?).await?;
        n += 1;
    }
    Ok(n)
}

/// The stored related videos of `video`, best first (empty when not worked out yet).
pub async fn stored(db: &impl ConnectionTrait, video: Uuid) -> Result<Vec<Uuid>, DomainError> {
    Ok(db
        .query_one_raw(stmt(
            "SELECT related FROM video_related WHERE video_id = $1",
            vec![video.into()],
        ))
        .await?
        .map(|r| r.try_get::<Vec<Uuid>>("", "related"))
        .transpose()?
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_of_title_and_tags() {
        assert_eq!(
            words(
                "Кошки и собаки: кошки!",
                &["music".to_owned(), "Кошки".to_owned()]
            ),
            ["кошки", "собаки", "music"]
        );
        assert_eq!(any_of(&["a1".to_owned(), "ب".to_owned()]), "'a1' | 'ب'");
        assert!(words("", &[]).is_empty());
        let many = (0..30)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(words(&many, &[]).len(), 12);
    }
}
