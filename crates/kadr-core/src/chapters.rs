//! Chapters from a video's description, the way uploaders already write them:
//!
//! ```text
//! 0:00 Intro
//! 1:15 — The first part
//! 12:40 Questions
//! ```
//!
//! A line holds a chapter when it starts with a timestamp (`m:ss`, `mm:ss` or `h:mm:ss`,
//! optionally after a list bullet or inside brackets) followed by a title. As on the largest
//! platforms, the list only counts when it is deliberate: it starts at 0:00, has at least
//! [`MIN_CHAPTERS`] entries, the times rise, and each chapter lasts at least
//! [`MIN_LENGTH_SECS`]. Anything else (a lone "see 3:20", a tracklist out of order) gives no
//! chapters rather than a wrong seek bar.

use serde::Serialize;

/// Fewer timestamps than this are references, not chapters.
pub const MIN_CHAPTERS: usize = 3;
/// The shortest chapter, seconds.
pub const MIN_LENGTH_SECS: u32 = 10;
/// The most chapters read from one description.
pub const MAX_CHAPTERS: usize = 200;
/// The longest title kept, characters (longer ones are cut).
pub const MAX_TITLE_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chapter {
    /// Where it starts, whole seconds from the beginning.
    pub start: u32,
    pub title: String,
}

/// `h:mm:ss`, `mm:ss` or `m:ss` at the start of `s`; the seconds and the rest of the line.
fn timestamp(s: &str) -> Option<(u32, &str)> {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == ':'))
        .unwrap_or(s.len());
    let (stamp, rest) = s.split_at(end);
    let parts: Vec<&str> = stamp.split(':').collect();
    if !(2..=3).contains(&parts.len()) || parts.iter().any(|p| p.is_empty() || p.len() > 2) {
        return None;
    }
    let nums: Vec<u32> = parts.iter().filter_map(|p| p.parse().ok()).collect();
    if nums.len() != parts.len() {
        return None;
    }
    let (h, m, s) = match nums[..] {
        [m, s] => (0, m, s),
        [h, m, s] => (h, m, s),
        _ => return None,
    };
    // Seconds always two digits; minutes two digits after hours.
    let two = |i: usize| parts[i].len() == 2;
    if s > 59 || !two(parts.len() - 1) || (parts.len() == 3 && (m > 59 || !two(1))) {
        return None;
    }
    Some((h * 3600 + m * 60 + s, rest))
}

/// The chapter a line announces, if it announces one.
fn line(raw: &str) -> Option<(u32, String)> {
    let mut s = raw.trim_start();
    // List bullets and numbering some uploaders put first.
    s = s
        .trim_start_matches(['-', '*', '•', '–', '—', '▶', '►'])
        .trim_start();
    let bracket = s.starts_with(['(', '[']);
    if bracket {
        s = &s[1..];
    }
    let (start, mut rest) = timestamp(s)?;
    if bracket {
        rest = rest.strip_prefix([')', ']'])?;
    }
    let title = rest
        .trim_start_matches(|c: char| {
            c.is_whitespace() || matches!(c, '-' | '–' | '—' | ':' | '|' | '.')
        })
        .trim();
    let title: String = title
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_TITLE_CHARS)
        .collect();
    if title.is_empty() {
        return None;
    }
    Some((start, title))
}

