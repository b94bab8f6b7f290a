//! Every stable code Kadr answers with, in one list: the `code` of problem+json error bodies
//! ([`Code`], with the HTTP status it comes with) and the `failure.code` of a video that could
//! not be processed ([`Failure`]). The OpenAPI document and the README's table are generated
//! from these lists (a test keeps the README in step), so a code cannot be used without being
//! documented.

macro_rules! codes {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $value:literal, $status:literal, $meaning:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $(
                #[doc = $meaning]
                $variant,
            )+
        }

        impl $name {
            /// Every code, in the order of the documentation.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code as clients see it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $value,)+
                }
            }

            /// The HTTP status it comes with (0 for codes that are not HTTP answers).
            pub const fn status(self) -> u16 {
                match self {
                    $($name::$variant => $status,)+
                }
            }

            /// What it means, for people.
            pub const fn meaning(self) -> &'static str {
                match self {
                    $($name::$variant => $meaning,)+
                }
            }

            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($value => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

codes! {
    /// The `code` of an error answer (`application/problem+json`).
    Code {
        InvalidBody = "invalid_body", 400, "The JSON body is malformed or has unknown fields (`field` names the one at fault when the parser can tell).";
        InvalidQuery = "invalid_query", 400, "The query string does not parse.";
        InvalidField = "invalid_field", 400, "A field's value is refused: length, control characters, a value outside its list (`field` names it).";
        InvalidForm = "invalid_form", 400, "A multipart form is malformed, or lacks its file.";
        InvalidMetadata = "invalid_metadata", 400, "tus `Upload-Metadata` is malformed.";
        InvalidChecksum = "invalid_checksum", 400, "tus `Upload-Checksum` is malformed or names an algorithm Kadr does not offer.";
        InvalidUploadLength = "invalid_upload_length", 400, "tus `Upload-Length` is missing or not a number.";
        InvalidUploadOffset = "invalid_upload_offset", 400, "tus `Upload-Offset` is missing or not a number.";
        DeferLengthUnsupported = "defer_length_unsupported", 400, "tus `Upload-Defer-Length` is not offered.";
        ExceedsLength = "exceeds_length", 400, "A PATCH would go past the upload's declared length.";
        BodyInterrupted = "body_interrupted", 400, "The request body ended early or the connection broke; what arrived before is kept (tus).";
        InvalidCaptions = "invalid_captions", 400, "A caption file is not WebVTT or SRT, or breaks a rule (times, size, cue count); the detail names the line at fault.";
        InvalidCursor = "invalid_cursor", 400, "A page cursor was not made by this server or has been altered.";
        InvalidLimit = "invalid_limit", 400, "`limit` is outside 1 to 100.";
        InvalidSort = "invalid_sort", 400, "`sort` is not one of the offered orders.";
        UrlNotAllowed = "url_not_allowed", 400, "An import URL is not http(s), carries a user name or password, or names an address Kadr does not reach (loopback, private, link-local, carrier-grade NAT, multicast, cloud metadata; `outbound.allow` lets chosen internal hosts through).";
        ReasonRequired = "reason_required", 400, "A rejection needs a reason for the uploader.";
        ConfirmationRequired = "confirmation_required", 400, "Deleting a channel needs `confirm` set to its handle.";
        UnknownChannel = "unknown_channel", 400, "The upload names a channel that is not one of the uploader's.";
        NotAReply = "not_a_reply", 400, "Replies go to top-level comments only (one level of replies).";
        InvalidAccountToken = "invalid_account_token", 400, "The link from the mail is not valid, was used already or has expired.";
        Unauthorized = "unauthorized", 401, "No token, or a token that is not valid or has expired.";
        InvalidCredentials = "invalid_credentials", 401, "The user name or password is wrong.";
        AccountSuspended = "account_suspended", 401, "The account is suspended until the date given in `detail`; signing in is refused until then.";
        AccountBanned = "account_banned", 401, "The account is banned; signing in is refused.";
        Forbidden = "forbidden", 403, "The caller may not do this (not the owner, not a moderator).";
        InvalidToken = "invalid_token", 403, "A media URL's signature does not match.";
        InsufficientScope = "insufficient_scope", 403, "The token lacks the scope this route needs (the `detail` names it), or the route takes a signed-in session only (the account's password, sessions, tokens, deletion and settings).";
        CommentsOff = "comments_off", 403, "The video's owner turned comments off.";
        Blocked = "blocked", 403, "The video's owner blocked the caller: no comments on their videos.";
        WrongPassword = "wrong_password", 403, "The current password given is wrong.";
        TokenExpired = "token_expired", 403, "A media URL's signature has expired; fetch the playback links again.";
        NotFound = "not_found", 404, "No such route, or nothing the caller may see under this id.";
        WebUiMissing = "web_ui_missing", 404, "The web UI was not built (`make web`).";
        BodyTooSlow = "body_too_slow", 408, "The request body arrived too slowly or paused too long.";
        EmailTaken = "email_taken", 409, "An account with this e-mail address exists.";
        UsernameTaken = "username_taken", 409, "An account with this user name exists.";
        HandleTaken = "handle_taken", 409, "A channel with this handle exists.";
        TooManyCaptions = "too_many_captions", 409, "A video has captions in 20 languages; remove one before adding another.";
        TooManyChannels = "too_many_channels", 409, "The user owns `community.max_channels` channels.";
        TooManyWebhooks = "too_many_webhooks", 409, "The user has `webhooks.max_endpoints` webhook endpoints; delete one before adding another.";
        WebhookDisabled = "webhook_disabled", 409, "The webhook endpoint is disabled (by its owner, or after failing for `webhooks.disable_after_secs`); enable it (`PATCH` with `enabled: true`) before pinging or redelivering.";
        TooManyPlaylists = "too_many_playlists", 409, "The user keeps 500 playlists.";
        TooManyTokens = "too_many_tokens", 409, "The account keeps 50 tokens made for scripts and integrations; revoke one first.";
        LastChannel = "last_channel", 409, "A user's last channel cannot be deleted.";
        OwnChannel = "own_channel", 409, "Nobody subscribes to their own channel.";
        OwnAccount = "own_account", 409, "Nobody blocks or reports themselves or their own things.";
        PlaylistFull = "playlist_full", 409, "A playlist holds at most 5,000 videos.";
        WatchLater = "watch_later", 409, "The built-in Watch later playlist stays private and cannot be deleted or renamed.";
        AlreadyReported = "already_reported", 409, "The caller has an open report on this already.";
        MailOff = "mail_off", 409, "Mail is not configured on this server (`mail.smtp_url`): password reset by mail and address checks are off (`GET /api/v1/features` says so).";
        ModeratorTarget = "moderator_target", 409, "Moderators and administrators are not warned, suspended or banned by moderators (an administrator changes their role first).";
        NoSource = "no_source", 409, "The video's original is not stored (never uploaded, or removed).";
        NotReady = "not_ready", 409, "The video is not ready: only ready videos can be approved.";
        NotPlayable = "not_playable", 409, "The video has no playable media yet.";
        PosterPending = "poster_pending", 409, "A picture sent for this video's poster is still being made; send another once it is shown or refused.";
        OffsetMismatch = "offset_mismatch", 409, "tus `Upload-Offset` differs from the server's; ask with HEAD and resume there.";
        UploadComplete = "upload_complete", 409, "The upload already has all its bytes.";
        VideoHasUpload = "video_has_upload", 409, "The video already has an upload in progress.";
        DirectUploadOff = "direct_upload_off", 409, "Direct uploads need the S3 backend and `upload.direct`; use tus.";
        UploadIncomplete = "upload_incomplete", 409, "A direct upload was completed with parts missing; the detail names them. Upload them and complete again.";
        PartMismatch = "part_mismatch", 409, "A part of a direct upload has the wrong size; the detail names it. Upload it again and complete again.";
        UploadExpired = "upload_expired", 410, "The upload was not finished in time and its bytes were removed.";
        UnsupportedTusVersion = "unsupported_tus_version", 412, "`Tus-Resumable` names a version other than 1.0.0.";
        BodyTooLarge = "body_too_large", 413, "The request body is larger than this route takes.";
        TooLarge = "too_large", 413, "The file is larger than `upload.max_size_bytes`.";
        QuotaExceeded = "quota_exceeded", 413, "The file would take the user past their storage quota.";
        TooManyFields = "too_many_fields", 413, "A form has more fields than the upload takes.";
        FieldsTooLarge = "fields_too_large", 413, "A form's text fields are larger than the upload takes.";
        UnsupportedMediaType = "unsupported_media_type", 415, "The body's Content-Type is not one this route takes.";
        NotAnImage = "not_an_image", 415, "The body is not a JPEG, PNG or WebP image, or its pictures are too large (at most 8192 pixels a side).";
        InvalidRange = "invalid_range", 416, "The Range header asks for bytes the file does not have.";
        UploadBusy = "upload_busy", 423, "Another request is writing this upload (409 when its lock was lost mid-write); retry after it ends.";
        TooManyRequests = "too_many_requests", 429, "Too many requests in flight from one address; see `Retry-After`.";
        TooManyAttempts = "too_many_attempts", 429, "Too many failed sign-ins for this account or address; see `Retry-After`.";
        TooManyRegistrations = "too_many_registrations", 429, "Too many accounts created from one address this hour; see `Retry-After`.";
        TooManyUploads = "too_many_uploads", 429, "The user has `upload.max_uploads_in_progress` unfinished uploads.";
        TooManyWaiting = "too_many_waiting", 429, "The user has `upload.max_videos_waiting` videos waiting for the transcoder.";
        TooManyActions = "too_many_actions", 429, "Too many comments (`community.comments_per_minute`) or ratings, likes and subscription changes (`community.actions_per_minute`) this minute; see `Retry-After`.";
        TooManyImports = "too_many_imports", 429, "The user has `import.max_pending` imports waiting or fetching; see `Retry-After`.";
        TooManyMails = "too_many_mails", 429, "Too many mails asked for this account or address this hour; see `Retry-After`.";
        ChecksumMismatch = "checksum_mismatch", 460, "tus: the PATCH body does not match its `Upload-Checksum`; nothing of it was kept.";
        Internal = "internal", 500, "Something failed on the server; the log has the cause under the request id.";
        FormatUnsupported = "format_unsupported", 501, "oEmbed: a `format` other than `json`.";
        Unavailable = "unavailable", 503, "A service Kadr depends on (database, storage) did not answer in time; see `Retry-After`.";
        Busy = "busy", 503, "Too many password checks or picture uploads at once; see `Retry-After`.";
    }
}

codes! {
    /// Why a video ended `failed` (`failure.code`): the file's fault, never retried, or ours
    /// after every attempt.
    Failure {
        EmptyFile = "empty_file", 0, "The file is empty.";
        NotAVideo = "not_a_video", 0, "The file is not a container Kadr reads (playlists, manifests and concat lists are refused here).";
        NoVideoStream = "no_video_stream", 0, "The file has no video stream.";
        UnsupportedCodec = "unsupported_codec", 0, "The video is in a codec Kadr does not decode.";
        Undecodable = "undecodable", 0, "The video stream does not decode.";
        Truncated = "truncated", 0, "The file ends before its video does.";
        TooLong = "too_long", 0, "Longer than `transcode.max_duration_secs`, by its header or by what decodes.";
        TooManyPixels = "too_many_pixels", 0, "Pictures larger than `transcode.max_pixels`.";
        TooManyFramesPerSecond = "too_many_frames_per_second", 0, "Faster than `transcode.max_fps`.";
        TooManyStreams = "too_many_streams", 0, "More streams than `transcode.max_streams`.";
        Stalled = "stalled", 0, "The transcode decoded nothing for `worker.stall_timeout_secs`, twice.";
        TooSlow = "too_slow", 0, "The transcode ran over its time budget, twice.";
        SourceNotAllowed = "source_not_allowed", 0, "An imported video's URL, or a redirect from it, leads to an address Kadr does not reach (see `url_not_allowed`), or through too many redirects.";
        SourceUnavailable = "source_unavailable", 0, "An imported video's URL answered with an error, or could not be reached after every attempt.";
        SourceTooLarge = "source_too_large", 0, "An imported file is larger than `upload.max_size_bytes` or than what is left of its owner's quota.";
        FetchTimedOut = "fetch_timed_out", 0, "Fetching an imported file took longer than `import.max_secs`.";
        ProcessingFailed = "processing_failed", 0, "Kadr could not process the video after every attempt (its own fault); try again later.";
    }
}

/// The README's table of codes, between its markers.
pub fn markdown_table() -> String {
    let mut out = String::from("| code | status | meaning |\n|---|---|---|\n");
    for c in Code::ALL {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            c.as_str(),
            c.status(),
            c.meaning()
        ));
    }
    out.push_str("\nA video that ends `failed` carries one of these in `failure.code`:\n\n");
    out.push_str("| code | meaning |\n|---|---|\n");
    for f in Failure::ALL {
        out.push_str(&format!("| `{}` | {} |\n", f.as_str(), f.meaning()));
    }
    out
}

