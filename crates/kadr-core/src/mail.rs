//! Mail to users: password resets and address checks. A request only enqueues a `mail` job;
//! the worker makes the one-time token (only its SHA-256 is stored, so nothing in the
//! database or the job lets anyone use it), writes the message and sends it through SMTP.
//! A token is good once, until it expires, and only while the account still has the address
//! it was sent to.

use chrono::{DateTime, FixedOffset};
use kadr_config::Config;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::token_hash;
use crate::codes::Code;
use crate::error::DomainError;
use crate::state::TokenPurpose;

fn stmt(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// The payload of a `mail` job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MailJob {
    pub user_id: Uuid,
    pub purpose: TokenPurpose,
}

/// 409 `mail_off`: what the mail features answer on a server without `mail.smtp_url`.
pub fn off() -> DomainError {
    DomainError::refused(
        Code::MailOff,
        "Mail is not set up on this server: ask its operator",
    )
}

/// Asks for a mail to `user` (in the caller's transaction): one job per user and purpose at
/// a time.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    config: &Config,
    user: Uuid,
    purpose: TokenPurpose,
) -> Result<(), DomainError> {
    if !config.mail.enabled() {
        return Err(off());
    }
    crate::jobs::enqueue(
        db,
        config,
        crate::jobs::MAIL,
        &MailJob {
            user_id: user,
            purpose,
        },
        Some(format!("{}:{}", purpose.as_str(), user)),
    )
    .await
}

/// How long a token of `purpose` is good.
pub fn lifetime(config: &Config, purpose: TokenPurpose) -> chrono::Duration {
    match purpose {
        TokenPurpose::PasswordReset => {
            chrono::Duration::minutes(i64::from(config.mail.reset_minutes))
        }
        TokenPurpose::EmailVerification => {
            chrono::Duration::hours(i64::from(config.mail.verify_hours))
        }
    }
}

/// A new one-time token of `purpose` for `user` at `email`, good until the time returned.
pub async fn issue(
    db: &impl ConnectionTrait,
    config: &Config,
    user: Uuid,
    purpose: TokenPurpose,
    email: &str,
) -> Result<(String, DateTime<FixedOffset>), DomainError> {
    use base64::Engine;
    let random: [u8; 32] = rand::random();
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random);
    let expires = (chrono::Utc::now() + lifetime(config, purpose)).fixed_offset();
    db.execute_raw(stmt(
        "INSERT INTO account_tokens (token_hash, user_id, purpose, email, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
        vec![
            token_hash(&token).into(),
            user.into(),
            purpose.as_str().into(),
            email.into(),
            expires.into(),
        ],
    ))
    .await?;
    Ok((token, expires))
}

fn invalid() -> DomainError {
    DomainError::refused(
        Code::InvalidAccountToken,
        "This link is not valid: it was used, has expired, or the address changed since",
    )
    .field("token")
}

/// Uses a token of `purpose` in `tx` (it is good once). Returns its user.
pub async fn redeem(
    tx: &impl ConnectionTrait,
    token: &str,
    purpose: TokenPurpose,
) -> Result<Uuid, DomainError> {
    if token.is_empty() || token.len() > 200 {
        return Err(invalid());
    }
    let row = tx
        .query_one_raw(stmt(
            "UPDATE account_tokens t SET used_at = now() FROM users u
             WHERE t.token_hash = $1 AND t.purpose = $2 AND t.used_at IS NULL
               AND t.expires_at > now() AND u.id = t.user_id AND lower(u.email) = lower(t.email)
               AND u.deleting_at IS NULL
             RETURNING t.user_id",
            vec![token_hash(token).into(), purpose.as_str().into()],
        ))
        .await?
        .ok_or_else(invalid)?;
    Ok(row.try_get("", "user_id")?)
}

/// Marks the address of the token's user checked.
pub async fn verify_email(tx: &impl ConnectionTrait, token: &str) -> Result<Uuid, DomainError> {
    let user = redeem(tx, token, TokenPurpose::EmailVerification).await?;
    tx.execute_raw(stmt(
        "UPDATE users SET email_verified = true, updated_at = now() WHERE id = $1",
        vec![user.into()],
    ))
    .await?;
    Ok(user)
}

