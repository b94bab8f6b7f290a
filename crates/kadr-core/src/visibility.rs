//! The visibility rule, in one place. Every endpoint that shows a video, its media or its
//! place in a list goes through here.
//!
//! - Listed (catalog, search, shorts, channel pages): playable, public and approved.
//! - Public or unlisted, approved and playable: anyone with the id.
//! - Private: its owner and admins only.
//! - Pending or rejected (not private): its owner, moderators and admins.
//! - Withheld (its owner is suspended, banned or leaving): moderators (not private) and
//!   admins only, whatever else holds; back as before when the owner is reinstated.
//!
//! Owners and admins see their videos in every state. Whoever may not see a video gets 404,
//! the same answer as for a video that does not exist.

use uuid::Uuid;

use crate::entities::user;
use crate::state::{Moderation, Privacy};

/// SQL condition (over `videos v`) for listed videos. Its first three terms are the partial
/// indexes' predicate, which match only literals (a test ties them to the enums); the query
/// implies the predicate, so the indexes serve it, and `withheld` is checked on the rows.
pub const LISTED: &str =
    "v.playable AND v.privacy = 'public' AND v.moderation = 'approved' AND NOT v.withheld";

/// Listed in the catalog and open to anyone without a token: [`LISTED`] in Rust.
pub fn listed(playable: bool, privacy: Privacy, moderation: Moderation, withheld: bool) -> bool {
    playable && privacy == Privacy::Public && moderation == Moderation::Approved && !withheld
}

/// SQL condition over `videos v`: whether `viewer` may see the video, [`Facts::visible_to`]
/// for lists that hold videos of any state (notifications, liked videos, comments). The
/// viewer's id is bound as the next parameter in `values`.
pub fn visible_sql(viewer: &Viewer, values: &mut Vec<sea_orm::Value>) -> String {
    let (private, approved) = (Privacy::Private.as_str(), Moderation::Approved.as_str());
    let open = format!(
        "(v.privacy <> '{private}' AND v.moderation = '{approved}' AND v.playable AND NOT v.withheld)"
    );
    if viewer.admin {
        return "TRUE".to_owned();
    }
    let Some(user) = viewer.user else {
        return open;
    };
    values.push(user.into());
    let owner = format!("(v.owner_id = ${} AND NOT v.withheld)", values.len());
    if viewer.moderator {
        format!(
            "({owner} OR (v.privacy <> '{private}' AND (v.moderation <> '{approved}' OR v.playable OR v.withheld)))"
        )
    } else {
        format!("({owner} OR {open})")
    }
}

/// Who is asking.
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    pub user: Option<Uuid>,
    pub moderator: bool,
    pub admin: bool,
}

impl Viewer {
    /// A signed-in user; anonymous viewers are `Viewer::default()`.
    pub fn user(u: &user::Model) -> Viewer {
        Viewer {
            user: Some(u.id),
            moderator: u.is_moderator(),
            admin: u.is_admin(),
        }
    }

    pub fn owns(&self, owner: Uuid) -> bool {
        self.user == Some(owner)
    }

    /// Owner or admin: may edit, delete and see everything of the video.
    pub fn manages(&self, owner: Uuid) -> bool {
        self.admin || self.owns(owner)
    }
}

/// The facts the rule looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub owner: Uuid,
    pub privacy: Privacy,
    pub moderation: Moderation,
    pub playable: bool,
    /// Its owner is suspended, banned or leaving.
    pub withheld: bool,
}

impl Facts {
    /// Listed in the catalog and open to anyone without a token.
    pub fn listed(&self) -> bool {
        listed(self.playable, self.privacy, self.moderation, self.withheld)
    }

    /// Whether `viewer` may see the video at all.
    pub fn visible_to(&self, viewer: &Viewer) -> bool {
        if viewer.admin {
            return true;
        }
        if self.withheld {
            return viewer.moderator && self.privacy != Privacy::Private;
        }
        if viewer.owns(self.owner) {
            return true;
        }
        if self.privacy == Privacy::Private {
            return false;
        }
        if self.moderation != Moderation::Approved {
            return viewer.moderator;
        }
        self.playable
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_listed_sql_names_the_states() {
        assert_eq!(
            LISTED,
            format!(
                "v.playable AND v.privacy = '{}' AND v.moderation = '{}' AND NOT v.withheld",
                Privacy::Public.as_str(),
                Moderation::Approved.as_str()
            )
        );
    }

    fn facts(privacy: &str, moderation: &str, playable: bool) -> Facts {
        Facts {
            owner: Uuid::from_u128(1),
            privacy: Privacy::parse(privacy).unwrap(),
            moderation: Moderation::parse(moderation).unwrap(),
            playable,
            withheld: false,
        }
    }

    fn withheld(privacy: &str, moderation: &str, playable: bool) -> Facts {
        Facts {
            withheld: true,
            ..facts(privacy, moderation, playable)
        }
    }

    fn viewers() -> [(&'static str, Viewer); 5] {
        let user = |n: u128, moderator, admin| Viewer {
            user: Some(Uuid::from_u128(n)),
            moderator,
            admin,
        };
        [
            ("anonymous", Viewer::default()),
            ("owner", user(1, false, false)),
            ("other", user(2, false, false)),
            ("moderator", user(3, true, false)),
            ("admin", user(4, true, true)),
        ]
    }

    #[test]
    fn the_rule() {
        let cases = [
            (
                facts("public", "approved", true),
                "anonymous owner other moderator admin",
            ),
            (
                facts("unlisted", "approved", true),
                "anonymous owner other moderator admin",
            ),
            (facts("private", "approved", true), "owner admin"),
            (facts("public", "pending", true), "owner moderator admin"),
            (facts("public", "rejected", true), "owner moderator admin"),
            (facts("unlisted", "pending", true), "owner moderator admin"),
            (facts("private", "pending", true), "owner admin"),
            (facts("public", "approved", false), "owner admin"),
            (withheld("public", "approved", true), "moderator admin"),
            (withheld("unlisted", "pending", true), "moderator admin"),
            (withheld("private", "approved", true), "admin"),
        ];
        for (f, who) in cases {
            let seen: Vec<&str> = viewers()
                .iter()
                .filter(|(_, v)| f.visible_to(v))
                .map(|(n, _)| *n)
                .collect();
            assert_eq!(seen.join(" "), who, "{f:?}");
        }
        assert!(facts("public", "approved", true).listed());
        assert!(!facts("unlisted", "approved", true).listed());
        assert!(!facts("public", "pending", true).listed());
        assert!(!facts("public", "approved", false).listed());
        assert!(!withheld("public", "approved", true).listed());
    }
}