/// The chapters of `description`, for a video lasting `duration_secs` when it is known
/// (chapters starting at or after the end are dropped); empty when the description holds no
/// deliberate chapter list.
pub fn parse(description: &str, duration_secs: Option<f64>) -> Vec<Chapter> {
    let mut out: Vec<Chapter> = Vec::new();
    for raw in description.lines() {
        let Some((start, title)) = line(raw) else {
            continue;
        };
        if out.is_empty() && start != 0 {
            // A timestamp before the list begins ("at 3:20 you see …") is not a chapter;
            // the list proper starts at 0:00.
            continue;
        }
        if out.len() == MAX_CHAPTERS {
            break;
        }
        if let Some(last) = out.last()
            && start < last.start + MIN_LENGTH_SECS
        {
            return Vec::new();
        }
        out.push(Chapter { start, title });
    }
    if let Some(d) = duration_secs {
        out.retain(|c| f64::from(c.start) < d);
        if let Some(last) = out.last()
            && d - f64::from(last.start) < f64::from(MIN_LENGTH_SECS)
            && out.len() > 1
        {
            out.pop();
        }
    }
    if out.len() < MIN_CHAPTERS {
        return Vec::new();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn starts(d: &str, dur: Option<f64>) -> Vec<(u32, String)> {
        parse(d, dur)
            .into_iter()
            .map(|c| (c.start, c.title))
            .collect()
    }

    #[test]
    fn a_plain_list() {
        let d =
            "My trip.\n\n0:00 Intro\n1:15 — The road\n12:40 Вопросы и ответы\n1:02:03 النهاية\n";
        assert_eq!(
            starts(d, None),
            vec![
                (0, "Intro".to_owned()),
                (75, "The road".to_owned()),
                (760, "Вопросы и ответы".to_owned()),
                (3723, "النهاية".to_owned()),
            ]
        );
    }

    #[test]
    fn bullets_brackets_and_separators() {
        let d = "- 00:00 - Start\n• (0:30) Middle | part\n[01:00]: End";
        assert_eq!(
            starts(d, Some(120.0)),
            vec![
                (0, "Start".to_owned()),
                (30, "Middle | part".to_owned()),
                (60, "End".to_owned()),
            ]
        );
    }

    #[test]
    fn references_and_broken_lists_give_none() {
        // Too few.
        assert!(parse("0:00 a\n0:30 b", None).is_empty());
        // Not from zero: the first stamp is a reference, and the rest is too short a list.
        assert!(parse("see 0:10 there\n0:20 a\n0:40 b", None).is_empty());
        // Out of order.
        assert!(parse("0:00 a\n2:00 b\n1:00 c\n3:00 d", None).is_empty());
        // A chapter shorter than the minimum.
        assert!(parse("0:00 a\n0:05 b\n1:00 c", None).is_empty());
        // Malformed stamps are not stamps.
        assert!(parse("0:0 a\n0:61 b\n1:2:3 c\n:30 d\n100:00 e", None).is_empty());
        // A stamp with no title.
        assert!(parse("0:00\n0:30\n1:00", None).is_empty());
    }

    #[test]
    fn lines_before_the_list_are_skipped() {
        let d = "Filmed at 3:20 in the morning\n0:00 a\n0:30 b\n1:00 c";
        assert_eq!(starts(d, None).len(), 3);
    }

    #[test]
    fn chapters_past_the_end_are_dropped() {
        let d = "0:00 a\n0:30 b\n1:00 c\n5:00 d";
        assert_eq!(starts(d, Some(200.0)).len(), 3);
        // The last would last under the minimum, and the two left are too few.
        assert!(starts(d, Some(65.0)).is_empty());
        assert_eq!(
            starts("0:00 a\n0:30 b\n1:00 c\n1:30 d", Some(95.0)).len(),
            3
        );
    }

    #[test]
    fn hostile_descriptions_stay_bounded() {
        let many: String = (0..5000)
            .map(|i| format!("{}:{:02} t{i}\n", i / 6, (i % 6) * 10))
            .collect();
        assert_eq!(parse(&many, None).len(), MAX_CHAPTERS);
        let long = format!("0:00 {}\n0:30 b\n1:00 c", "я".repeat(10_000));
        assert_eq!(parse(&long, None)[0].title.chars().count(), MAX_TITLE_CHARS);
        assert!(parse("0:00 a\u{0}\u{7}\n0:30 b\n1:00 c", None)[0].title == "a");
        assert!(parse(&"9".repeat(100_000), None).is_empty());
        assert!(parse("99:99:99:99 a", None).is_empty());
    }
}