/// Marks `user`'s address checked (a reset mail reached it).
pub async fn mark_verified(db: &impl ConnectionTrait, user: Uuid) -> Result<(), DomainError> {
    db.execute_raw(stmt(
        "UPDATE users SET email_verified = true, updated_at = now() WHERE id = $1",
        vec![user.into()],
    ))
    .await?;
    Ok(())
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub to: String,
    pub subject: String,
    pub text: String,
}

/// The message carrying `token` to `username` at `to`, in English, Russian and Arabic (each
/// part whole: greeting, the link, how long it works). `base` is the public address of the
/// site.
pub fn compose(
    purpose: TokenPurpose,
    base: &str,
    username: &str,
    to: &str,
    token: &str,
    expires: DateTime<FixedOffset>,
) -> Message {
    let until = expires.to_utc().format("%Y-%m-%d %H:%M UTC");
    let base = base.trim_end_matches('/');
    match purpose {
        TokenPurpose::PasswordReset => {
            let link = format!("{base}/reset-password?token={token}");
            Message {
                to: to.to_owned(),
                subject: "Kadr: reset your password / сброс пароля / إعادة تعيين كلمة المرور"
                    .to_owned(),
                text: format!(
                    "Hello, {username}.\n\n\
                     Someone (you, we hope) asked to reset the password of your Kadr account. \
                     To choose a new one, open:\n\n{link}\n\n\
                     The link works once, until {until}. If you did not ask, ignore this mail: \
                     your password stays as it is.\n\n\
                     ---\n\n\
                     Здравствуйте, {username}.\n\n\
                     Кто-то (надеемся, вы) попросил сбросить пароль вашей учётной записи Kadr. \
                     Чтобы выбрать новый, откройте:\n\n{link}\n\n\
                     Ссылка действует один раз, до {until}. Если вы не просили, не обращайте \
                     внимания на это письмо: пароль останется прежним.\n\n\
                     ---\n\n\
                     مرحبًا {username}،\n\n\
                     طلب أحدهم (ونأمل أن تكون أنت) إعادة تعيين كلمة مرور حسابك في Kadr. \
                     لاختيار كلمة مرور جديدة، افتح الرابط التالي:\n\n{link}\n\n\
                     يمكن استخدام الرابط مرة واحدة فقط، وهو صالح حتى {until}. إن لم تطلب \
                     ذلك، فتجاهل هذه الرسالة، وستبقى كلمة مرورك كما هي.\n"
                ),
            }
        }
        TokenPurpose::EmailVerification => {
            let link = format!("{base}/verify-email?token={token}");
            Message {
                to: to.to_owned(),
                subject:
                    "Kadr: confirm your address / подтвердите адрес / تأكيد عنوان البريد الإلكتروني"
                        .to_owned(),
                text: format!(
                    "Hello, {username}.\n\n\
                     To confirm that this address belongs to your Kadr account, open:\n\n\
                     {link}\n\n\
                     The link works once, until {until}.\n\n\
                     ---\n\n\
                     Здравствуйте, {username}.\n\n\
                     Чтобы подтвердить, что этот адрес принадлежит вашей учётной записи Kadr, \
                     откройте:\n\n{link}\n\n\
                     Ссылка действует один раз, до {until}.\n\n\
                     ---\n\n\
                     مرحبًا {username}،\n\n\
                     لتأكيد أن عنوان البريد الإلكتروني هذا يخص حسابك في Kadr، افتح الرابط \
                     التالي:\n\n{link}\n\n\
                     يمكن استخدام الرابط مرة واحدة فقط، وهو صالح حتى {until}.\n"
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The three parts of a message, in English, Russian and Arabic.
    fn parts(m: &Message) -> Vec<&str> {
        m.text.split("\n---\n").map(str::trim).collect()
    }

    fn has_arabic(text: &str) -> bool {
        text.chars().any(|c| ('\u{0621}'..='\u{064A}').contains(&c))
    }

    fn has_cyrillic(text: &str) -> bool {
        text.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c))
    }

    /// Plain UTF-8 that survives base64 and a text/plain part as it is: no control characters
    /// but line ends (and no CR), no invisible direction marks or byte order mark.
    fn assert_clean(m: &Message) {
        for c in m.text.chars() {
            assert!(c == '\n' || !c.is_control(), "{c:?} in the text");
        }
        for c in m.subject.chars() {
            assert!(!c.is_control(), "{c:?} in the subject");
        }
        for text in [&m.text, &m.subject] {
            assert!(
                !text.contains([
                    '\u{feff}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202b}', '\u{202c}',
                    '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}', '\u{2069}',
                ]),
                "{text}"
            );
        }
        use base64::Engine;
        let engine = base64::engine::general_purpose::STANDARD;
        let back = engine
            .decode(engine.encode(m.text.as_bytes()))
            .unwrap_or_default();
        assert_eq!(
            String::from_utf8(back).ok().as_deref(),
            Some(m.text.as_str())
        );
    }

    #[test]
    fn messages_carry_the_link_in_every_language() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").unwrap_or_default();
        let m = compose(
            TokenPurpose::PasswordReset,
            "https://video.example.org/",
            "Иван",
            "ivan@example.org",
            "abc",
            at,
        );
        assert_eq!(m.to, "ivan@example.org");
        assert_eq!(
            m.text
                .matches("https://video.example.org/reset-password?token=abc")
                .count(),
            3
        );
        assert!(m.text.contains("Здравствуйте, Иван"));
        assert!(m.text.contains("2026-12-01 10:00 UTC"));
        let v = compose(
            TokenPurpose::EmailVerification,
            "http://127.0.0.1:8080",
            "a",
            "a@b.example",
            "t",
            at,
        );
        assert!(
            v.text
                .contains("http://127.0.0.1:8080/verify-email?token=t")
        );
    }

    #[test]
    fn every_part_is_whole_in_its_language() {
        let at =
            chrono::DateTime::parse_from_rfc3339("2026-12-01T12:30:00+02:00").unwrap_or_default();
        for (purpose, path) in [
            (TokenPurpose::PasswordReset, "reset-password"),
            (TokenPurpose::EmailVerification, "verify-email"),
        ] {
            let m = compose(
                purpose,
                "https://v.example/",
                "lena",
                "l@v.example",
                "tok",
                at,
            );
            let link = format!("https://v.example/{path}?token=tok");
            let parts = parts(&m);
            assert_eq!(parts.len(), 3, "{purpose:?}: {}", m.text);
            for part in &parts {
                assert_eq!(part.matches(link.as_str()).count(), 1, "{part}");
                assert!(part.contains("2026-12-01 10:30 UTC"), "{part}");
                assert!(part.contains("lena"), "{part}");
            }
            let (en, ru, ar) = (parts[0], parts[1], parts[2]);
            assert!(en.starts_with("Hello, lena."));
            assert!(!has_cyrillic(en) && !has_arabic(en));
            assert!(ru.starts_with("Здравствуйте, lena."));
            assert!(has_cyrillic(ru) && !has_arabic(ru));
            assert!(ar.starts_with("مرحبًا lena،"));
            assert!(has_arabic(ar) && !has_cyrillic(ar));
            assert!(has_cyrillic(&m.subject) && has_arabic(&m.subject));
            assert!(m.subject.starts_with("Kadr: "));
            // The line for whoever did not ask, in every language.
            let ignore = ["ignore this mail", "не обращайте", "فتجاهل هذه الرسالة"];
            for (part, words) in parts.iter().zip(ignore) {
                assert_eq!(
                    part.contains(words),
                    purpose == TokenPurpose::PasswordReset,
                    "{part}"
                );
            }
            assert_clean(&m);
        }
        let m = compose(
            TokenPurpose::PasswordReset,
            "https://v.example",
            "u",
            "u@v.example",
            "x",
            at,
        );
        assert_eq!(
            m.subject,
            "Kadr: reset your password / сброс пароля / إعادة تعيين كلمة المرور"
        );
    }
}
