//! Listings: the rows of a keyset-paginated query as a viewer sees them, the query strings of
//! the list endpoints, and one video by id under the visibility rule.

use actix_web::{HttpRequest, HttpResponse};
use kadr_core::visibility::Viewer;
use kadr_http::{ApiError, AppContext};
use sea_orm::FromQueryResult;
use serde::Deserialize;
use uuid::Uuid;

use crate::Api;
use crate::cursor::Cursor;
use crate::model::{COLUMNS, FROM, NO_SORT_AT, VideoPage, VideoRow, page, stmt};

pub(crate) fn db_err(e: sea_orm::DbErr) -> ApiError {
    e.into()
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `new` (default) or `popular`.
    pub sort: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 100, default 24.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    pub cursor: Option<String>,
    /// 1 to 100, default 24.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

pub(crate) async fn rows(
    ctx: &AppContext,
    sql: String,
    values: Vec<sea_orm::Value>,
) -> Result<Vec<VideoRow>, ApiError> {
    VideoRow::find_by_statement(stmt(sql, values))
        .all(&ctx.db)
        .await
        .map_err(db_err)
}

/// One page of a listing as `viewer` sees it: the rows `WHERE {filter} ORDER BY {order}`
/// (`values` bound in order), with the cursor of the next page taken by `key`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn listing(
    ctx: &AppContext,
    api: &Api,
    req: &HttpRequest,
    viewer: &Viewer,
    filter: &str,
    order: &str,
    values: Vec<sea_orm::Value>,
    limit: u64,
    key: impl Fn(&VideoRow) -> Cursor,
) -> Result<VideoPage, ApiError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE {filter} ORDER BY {order} LIMIT {}",
        limit + 1
    );
    let found = rows(ctx, sql, values).await?;
    Ok(page(found, limit, viewer, api, req, key))
}

/// A listing of videos reached through another table (`from` joins `videos v` and
/// `channels c`), sorted by that table's time `sort_at` (newest first) and then `id`.
pub(crate) struct Through<'a> {
    pub from: &'a str,
    pub sort_at: &'a str,
    pub id: &'a str,
}

impl Through<'_> {
    /// One page: the rows of `from` matching `filter` (`values` bound in order), after
    /// `cursor`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn page(
        &self,
        ctx: &AppContext,
        api: &Api,
        req: &HttpRequest,
        viewer: &Viewer,
        filter: &str,
        values: Vec<sea_orm::Value>,
        cursor: Option<&str>,
        limit: u64,
    ) -> Result<VideoPage, ApiError> {
        self.page_with(ctx, api, req, viewer, filter, values, cursor, limit, &[])
            .await
    }

    /// [`Through::page`] with more columns of the list: each `(placeholder, column)` puts
    /// the list's column in place of a `NULL` one of [`COLUMNS`].
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn page_with(
        &self,
        ctx: &AppContext,
        api: &Api,
        req: &HttpRequest,
        viewer: &Viewer,
        filter: &str,
        mut values: Vec<sea_orm::Value>,
        cursor: Option<&str>,
        limit: u64,
        more: &[(&str, &str)],
    ) -> Result<VideoPage, ApiError> {
        let after = Cursor::after(cursor, "time", self.sort_at, self.id, "<", &mut values)?;
        let mut columns = COLUMNS.replace(NO_SORT_AT, &format!("{} AS sort_at", self.sort_at));
        for (placeholder, column) in more {
            columns = columns.replace(placeholder, column);
        }
        let sql = format!(
            "SELECT {columns} FROM {} WHERE {filter}{after} ORDER BY {} DESC, {} DESC LIMIT {}",
            self.from,
            self.sort_at,
            self.id,
            limit + 1
        );
        let found = rows(ctx, sql, values).await?;
        Ok(page(found, limit, viewer, api, req, by_sort_at))
    }
}

pub(crate) fn by_sort_at(r: &VideoRow) -> Cursor {
    Cursor::Time {
        t: r.sort_at.unwrap_or(r.created_at),
        id: r.id,
    }
}

/// A page only its viewer may see.
pub(crate) fn private_page(page: &VideoPage) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-cache"))
        .json(page)
}

pub(crate) fn by_time(r: &VideoRow) -> Cursor {
    Cursor::Time {
        t: r.published_at.unwrap_or(r.created_at),
        id: r.id,
    }
}

pub(crate) fn by_created(r: &VideoRow) -> Cursor {
    Cursor::Time {
        t: r.created_at,
        id: r.id,
    }
}

/// ` AND (col, v.id) < (…)`: the page after a time cursor, newest first.
pub(crate) fn time_after(
    cursor: Option<&str>,
    col: &str,
    values: &mut Vec<sea_orm::Value>,
) -> Result<String, ApiError> {
    Cursor::after(cursor, "time", col, "v.id", "<", values)
}

/// One video by id, whoever may see it (404 otherwise).
pub(crate) async fn visible_row(
    ctx: &AppContext,
    id: Uuid,
    viewer: &Viewer,
) -> Result<VideoRow, ApiError> {
    let found = rows(
        ctx,
        format!("SELECT {COLUMNS} FROM {FROM} WHERE v.id = $1"),
        vec![id.into()],
    )
    .await?
    .into_iter()
    .next()
    .filter(|r| r.facts().visible_to(viewer));
    found.ok_or_else(ApiError::not_found)
}
