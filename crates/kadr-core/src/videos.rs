//! Operations on videos that are not about their upload: the checked fields a video is
//! described with, editing them, and deletion.

use kadr_config::Config;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, QueryFilter,
    QuerySelect, Statement,
};
use uuid::Uuid;

use crate::entities::{upload, user, video};
use crate::error::DomainError;
use crate::fields;
use crate::jobs::{self, Cleanup, Multipart};
use crate::keys;
use crate::review;
use crate::state::{Moderation, Privacy, UploadState};

/// Checked and normalised video fields.
#[derive(Debug, Clone)]
pub struct VideoFields {
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    pub language: Option<String>,
    pub privacy: Privacy,
    /// The channel asked for (a handle or id of one of the owner's); none: their first.
    pub channel: Option<String>,
}

/// The fields of a video as given (each may be absent): a new video's, or an edit's, where
/// each field given is set (checked as on creation).
#[derive(Debug, Clone, Default)]
pub struct GivenFields<'a> {
    pub title: Option<&'a str>,
    pub description: Option<&'a str>,
    pub tags: Option<&'a [String]>,
    pub language: Option<&'a str>,
    pub privacy: Option<&'a str>,
    /// A new video's channel (ignored by edits).
    pub channel: Option<&'a str>,
}

impl GivenFields<'_> {
    /// Checks every field; `fallback_title` is used when no title was given (the uploaded
    /// file's name). A video is public unless told otherwise.
    pub fn check(&self, fallback_title: Option<&str>) -> Result<VideoFields, DomainError> {
        let given = self.title.map(str::trim).filter(|t| !t.is_empty());
        Ok(VideoFields {
            title: fields::title(given.or(fallback_title).unwrap_or(""))?,
            description: fields::description(self.description.unwrap_or(""))?,
            tags: fields::tags(self.tags.unwrap_or(&[]))?,
            language: fields::language(self.language.unwrap_or(""))?,
            privacy: fields::privacy(self.privacy.unwrap_or(Privacy::Public.as_str()))?,
            channel: self
                .channel
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned),
        })
    }
}

/// What viewers see of the video now, to tell whether an edit changes it.
#[derive(Debug, Clone)]
pub struct Current<'a> {
    pub title: &'a str,
    pub description: &'a str,
    pub tags: &'a [String],
    pub moderation: Moderation,
}

/// Edits video `id` by `editor` (its owner or an admin; the caller has checked). A change of
/// what viewers see on an approved video of an untrusted owner sends it back to review
/// ([`review::edit_returns_to_review`]). Returns whether anything was written.
pub async fn edit(
    db: &impl ConnectionTrait,
    config: &Config,
    editor: &user::Model,
    id: Uuid,
    current: &Current<'_>,
    edit: &GivenFields<'_>,
) -> Result<bool, DomainError> {
    let mut sets = Vec::new();
    let mut values: Vec<sea_orm::Value> = vec![id.into()];
    let mut set = |col: &str, v: sea_orm::Value| {
        values.push(v);
        sets.push(format!("{col} = ${}", values.len()));
    };
    // Whether the edit changes what viewers see (a field given with its current value does not).
    let mut visible_change = false;
    if let Some(t) = edit.title {
        let t = fields::title(t)?;
        visible_change |= t != current.title;
        set("title", t.into());
    }
    if let Some(d) = edit.description {
        let d = fields::description(d)?;
        visible_change |= d != current.description;
        set("description", d.into());
    }
    if let Some(t) = edit.tags {
        let t = fields::tags(t)?;
        visible_change |= t.as_slice() != current.tags;
        set("tags", t.into());
    }
    if let Some(l) = edit.language {
        set("language", fields::language(l)?.into());
    }
    if let Some(p) = edit.privacy {
        set("privacy", fields::privacy(p)?.as_str().into());
    }
    if review::edit_returns_to_review(
        &config.moderation,
        editor,
        current.moderation,
        visible_change,
    ) {
        set("moderation", Moderation::Pending.as_str().into());
        set("moderation_reason", review::BACK_TO_REVIEW.into());
    }
    if sets.is_empty() {
        return Ok(false);
    }
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!(
            "UPDATE videos SET {}, updated_at = now() WHERE id = $1",
            sets.join(", ")
        ),
        values,
    ))
    .await?;
    Ok(true)
}

/// What a deletion did.
#[derive(Debug)]
pub struct Deleted {
    pub uploads_terminated: usize,
}

