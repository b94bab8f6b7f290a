//! Caption files: WebVTT and SRT read into cues, checked, and written back as WebVTT — whole,
//! and cut into segments for an HLS subtitle rendition.
//!
//! Both formats are read strictly enough that a broken file is refused with the line at
//! fault, and loosely where real files differ (a byte-order mark, CRLF line ends, a missing
//! SRT counter, `.` for `,` in SRT times). What comes out is always the same plain WebVTT:
//! cues with ids, times and the cue settings the WebVTT spec defines; styles, regions and
//! notes are dropped; SRT markup becomes WebVTT markup (`<i>`, `<b>`, `<u>`), other tags and
//! ASS overrides go, and `<`, `>`, `&` in SRT text are escaped.

use std::fmt::Write as _;

/// Largest caption file taken, bytes.
pub const MAX_BYTES: usize = 2 * 1024 * 1024;
/// Most cues in one file.
pub const MAX_CUES: usize = 20_000;
/// Longest cue text, characters.
pub const MAX_CUE_CHARS: usize = 1_000;
/// The latest a cue may end: 24 hours.
pub const MAX_END_MS: u64 = 24 * 3600 * 1000;
/// Characters of caption text kept for the search.
pub const MAX_SEARCH_CHARS: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Vtt,
    Srt,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Vtt => "vtt",
            Format::Srt => "srt",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cue {
    pub start_ms: u64,
    pub end_ms: u64,
    /// WebVTT cue settings (`line:0 align:start`), only the ones the spec defines.
    pub settings: String,
    /// WebVTT cue text: lines joined by `\n`, never blank lines.
    pub text: String,
}

/// Why a file is refused: the line (1-based; 0 for the file as a whole) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct BadFile {
    pub line: usize,
    pub reason: String,
}

fn bad(line: usize, reason: impl Into<String>) -> BadFile {
    BadFile {
        line,
        reason: reason.into(),
    }
}

/// A parsed file.
#[derive(Debug, Clone)]
pub struct Captions {
    pub format: Format,
    pub cues: Vec<Cue>,
}

