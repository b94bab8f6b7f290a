//! Search over listed videos' titles, tags and descriptions with Postgres full-text search.
//!
//! Each word of the query matches its plain form or its Russian, English or Arabic stem (the
//! search vector holds all four, see the catalog migration); the last word also matches as a
//! prefix, so results follow typing. Only the newest `api.search_candidates` matches are
//! ranked (`ts_rank`), so ranking stays cheap however common a word is (finding the matches
//! still visits each matching row once: the GIN index keeps no order). Anonymous result
//! pages go through the catalog's page cache, so a query many people type at once (a trending
//! name) costs one database query a second.

use actix_web::{HttpRequest, HttpResponse, web};
use kadr_core::Code;
use kadr_http::auth::MaybeUser;
use kadr_http::{ApiError, AppContext};
use serde::Deserialize;

use crate::Api;
use crate::cursor::{self, Cursor};
use crate::listing::rows;
use crate::model::{COLUMNS, NO_RANK, VideoPage, page};
use crate::page_cache::cached;
use kadr_core::visibility::LISTED;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/search", web::get().to(search));
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// Words to find; the last one may be a prefix.
    pub q: String,
    pub cursor: Option<String>,
    /// 1 to 100, default 24.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// Most words a query may have.
const MAX_WORDS: usize = 8;

/// The query's words, lower-cased; each safe to quote inside `to_tsquery` (letters, digits
/// and marks only).
pub fn words(q: &str) -> Vec<String> {
    kadr_core::fields::words(q).take(MAX_WORDS).collect()
}

/// The tsquery expression for `words` with its bind values starting at `$first`.
fn tsquery(words: &[String], first: usize) -> (String, Vec<sea_orm::Value>) {
    let mut parts = Vec::new();
    let mut values: Vec<sea_orm::Value> = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let last = i + 1 == words.len();
        values.push(format!("'{w}'{}", if last { ":*" } else { "" }).into());
        let n = first + i;
        parts.push(format!(
            "(to_tsquery('simple', ${n}) || to_tsquery('russian', ${n}) \
             || to_tsquery('english', ${n}) || to_tsquery('arabic', ${n}))"
        ));
    }
    (parts.join(" && "), values)
}

#[utoipa::path(get, path = "/api/v1/search", tag = "catalog", params(SearchQuery),
    responses((status = 200, body = VideoPage), (status = 400, description = "No words to search for", content_type = "application/problem+json")))]
pub async fn search(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    user: MaybeUser,
    req: HttpRequest,
    q: web::Query<SearchQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = cursor::limit(q.limit)?;
    let words = words(&q.q);
    if words.is_empty() {
        return Err(ApiError::bad_request(
            Code::InvalidQuery,
            "Give at least one word to search for",
        )
        .field("q"));
    }
    let candidates = ctx.config.api.search_candidates;
    let mut values: Vec<sea_orm::Value> = Vec::new();
    let after = Cursor::after(
        q.cursor.as_deref(),
        "rank",
        "m.rank",
        "m.id",
        "<",
        &mut values,
    )?;
    let (query, words_values) = tsquery(&words, values.len() + 1);
    values.extend(words_values);
    let columns = COLUMNS.replace(NO_RANK, "m.rank AS rank");
    let sql = format!(
        "WITH q AS (SELECT {query} AS q),
         candidates AS (
             SELECT v.id, v.search FROM videos v, q
             WHERE {LISTED} AND v.search @@ q.q
             ORDER BY v.published_at DESC, v.id DESC LIMIT {candidates}
         ),
         ranked AS (SELECT candidates.id, ts_rank(candidates.search, q.q) AS rank FROM candidates, q),
         m AS (SELECT m.id, m.rank FROM ranked m WHERE TRUE{after} ORDER BY m.rank DESC, m.id DESC LIMIT {})
         SELECT {columns} FROM m
             JOIN videos v ON v.id = m.id JOIN channels c ON c.id = v.channel_id
         ORDER BY m.rank DESC, m.id DESC",
        limit + 1
    );
    let (ctx, api, req, sql, values) = (&ctx, &api, &req, &sql, &values);
    cached(api, &user.viewer(), req, |viewer| async move {
        let found = rows(ctx, sql.clone(), values.clone()).await?;
        Ok(page(found, limit, &viewer, api, req, |r| Cursor::Rank {
            r: r.rank.unwrap_or(0.0),
            id: r.id,
        }))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_of_any_script() {
        assert_eq!(words("Кот, в сапогах!"), ["кот", "в", "сапогах"]);
        assert_eq!(words("القطة   الصغيرة"), ["القطة", "الصغيرة"]);
        assert_eq!(
            words("'; DROP TABLE videos; --"),
            ["drop", "table", "videos"]
        );
        assert_eq!(words("a:* & b | !c"), ["a", "b", "c"]);
        assert!(words("  ,.;  ").is_empty());
        assert_eq!(words(&"x ".repeat(20)).len(), MAX_WORDS);
    }
}
