//! What a token may do. A sign-in session may do everything its account may; a token made for
//! a person's scripts or for another system (a CMS, a notifier) carries scopes, and each route
//! needs one of them. The rule is one table, by method and route pattern, read by the
//! services' authentication and written into the OpenAPI document, so the two cannot differ.
//!
//! Scopes never add rights: `moderate` and `admin` work only for accounts that have those
//! roles, and the routes that guard the account itself (password, sessions and tokens,
//! deletion, address checks, profile) take sign-in sessions only, so a leaked integration
//! token cannot take the account over.

use serde::{Deserialize, Serialize};

use crate::codes::Code;
use crate::error::DomainError;

macro_rules! scopes {
    ($($variant:ident = $value:literal, $meaning:literal;)+) => {
        /// A right a token may carry.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Scope {
            $(
                #[doc = $meaning]
                $variant,
            )+
        }

        impl Scope {
            pub const ALL: &'static [Scope] = &[$(Scope::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Scope::$variant => $value,)+
                }
            }

            pub const fn meaning(self) -> &'static str {
                match self {
                    $(Scope::$variant => $meaning,)+
                }
            }

            pub fn parse(text: &str) -> Option<Scope> {
                match text {
                    $($value => Some(Scope::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

scopes! {
    Read = "read", "Read what the account may see: private and unlisted videos of its own, feeds, notifications, history, imports.";
    Upload = "upload", "Create videos: uploads (tus, direct, simple), imports and their thumbnails.";
    Manage = "manage", "Manage the account's own videos and channels: edit, delete, captions, posters, channel pictures, pinning and approving comments on them.";
    Interact = "interact", "Act as the account in the community: comment, rate, subscribe, playlists, watch history, reports, blocks.";
    Moderate = "moderate", "Moderation (moderators and administrators only): review videos and playlists, resolve reports, sanctions.";
    Admin = "admin", "Administration (administrators only): users.";
    Webhooks = "webhooks", "Register and manage webhook endpoints and their deliveries.";
}

/// What a route needs of a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// A token with this scope (or a sign-in session).
    Scope(Scope),
    /// A sign-in session: the account's own security and settings.
    Session,
    /// Any valid token (signing out the token itself).
    Any,
}

/// `/api/v1/videos/{id}/comments` as `/api/v1/videos/*/comments`: the names of path
/// parameters differ between the routes and the document, their places do not.
fn shape(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|seg| if seg.starts_with('{') { "*" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

/// What `method` on the route `pattern` (as registered, e.g. `/api/v1/videos/{id}`) needs.
pub fn needed(method: &str, pattern: &str) -> Need {
    let shaped = shape(pattern);
    let pattern = shaped.as_str();
    let m = method.to_ascii_uppercase();
    let read = m == "GET" || m == "HEAD" || m == "OPTIONS";
    let under = |prefix: &str| pattern == prefix || pattern.starts_with(&format!("{prefix}/"));
    if pattern == "/api/v1/auth/token" {
        return Need::Any;
    }
    if under("/api/v1/admin") {
        return Need::Scope(Scope::Admin);
    }
    if under("/api/v1/moderation") {
        return Need::Scope(Scope::Moderate);
    }
    if under("/api/v1/webhooks") {
        return Need::Scope(Scope::Webhooks);
    }
    // The account itself: its security and its settings.
    if under("/api/v1/me/password")
        || under("/api/v1/me/sessions")
        || under("/api/v1/me/tokens")
        || under("/api/v1/me/deletion")
        || under("/api/v1/me/email")
        || under("/api/v1/auth")
        || (pattern == "/api/v1/me" && !read)
    {
        return Need::Session;
    }
    // The upload protocols, whatever the method (tus asks with HEAD).
    if under("/api/v1/uploads") || under("/api/v1/direct-uploads") {
        return Need::Scope(Scope::Upload);
    }
    if read {
        return Need::Scope(Scope::Read);
    }
    if matches!(
        pattern,
        "/api/v1/videos" | "/api/v1/videos/upload" | "/api/v1/videos/import"
    ) || (under("/api/v1/imports"))
    {
        return Need::Scope(Scope::Upload);
    }
    let interact = under("/api/v1/videos/*/comments")
        || under("/api/v1/videos/*/rating")
        || under("/api/v1/videos/*/position")
        || under("/api/v1/videos/*/views")
        || under("/api/v1/channels/*/subscription")
        || under("/api/v1/playlists")
        || under("/api/v1/reports")
        || under("/api/v1/me")
        || (under("/api/v1/comments")
            && !pattern.ends_with("/pin")
            && !pattern.ends_with("/approve"));
    if interact {
        return Need::Scope(Scope::Interact);
    }
    Need::Scope(Scope::Manage)
}

/// Whether a token with `scopes` (none: a sign-in session) may do what `need` says.
pub fn allows(scopes: Option<&[Scope]>, need: Need) -> bool {
    match (scopes, need) {
        (None, _) | (_, Need::Any) => true,
        (Some(_), Need::Session) => false,
        (Some(s), Need::Scope(want)) => s.contains(&want),
    }
}

/// 403 `insufficient_scope`, naming what was needed.
pub fn insufficient(need: Need) -> DomainError {
    let detail = match need {
        Need::Scope(s) => format!("this needs a token with the `{}` scope", s.as_str()),
        _ => "this needs a signed-in session, not a token made for scripts".to_owned(),
    };
    DomainError::refused(Code::InsufficientScope, "The token may not do this").detail(detail)
}

/// The scopes as stored (`api_tokens.scopes`), in order, without repeats; an unknown name is
/// refused.
pub fn parse_list(names: &[String]) -> Result<Vec<Scope>, DomainError> {
    let mut out = Vec::new();
    for n in names {
        let s = Scope::parse(n.trim()).ok_or_else(|| {
            DomainError::invalid("scopes", "Unknown scope").detail(format!(
                "{n:?} is not one of read, upload, manage, interact, moderate, admin, webhooks"
            ))
        })?;
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_need_what_they_should() {
        use Need::*;
        let cases = [
            ("GET", "/api/v1/videos", Scope(super::Scope::Read)),
            ("GET", "/api/v1/me/notifications", Scope(super::Scope::Read)),
            ("POST", "/api/v1/videos/import", Scope(super::Scope::Upload)),
            ("HEAD", "/api/v1/uploads/{id}", Scope(super::Scope::Upload)),
            ("PATCH", "/api/v1/uploads/{id}", Scope(super::Scope::Upload)),
            (
                "PUT",
                "/api/v1/imports/{id}/thumbnail",
                Scope(super::Scope::Upload),
            ),
            ("PATCH", "/api/v1/videos/{id}", Scope(super::Scope::Manage)),
            (
                "PUT",
                "/api/v1/videos/*/captions/{lang}",
                Scope(super::Scope::Manage),
            ),
            (
                "PUT",
                "/api/v1/comments/{id}/pin",
                Scope(super::Scope::Manage),
            ),
            (
                "PUT",
                "/api/v1/comments/{id}/like",
                Scope(super::Scope::Interact),
            ),
            (
                "POST",
                "/api/v1/videos/*/comments",
                Scope(super::Scope::Interact),
            ),
            (
                "PUT",
                "/api/v1/me/blocks/{username}",
                Scope(super::Scope::Interact),
            ),
            (
                "POST",
                "/api/v1/moderation/videos/{id}/approve",
                Scope(super::Scope::Moderate),
            ),
            (
                "PATCH",
                "/api/v1/admin/users/{id}",
                Scope(super::Scope::Admin),
            ),
            ("POST", "/api/v1/webhooks", Scope(super::Scope::Webhooks)),
            ("POST", "/api/v1/me/password", Session),
            ("GET", "/api/v1/me/sessions", Session),
            ("POST", "/api/v1/me/tokens", Session),
            ("PATCH", "/api/v1/me", Session),
            ("DELETE", "/api/v1/auth/token", Any),
        ];
        for (m, p, want) in cases {
            assert_eq!(needed(m, p), want, "{m} {p}");
        }
    }

    #[test]
    fn scopes_never_reach_the_account_itself() {
        let all = Scope::ALL.to_vec();
        assert!(!allows(Some(&all), Need::Session));
        assert!(allows(None, Need::Session));
        assert!(allows(Some(&[]), Need::Any));
        assert!(!allows(Some(&[Scope::Read]), Need::Scope(Scope::Upload)));
        assert!(parse_list(&["read".to_owned(), "nope".to_owned()]).is_err());
        assert_eq!(
            parse_list(&["upload".to_owned(), "read".to_owned(), "read".to_owned()]).ok(),
            Some(vec![Scope::Read, Scope::Upload])
        );
    }
}