/// Reads `bytes` as WebVTT (it starts with `WEBVTT`) or else SRT.
pub fn parse(bytes: &[u8]) -> Result<Captions, BadFile> {
    if bytes.len() > MAX_BYTES {
        return Err(bad(
            0,
            format!("the file is larger than {} KiB", MAX_BYTES / 1024),
        ));
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let line = bytes[..e.valid_up_to()]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                + 1;
            return Err(bad(line, "the file is not UTF-8 text: save it as UTF-8"));
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.contains('\0') {
        let line = text[..text.find('\0').unwrap_or(0)].matches('\n').count() + 1;
        return Err(bad(
            line,
            "the file holds a NUL character: it is not a caption file",
        ));
    }
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let first = lines.first().copied().unwrap_or_default();
    let (format, cues) = if first.starts_with("WEBVTT")
        && first[6..]
            .chars()
            .next()
            .is_none_or(|c| c == ' ' || c == '\t')
    {
        (Format::Vtt, vtt(&lines)?)
    } else if first.trim_start() != first && first.trim_start().starts_with("WEBVTT") {
        return Err(bad(1, "WEBVTT must open the first line"));
    } else {
        (Format::Srt, srt(&lines)?)
    };
    if cues.is_empty() {
        return Err(bad(0, "the file holds no cues"));
    }
    Ok(Captions { format, cues })
}

/// `hh:mm:ss.ttt` or `mm:ss.ttt` (WebVTT), with `,` too when `srt`; milliseconds.
fn timestamp(s: &str, srt: bool) -> Option<u64> {
    let (clock, frac) = s
        .split_once('.')
        .or_else(|| if srt { s.split_once(',') } else { None })?;
    if frac.len() != 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let parts: Vec<&str> = clock.split(':').collect();
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if !parts.iter().all(|p| digits(p)) {
        return None;
    }
    let (h, m, sec): (u64, u64, u64) = match parts.as_slice() {
        [m, s] if !srt && m.len() == 2 && s.len() == 2 => (0, m.parse().ok()?, s.parse().ok()?),
        [h, m, s] if h.len() <= 3 && m.len() == 2 && s.len() == 2 => {
            (h.parse().ok()?, m.parse().ok()?, s.parse().ok()?)
        }
        _ => return None,
    };
    if m > 59 || sec > 59 {
        return None;
    }
    Some(((h * 60 + m) * 60 + sec) * 1000 + frac.parse::<u64>().ok()?)
}

/// The settings WebVTT defines, each checked; others dropped (as a player would).
fn settings(raw: &str) -> String {
    let mut kept = Vec::new();
    for s in raw.split_whitespace() {
        let Some((k, v)) = s.split_once(':') else {
            continue;
        };
        let ok = match k {
            "vertical" => matches!(v, "rl" | "lr"),
            "align" => matches!(v, "start" | "center" | "end" | "left" | "right"),
            "line" | "position" | "size" => {
                !v.is_empty()
                    && v.len() <= 24
                    && v.bytes().all(|b| {
                        b.is_ascii_alphanumeric() || matches!(b, b'.' | b'%' | b',' | b'-')
                    })
            }
            _ => false,
        };
        if ok {
            kept.push(s);
        }
    }
    kept.join(" ")
}

/// `start --> end [settings]`.
fn timing(line: &str, n: usize, srt: bool) -> Result<(u64, u64, String), BadFile> {
    let Some((a, b)) = line.split_once("-->") else {
        return Err(bad(
            n,
            "expected a cue timing such as 00:00:01.000 --> 00:00:04.000",
        ));
    };
    let start = timestamp(a.trim(), srt).ok_or_else(|| {
        bad(
            n,
            format!("{:?} is not a time such as 00:00:01.000", a.trim()),
        )
    })?;
    let b = b.trim_start();
    let (end_s, rest) = b.split_once([' ', '\t']).unwrap_or((b, ""));
    let end = timestamp(end_s, srt)
        .ok_or_else(|| bad(n, format!("{end_s:?} is not a time such as 00:00:04.000")))?;
    if end <= start {
        return Err(bad(n, "a cue must end after it starts"));
    }
    if end > MAX_END_MS {
        return Err(bad(n, "a cue ends after 24 hours"));
    }
    Ok((start, end, if srt { String::new() } else { settings(rest) }))
}

/// Cue text: no control characters, no `-->` (it would end the text in WebVTT).
fn clean_line(line: &str) -> String {
    line.chars()
        .filter(|c| !c.is_control() || *c == '\t')
        .collect::<String>()
        .replace("-->", "→")
}

fn push(cues: &mut Vec<Cue>, cue: Cue, line: usize) -> Result<(), BadFile> {
    if cue.text.chars().count() > MAX_CUE_CHARS {
        return Err(bad(
            line,
            format!("a cue's text is longer than {MAX_CUE_CHARS} characters"),
        ));
    }
    if cues.len() == MAX_CUES {
        return Err(bad(line, format!("more than {MAX_CUES} cues")));
    }
    cues.push(cue);
    Ok(())
}

fn vtt(lines: &[&str]) -> Result<Vec<Cue>, BadFile> {
    let mut cues = Vec::new();
    let mut i = 1;
    // The header runs to the first blank line.
    while i < lines.len() && !lines[i].trim().is_empty() {
        if lines[i].contains("-->") {
            return Err(bad(
                i + 1,
                "a blank line must separate the WEBVTT header from the first cue",
            ));
        }
        i += 1;
    }
    while i < lines.len() {
        if lines[i].trim().is_empty() {
            i += 1;
            continue;
        }
        let start_line = i + 1;
        let first = lines[i];
        let block_end = (i..lines.len())
            .find(|&j| lines[j].trim().is_empty())
            .unwrap_or(lines.len());
        let keyword = |k: &str| {
            first == k
                || first.starts_with(&format!("{k} "))
                || first.starts_with(&format!("{k}\t"))
        };
        if keyword("NOTE") || keyword("STYLE") || keyword("REGION") {
            i = block_end;
            continue;
        }
        let timing_at = if first.contains("-->") { i } else { i + 1 };
        if timing_at >= block_end || !lines[timing_at].contains("-->") {
            return Err(bad(
                start_line,
                "expected a cue timing such as 00:00:01.000 --> 00:00:04.000 (a cue id alone is not a cue)",
            ));
        }
        let (start_ms, end_ms, settings) = timing(lines[timing_at], timing_at + 1, false)?;
        let text = lines[timing_at + 1..block_end]
            .iter()
            .map(|l| clean_line(l))
            .collect::<Vec<_>>()
            .join("\n");
        if !text.trim().is_empty() {
            push(
                &mut cues,
                Cue {
                    start_ms,
                    end_ms,
                    settings,
                    text,
                },
                start_line,
            )?;
        }
        i = block_end;
    }
    Ok(cues)
}

/// SRT text as WebVTT text: `<i> <b> <u>` kept, other tags (`<font …>`) and ASS overrides
/// (`{\an8}`) dropped, the rest escaped.
fn srt_text(line: &str) -> String {
    let line = clean_line(line);
    let mut out = String::with_capacity(line.len());
    let mut rest = line.as_str();
    while let Some(c) = rest.chars().next() {
        if c == '{'
            && rest.starts_with("{\\")
            && let Some(end) = rest.find('}')
        {
            rest = &rest[end + 1..];
            continue;
        }
        if c == '<'
            && let Some(end) = rest.find('>')
        {
            {
                let tag = rest[1..end].trim().to_ascii_lowercase();
                let name = tag.trim_start_matches('/');
                let is_tag = !tag.is_empty()
                    && name.split([' ', '=']).next().is_some_and(|n| {
                        n.chars().all(|c| c.is_ascii_alphabetic()) && !n.is_empty()
                    });
                if is_tag {
                    if matches!(tag.as_str(), "i" | "/i" | "b" | "/b" | "u" | "/u") {
                        out.push('<');
                        out.push_str(&tag);
                        out.push('>');
                    }
                    rest = &rest[end + 1..];
                    continue;
                }
            }
        }
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn srt(lines: &[&str]) -> Result<Vec<Cue>, BadFile> {
    let mut cues = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim().is_empty() {
            i += 1;
            continue;
        }
        let start_line = i + 1;
        let block_end = (i..lines.len())
            .find(|&j| lines[j].trim().is_empty())
            .unwrap_or(lines.len());
        let first = lines[i].trim();
        let timing_at = if first.contains("-->") {
            i
        } else if first.bytes().all(|b| b.is_ascii_digit()) {
            i + 1
        } else {
            return Err(bad(
                start_line,
                "not a caption file: expected a cue number or a timing such as 00:00:01,000 --> 00:00:04,000",
            ));
        };
        if timing_at >= block_end {
            return Err(bad(start_line, "a cue number without a timing"));
        }
        let (start_ms, end_ms, _) = timing(lines[timing_at].trim(), timing_at + 1, true)?;
        let text = lines[timing_at + 1..block_end]
            .iter()
            .map(|l| srt_text(l))
            .filter(|l| !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        if !text.trim().is_empty() {
            push(
                &mut cues,
                Cue {
                    start_ms,
                    end_ms,
                    settings: String::new(),
                    text,
                },
                start_line,
            )?;
        }
        i = block_end;
    }
    Ok(cues)
}

fn vtt_time(ms: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

fn write_cue(out: &mut String, id: usize, c: &Cue) {
    let _ = write!(
        out,
        "{}\n{} --> {}",
        id + 1,
        vtt_time(c.start_ms),
        vtt_time(c.end_ms)
    );
    if !c.settings.is_empty() {
        out.push(' ');
        out.push_str(&c.settings);
    }
    out.push('\n');
    out.push_str(&c.text);
    out.push_str("\n\n");
}

impl Captions {
    /// When the last cue ends.
    pub fn end_ms(&self) -> u64 {
        self.cues.iter().map(|c| c.end_ms).max().unwrap_or(0)
    }

    /// The whole file as WebVTT, cues numbered from 1 in their order.
    pub fn to_vtt(&self) -> String {
        let mut out = String::from("WEBVTT\n\n");
        for (i, c) in self.cues.iter().enumerate() {
            write_cue(&mut out, i, c);
        }
        out
    }

    /// The segments of a subtitle rendition `segment_secs` long covering `total_ms` (or the
    /// cues, if longer): each holds every cue that shows during it, with its absolute times
    /// and its id, so a player that reads two segments shows a cue crossing them once. Cue
    /// time 0 is the start of the media (no X-TIMESTAMP-MAP: fMP4 media starts at 0).
    pub fn segments(&self, segment_secs: u32, total_ms: u64) -> Vec<String> {
        let len = u64::from(segment_secs.max(1)) * 1000;
        let total = total_ms.max(self.end_ms()).max(1);
        let count = total.div_ceil(len);
        (0..count)
            .map(|k| {
                let (from, to) = (k * len, (k + 1) * len);
                let mut out = String::from("WEBVTT\n\n");
                for (i, c) in self.cues.iter().enumerate() {
                    if c.start_ms < to && c.end_ms > from {
                        write_cue(&mut out, i, c);
                    }
                }
                out
            })
            .collect()
    }

    /// The words of every cue, markup removed, for the search.
    pub fn plain_text(&self) -> String {
        let mut out = String::new();
        for c in &self.cues {
            let mut in_tag = false;
            for ch in c.text.chars() {
                match ch {
                    '<' => in_tag = true,
                    '>' if in_tag => in_tag = false,
                    '\n' if !in_tag => out.push(' '),
                    ch if !in_tag => out.push(ch),
                    _ => {}
                }
            }
            out.push(' ');
            if out.len() >= MAX_SEARCH_CHARS * 4 {
                break;
            }
        }
        let out = out
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&");
        out.chars().take(MAX_SEARCH_CHARS).collect()
    }
}

/// A language tag for captions: `en`, `pt-BR`, `zh-Hant`, `sr-Latn-RS` (BCP 47 language,
/// optional script and region); lower-cased for comparison.
pub fn language_key(tag: &str) -> Option<String> {
    let parts: Vec<&str> = tag.split('-').collect();
    let lang_ok = parts
        .first()
        .is_some_and(|p| (2..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphabetic()));
    let rest_ok = parts.len() <= 3
        && parts[1..]
            .iter()
            .all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    (lang_ok && rest_ok).then(|| tag.to_ascii_lowercase())
}

/// The name of a language in itself, for the captions menu when the owner gives none.
pub fn language_name(key: &str) -> Option<&'static str> {
    let base = key.split('-').next().unwrap_or(key);
    Some(match base {
        "ar" => "العربية",
        "az" => "Azərbaycan",
        "be" => "Беларуская",
        "de" => "Deutsch",
        "en" => "English",
        "es" => "Español",
        "fa" => "فارسی",
        "fr" => "Français",
        "he" => "עברית",
        "hi" => "हिन्दी",
        "hy" => "Հայերեն",
        "it" => "Italiano",
        "ja" => "日本語",
        "ka" => "ქართული",
        "kk" => "Қазақ тілі",
        "ko" => "한국어",
        "ky" => "Кыргызча",
        "pl" => "Polski",
        "pt" => "Português",
        "ru" => "Русский",
        "tg" => "Тоҷикӣ",
        "tr" => "Türkçe",
        "tt" => "Татарча",
        "uk" => "Українська",
        "ur" => "اردو",
        "uz" => "Oʻzbek",
        "zh" => "中文",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn webvtt_with_ids_settings_notes_and_styles() {
        let f = "\u{feff}WEBVTT - a film\r\nKind: captions\r\n\r\nNOTE a note\r\nspanning\r\n\r\nSTYLE\r\n::cue { color: red }\r\n\r\nintro\r\n00:01.000 --> 00:04.500 align:start line:0 bogus:1 position:10%\r\n<v Анна>Привет</v>\r\nмир\r\n\r\n01:00:00.000 --> 01:00:02.000\r\nمرحبا\r\n";
        let c = parse(f.as_bytes()).unwrap();
        assert_eq!(c.format, Format::Vtt);
        assert_eq!(c.cues.len(), 2);
        assert_eq!(c.cues[0].start_ms, 1000);
        assert_eq!(c.cues[0].end_ms, 4500);
        assert_eq!(c.cues[0].settings, "align:start line:0 position:10%");
        assert_eq!(c.cues[0].text, "<v Анна>Привет</v>\nмир");
        assert_eq!(c.cues[1].start_ms, 3_600_000);
        assert_eq!(
            c.to_vtt(),
            "WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.500 align:start line:0 position:10%\n<v Анна>Привет</v>\nмир\n\n2\n01:00:00.000 --> 01:00:02.000\nمرحبا\n\n"
        );
    }

    #[test]
    fn srt_becomes_webvtt() {
        let f = "1\r\n00:00:01,000 --> 00:00:02,500 X1:10 X2:20\r\n<font color=\"#fff\">Hello</font> <i>world</i>\r\n{\\an8}a < b & c\r\n\r\n2\r\n00:00:03.000 --> 00:00:04,000\r\nВторая строка --> стрелка\r\n\r\n\r\n00:00:05,000 --> 00:00:06,000\r\nno counter\r\n";
        let c = parse(f.as_bytes()).unwrap();
        assert_eq!(c.format, Format::Srt);
        assert_eq!(c.cues.len(), 3);
        assert_eq!(c.cues[0].text, "Hello <i>world</i>\na &lt; b &amp; c");
        assert_eq!(c.cues[1].text, "Вторая строка → стрелка");
        assert_eq!(c.cues[2].start_ms, 5000);
        assert!(
            c.to_vtt()
                .starts_with("WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.500\n")
        );
        assert_eq!(
            c.plain_text().trim(),
            "Hello world a < b & c Вторая строка → стрелка no counter"
        );
    }

    #[test]
    fn broken_files_name_their_line() {
        let cases: &[(&str, usize, &str)] = &[
            ("WEBVTT\n\n00:01.000 -> 00:02.000\nx\n", 3, "a cue id alone"),
            (
                "WEBVTT\n\n00:01.000 --> 00:00.500\nx\n",
                3,
                "end after it starts",
            ),
            ("WEBVTT\n\n00:01.000 --> 00:02.00\nx\n", 3, "is not a time"),
            ("WEBVTT\n\n00:61.000 --> 00:62.000\nx\n", 3, "is not a time"),
            ("WEBVTT\n00:01.000 --> 00:02.000\nx\n", 2, "blank line"),
            ("WEBVTTX\n\n", 0, "expected a cue number"),
            (
                "1\n00:00:01,000 --> 00:00:02,000\nok\n\n2\n00:00:03,000 --> \nbroken\n",
                6,
                "is not a time",
            ),
            (
                "1\n00:00:01,000 --> 00:00:02,000\nok\n\nhello there\n",
                5,
                "expected a cue number",
            ),
            ("2\n\n", 1, "without a timing"),
            ("WEBVTT\n\n", 0, "no cues"),
            ("", 0, "no cues"),
            ("  WEBVTT\n\n", 1, "must open the first line"),
            (
                "WEBVTT\n\n25:00:00.000 --> 25:00:01.000\nx\n",
                3,
                "after 24 hours",
            ),
        ];
        for (file, line, words) in cases {
            let e = parse(file.as_bytes()).unwrap_err();
            if *line > 0 {
                assert_eq!(e.line, *line, "{file:?}: {e}");
            }
            assert!(e.to_string().contains(words), "{file:?}: {e}");
        }
        let e = parse(b"1\n00:00:01,000 --> 00:00:02,000\n\xcf\xf0\xe8\xe2\xe5\xf2\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.reason.contains("UTF-8"));
    }

    #[test]
    fn hostile_files_stay_bounded() {
        assert!(parse(&vec![b'a'; MAX_BYTES + 1]).is_err());
        let many: String = std::iter::once("WEBVTT\n\n".to_owned())
            .chain((0..MAX_CUES + 1).map(|i| {
                format!(
                    "{} --> {}\nx\n\n",
                    vtt_time(i as u64 * 10),
                    vtt_time(i as u64 * 10 + 5)
                )
            }))
            .collect();
        assert!(
            parse(many.as_bytes())
                .unwrap_err()
                .reason
                .contains("more than")
        );
        let long = format!(
            "WEBVTT\n\n00:01.000 --> 00:02.000\n{}\n",
            "я".repeat(MAX_CUE_CHARS + 1)
        );
        assert!(
            parse(long.as_bytes())
                .unwrap_err()
                .reason
                .contains("longer")
        );
        assert!(parse(b"WEBVTT\n\n00:01.000 --> 00:02.000\na\0b\n").is_err());
        let ctl = parse(b"WEBVTT\n\n00:01.000 --> 00:02.000\na\x1b[31mb\n").unwrap();
        assert_eq!(ctl.cues[0].text, "a[31mb");
    }

    #[test]
    fn segments_cover_the_video_and_repeat_crossing_cues() {
        let c = parse(b"WEBVTT\n\n00:01.000 --> 00:02.000\na\n\n00:09.000 --> 00:12.000\nb\n\n00:25.000 --> 00:26.000\nc\n").unwrap();
        let segs = c.segments(10, 35_000);
        assert_eq!(segs.len(), 4);
        assert!(segs[0].contains("\na\n") && segs[0].contains("\nb\n"));
        assert!(
            segs[1].contains("2\n00:00:09.000 --> 00:00:12.000\nb\n"),
            "{}",
            segs[1]
        );
        assert!(!segs[1].contains("\na\n"));
        assert!(segs[2].contains("\nc\n"));
        assert_eq!(segs[3], "WEBVTT\n\n");
        // Cues past the video's end still get segments.
        assert_eq!(c.segments(10, 5_000).len(), 3);
    }

    #[test]
    fn language_tags() {
        assert_eq!(language_key("pt-BR").as_deref(), Some("pt-br"));
        assert_eq!(language_key("sr-Latn-RS").as_deref(), Some("sr-latn-rs"));
        for bad in [
            "",
            "e",
            "english",
            "en_US",
            "en-",
            "ru-RU-x-y-z",
            "../x",
            "en US",
            "ру",
        ] {
            assert_eq!(language_key(bad), None, "{bad}");
        }
        assert_eq!(language_name("ru"), Some("Русский"));
        assert_eq!(language_name("ar-eg"), Some("العربية"));
        assert_eq!(language_name("xx"), None);
    }
}
