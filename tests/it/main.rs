//! Kadr's integration tests, one test binary: each module drives real processes (`kadr` roles,
//! Postgres, S3 servers, FFmpeg, tus clients) the way an operator or a user would.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::zombie_processes)]

mod common;

mod abuse;
mod account;
mod accounts;
mod architecture;
mod captions;
mod catalog;
mod collections;
mod community;
mod delete_video;
mod deploy;
mod direct_upload;
mod downloads;
mod faults;
mod import_cli;
mod imports;
mod locale;
mod moderation_rules;
mod openapi_snapshot;
mod origin;
mod posters;
mod replicas;
mod roles;
mod safety;
mod share;
mod simple_upload;
mod stills;
mod strangers;
mod tokens;
mod tus_clients;
mod tus_protocol;
mod upload_cli;
mod upload_crash;
mod webhooks;
mod worker;
mod worker_signals;