pub const README_START: &str =
    "<!-- codes:start (generated from crates/kadr-core/src/codes.rs) -->\n";
pub const README_END: &str = "<!-- codes:end -->";

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL
            .iter()
            .map(|c| c.as_str())
            .chain(Failure::ALL.iter().map(|f| f.as_str()))
        {
            assert!(seen.insert(c), "{c} twice");
            assert!(
                c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'),
                "{c}"
            );
            assert_eq!(
                Code::parse(c)
                    .map(|x| x.as_str())
                    .or(Failure::parse(c).map(|f| f.as_str())),
                Some(c)
            );
        }
        for c in Code::ALL {
            assert!((400..600).contains(&c.status()), "{c}");
        }
    }

    /// The README documents exactly this list. `KADR_UPDATE_README=1` rewrites its table.
    #[test]
    fn readme_lists_every_code() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md");
        let readme = std::fs::read_to_string(&path).unwrap();
        let start = readme
            .find(README_START)
            .expect("README has no codes:start marker")
            + README_START.len();
        let end = readme[start..]
            .find(README_END)
            .expect("README has no codes:end marker")
            + start;
        let want = markdown_table();
        if readme[start..end] != want {
            if std::env::var_os("KADR_UPDATE_README").is_some() {
                let updated = format!("{}{}{}", &readme[..start], want, &readme[end..]);
                std::fs::write(&path, updated).unwrap();
            } else {
                panic!(
                    "README.md's table of codes differs from crates/kadr-core/src/codes.rs; \
                     run KADR_UPDATE_README=1 cargo nextest run -p kadr-core"
                );
            }
        }
    }
}