/// Deletes a video of `by` (its owner, or an admin) in `tx`: the rows go at once, the owner's
/// storage is given back, and every stored byte (media, and the bytes and multipart uploads of
/// uploads in progress) is removed by a cleanup job enqueued in the same transaction, so a
/// crash cannot leave media behind.
pub async fn delete(
    tx: &DatabaseTransaction,
    config: &Config,
    by: &user::Model,
    id: Uuid,
) -> Result<Deleted, DomainError> {
    let video = video::Entity::find_by_id(id)
        .lock_exclusive()
        .one(tx)
        .await?
        .filter(|v| v.owner_id == by.id || by.is_admin())
        .ok_or(DomainError::NotFound)?;
    let active = upload::Entity::find()
        .filter(upload::Column::VideoId.eq(id))
        .filter(upload::Column::State.eq(UploadState::Active))
        .all(tx)
        .await?;
    let mut prefixes: Vec<String> = keys::video_prefixes(id).into();
    prefixes.extend(active.iter().map(|u| keys::upload_prefix(u.id)));
    let cleanup = Cleanup {
        prefixes,
        multipart: active
            .iter()
            .filter_map(|u| {
                u.multipart_id.as_ref().map(|m| Multipart {
                    key: u.storage_key.clone(),
                    upload_id: m.clone(),
                })
            })
            .collect(),
    };
    jobs::enqueue_cleanup(tx, config, &cleanup).await?;
    if let Some(size) = video.source_size_bytes {
        tx.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE users SET storage_used_bytes = greatest(0, storage_used_bytes - $2), updated_at = now()
             WHERE id = $1",
            [video.owner_id.into(), size.into()],
        ))
        .await?;
    }
    // Ratings hold the video's id without a foreign key (see the community migration).
    tx.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "DELETE FROM video_ratings WHERE video_id = $1",
        [id.into()],
    ))
    .await?;
    // Told while the row is still there to describe it; sent only if the deletion commits.
    crate::webhooks::emit(
        tx,
        config,
        crate::webhooks::Event::video(crate::state::WebhookEvent::VideoDeleted, video.owner_id, id),
    )
    .await?;
    video::Entity::delete_by_id(id).exec(tx).await?;
    Ok(Deleted {
        uploads_terminated: active.len(),
    })
}

/// A video of `by` (its owner, or an admin), or not found.
pub async fn owned<C: ConnectionTrait>(
    db: &C,
    by: &user::Model,
    id: Uuid,
) -> Result<video::Model, DomainError> {
    video::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|v| v.owner_id == by.id || by.is_admin())
        .ok_or(DomainError::NotFound)
}

/// Most origins one video may name for embedding.
pub const MAX_EMBED_ORIGINS: usize = 20;

/// A video's own embedding rule from what its owner sent: `["*"]` (alone) follows the site
/// (`None`), `[]` is nowhere, else each an `http(s)://host[:port]` origin, lower-cased.
pub fn check_embed_origins(list: &[String]) -> Result<Option<Vec<String>>, DomainError> {
    if list.len() == 1 && list[0] == "*" {
        return Ok(None);
    }
    if list.len() > MAX_EMBED_ORIGINS {
        return Err(DomainError::invalid(
            "embed_origins",
            format!("At most {MAX_EMBED_ORIGINS} origins"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for o in list {
        let o = o.trim().trim_end_matches('/').to_ascii_lowercase();
        let host = o
            .strip_prefix("https://")
            .or_else(|| o.strip_prefix("http://"))
            .unwrap_or("");
        let (name, port) = match host.rsplit_once(':') {
            Some((n, p)) => (n, Some(p)),
            None => (host, None),
        };
        let name_ok = !name.is_empty()
            && name.len() <= 253
            && name.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
        if !name_ok || !port_ok {
            return Err(DomainError::invalid(
                "embed_origins",
                "Each origin is like https://news.example.org (a scheme and a host, no path), or [\"*\"] alone for the site's rule",
            ));
        }
        if !out.contains(&o) {
            out.push(o);
        }
    }
    Ok(Some(out))
}

/// Sets who may embed the video and whether viewers may download it (each when given).
/// Neither changes what viewers see of the video, so neither goes back to review.
pub async fn set_sharing(
    db: &impl ConnectionTrait,
    id: Uuid,
    embed_origins: Option<Option<Vec<String>>>,
    downloadable: Option<bool>,
) -> Result<(), DomainError> {
    let mut sets = Vec::new();
    let mut values: Vec<sea_orm::Value> = vec![id.into()];
    if let Some(o) = embed_origins {
        values.push(o.into());
        sets.push(format!("embed_origins = ${}", values.len()));
    }
    if let Some(d) = downloadable {
        values.push(d.into());
        sets.push(format!("downloadable = ${}", values.len()));
    }
    if sets.is_empty() {
        return Ok(());
    }
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!(
            "UPDATE videos SET {}, updated_at = now() WHERE id = $1",
            sets.join(", ")
        ),
        values,
    ))
    .await?;
    Ok(())
}

#[cfg(test)]
mod sharing_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_owned()).collect()
    }

    #[test]
    fn embed_origins_are_origins() {
        assert_eq!(check_embed_origins(&s(&["*"])).unwrap(), None);
        assert_eq!(check_embed_origins(&s(&[])).unwrap(), Some(vec![]));
        assert_eq!(
            check_embed_origins(&s(&[
                "HTTPS://News.Example.org/",
                "https://news.example.org",
                "http://localhost:8080"
            ]))
            .unwrap(),
            Some(s(&["https://news.example.org", "http://localhost:8080"]))
        );
        for bad in [
            "news.example.org",
            "https://",
            "https://a.example/path",
            "javascript:alert(1)",
            "https://a.example:99999",
            "https://a b.example",
            "https://a.example; script-src *",
            "*.example.org",
            "https://a.example'",
        ] {
            assert!(check_embed_origins(&s(&[bad])).is_err(), "{bad}");
        }
        assert!(check_embed_origins(&s(&["*", "https://a.example"])).is_err());
        let many: Vec<String> = (0..21).map(|i| format!("https://a{i}.example")).collect();
        assert!(check_embed_origins(&many).is_err());
    }
}
