//! Kadr's domain: the entities and their states, the storage key layout, the stable codes,
//! and the rules and operations on videos, uploads, users and moderation, as functions over a
//! database connection or transaction returning [`DomainError`]. Handlers parse, call one of
//! these and map the error; nothing here knows HTTP.

pub mod accounts;
pub mod auth;
pub mod batches;
pub mod blocks;
pub mod captions;
pub mod channels;
pub mod chapters;
pub mod codes;
pub mod comments;
pub mod counters;
pub mod direct;
pub mod discovery;
pub mod downloads;
pub mod entities;
pub mod error;
pub mod feed;
pub mod fields;
pub mod history;
pub mod imports;
pub mod jobs;
pub mod keys;
pub mod leaving;
pub mod locale;
pub mod mail;
pub mod maintenance;
pub mod notifications;
pub mod playlists;
pub mod posters;
pub mod ratings;
pub mod reconcile;
pub mod related;
pub mod reports;
pub mod review;
pub mod scopes;
pub mod standing;
pub mod state;
pub mod stills;
pub mod subscriptions;
pub mod subtitles;
pub mod throttle;
pub mod transcodes;
pub mod uploads;
pub mod videos;
pub mod visibility;
pub mod webhooks;

pub use codes::{Code, Failure};
pub use error::{DomainError, Refusal};
