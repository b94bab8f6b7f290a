//! Checks of the fields a video is described with, shared by creation (upload API) and
//! editing (catalog service), so both refuse the same things with the same codes.

use crate::error::DomainError;
use crate::state::Privacy;

/// A username's length, in characters.
pub const USERNAME_LEN: std::ops::RangeInclusive<usize> = 3..=32;
/// A password's length, in characters.
pub const PASSWORD_LEN: std::ops::RangeInclusive<usize> = 8..=256;
/// Longest title, in characters.
pub const TITLE_MAX: usize = 300;
/// Longest description, in characters.
pub const DESCRIPTION_MAX: usize = 10_000;
/// Most tags on a video.
pub const TAGS_MAX: usize = 30;
/// Longest tag, in characters.
pub const TAG_MAX: usize = 64;

/// Whether `c` belongs to a word: letters and digits of any script, and the combining marks
/// written over Arabic (harakat) and other scripts' letters.
pub fn word_char(c: char) -> bool {
    c.is_alphanumeric()
        || matches!(c, '\u{0300}'..='\u{036F}' | '\u{064B}'..='\u{065F}' | '\u{0670}')
}

/// The words of `text`, lower-cased; each safe to quote inside `to_tsquery` (letters, digits
/// and marks only).
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !word_char(c))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Whether `key` could name something (a handle, a username): not too long, no control
/// characters. Lookups of anything else find nothing without asking the database (which
/// refuses NUL in text).
pub fn could_name(key: &str) -> bool {
    key.len() <= 256 && !key.chars().any(char::is_control)
}

fn invalid(field: &str, title: &str) -> DomainError {
    DomainError::invalid(field, title)
}

/// Text people type: no control characters (NUL, which Postgres cannot store, among them),
/// except line breaks and tabs where `multiline`.
pub fn plain_text(field: &str, value: &str, multiline: bool) -> Result<(), DomainError> {
    let bad = value
        .chars()
        .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')));
    if bad {
        return Err(invalid(field, "Text may not hold control characters"));
    }
    Ok(())
}

/// A title: trimmed, 1 to 300 characters.
pub fn title(value: &str) -> Result<String, DomainError> {
    let t = value.trim();
    if t.is_empty() {
        return Err(invalid("title", "A video needs a title"));
    }
    plain_text("title", t, false)?;
    if t.chars().count() > TITLE_MAX {
        return Err(invalid("title", "A title has at most 300 characters"));
    }
    Ok(t.to_owned())
}

/// A description: at most 10000 characters.
pub fn description(value: &str) -> Result<String, DomainError> {
    plain_text("description", value, true)?;
    if value.chars().count() > DESCRIPTION_MAX {
        return Err(invalid(
            "description",
            "A description has at most 10000 characters",
        ));
    }
    Ok(value.to_owned())
}

/// Tags: trimmed, empty ones dropped, at most 30 of at most 64 characters.
pub fn tags(value: &[String]) -> Result<Vec<String>, DomainError> {
    let tags: Vec<String> = value
        .iter()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect();
    for t in &tags {
        plain_text("tags", t, false)?;
    }
    if tags.len() > TAGS_MAX || tags.iter().any(|t| t.chars().count() > TAG_MAX) {
        return Err(invalid(
            "tags",
            "At most 30 tags of at most 64 characters each",
        ));
    }
    Ok(tags)
}

/// A BCP 47 language tag, or none when empty.
pub fn language(value: &str) -> Result<Option<String>, DomainError> {
    let l = value.trim();
    if l.is_empty() {
        return Ok(None);
    }
    if l.len() > 35 || !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(invalid(
            "language",
            "language is a BCP 47 tag such as ru, en or ar",
        ));
    }
    Ok(Some(l.to_owned()))
}

/// `public`, `unlisted` or `private`.
pub fn privacy(value: &str) -> Result<Privacy, DomainError> {
    Privacy::parse(value)
        .ok_or_else(|| invalid("privacy", "privacy is one of public, unlisted, private"))
}
