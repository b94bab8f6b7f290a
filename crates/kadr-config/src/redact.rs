//! Secrets kept out of logs and printouts.

use crate::schema::Config;
use crate::{ConfigError, REDACTED, Secret};

impl Secret {
    fn redacted(&self) -> Secret {
        if self.is_empty() {
            Secret::default()
        } else {
            Secret::new(REDACTED)
        }
    }
}

impl Config {
    /// A copy with every secret replaced, for printing and logging.
    pub fn redacted(&self) -> Config {
        let mut c = self.clone();
        c.api.media_secret = c.api.media_secret.as_ref().map(Secret::redacted);
        c.admin_password = c.admin_password.as_ref().map(Secret::redacted);
        c.mail.smtp_url = c
            .mail
            .smtp_url
            .as_ref()
            .map(|u| Secret(redact_url(u.expose())));
        c.database.url = c
            .database
            .url
            .as_ref()
            .map(|u| Secret(redact_url(u.expose())));
        c.storage.s3.secret_access_key = c
            .storage
            .s3
            .secret_access_key
            .as_ref()
            .map(Secret::redacted);
        c
    }

    /// The effective configuration as TOML, secrets redacted (`kadr config`).
    pub fn to_redacted_toml(&self) -> Result<String, ConfigError> {
        toml::to_string_pretty(&self.redacted())
            .map_err(|e| ConfigError::invalid("", e.to_string()))
    }
}

/// Replaces the password of a URL such as `postgres://user:pw@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let userinfo = &authority[..at];
    match userinfo.find(':') {
        Some(colon) => format!(
            "{}{}:{}{}",
            &url[..scheme_end + 3],
            &userinfo[..colon],
            REDACTED,
            &rest[at..]
        ),
        None => url.to_owned(),
    }
}
