//! The storage key layout, in one place. Every object belongs to one row, named by the second
//! part of its key:
//!
//! | key | what | owner |
//! |---|---|---|
//! | `originals/{video}/source` | the uploaded file, as received | `videos` |
//! | `hls/{video}/master.m3u8` | the master playlist | `videos` |
//! | `hls/{video}/{rung}/{index.m3u8, init.mp4, seg_NNNNN.m4s}` | one rung (`audio`: the audio-only rendition) | `videos` |
//! | `images/{video}/{poster.jpg, poster_small.jpg, storyboard.vtt, storyboard_N.jpg}` | pictures | `videos` |
//! | `images/{video}/{frame_N, custom_N}[_small].jpg`, `images/{video}/preview.mp4` | candidate frames, the owner's own posters, the hover preview | `videos` |
//! | `images/{video}/incoming/{id}` | a poster picture as uploaded, until the worker has made it | `videos` |
//! | `captions/{video}/{lang}/{revision}/{full.vtt, seg_NNNNN.vtt}` | one caption file, whole and in segments | `videos` |
//! | `stills/{video}/{seconds}-{width}.jpg` | a picture at a time, made when first asked for | `videos` |
//! | `downloads/{video}/{video.mp4, audio.m4a}` | the progressive MP4 and the M4A | `videos` |
//! | `uploads/{upload}/data`, `uploads/{upload}/pieces/{offset}` | bytes of an unfinished upload | `uploads` |
//! | `channels/{channel}/{avatar, avatar_small, banner, banner_small}-{stamp}.jpg` | a channel's pictures | `channels` |
//! | `channels/{channel}/incoming/{image}-{stamp}` | an uploaded picture waiting for the worker | `channels` |

use uuid::Uuid;

/// The table whose rows own the objects under a top-level prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Videos,
    Uploads,
    Channels,
}

impl Owner {
    pub fn table(self) -> &'static str {
        match self {
            Owner::Videos => "videos",
            Owner::Uploads => "uploads",
            Owner::Channels => "channels",
        }
    }
}

/// Every top-level prefix and the table owning what is under it.
pub const PREFIXES: [(&str, Owner); 8] = [
    ("originals/", Owner::Videos),
    ("hls/", Owner::Videos),
    ("images/", Owner::Videos),
    ("captions/", Owner::Videos),
    ("stills/", Owner::Videos),
    ("downloads/", Owner::Videos),
    ("uploads/", Owner::Uploads),
    ("channels/", Owner::Channels),
];

/// The id of the row owning `key`, when the key follows the layout.
pub fn owner_of(key: &str) -> Option<Uuid> {
    key.split('/').nth(1)?.parse().ok()
}

/// The uploaded original of a video.
pub fn source(video: Uuid) -> String {
    format!("originals/{video}/source")
}

/// Everything stored for a video.
pub fn video_prefixes(video: Uuid) -> [String; 6] {
    [
        originals_prefix(video),
        hls_prefix(video),
        images_prefix(video),
        captions_prefix(video),
        stills_prefix(video),
        downloads_prefix(video),
    ]
}

/// What the transcoder makes of a video (removed when a transcode fails).
pub fn derived_prefixes(video: Uuid) -> [String; 3] {
    [
        hls_prefix(video),
        images_prefix(video),
        downloads_prefix(video),
    ]
}

pub fn downloads_prefix(video: Uuid) -> String {
    format!("downloads/{video}/")
}

/// A download file of a video (`video.mp4`, `audio.m4a`).
pub fn download(video: Uuid, file: &str) -> String {
    format!("downloads/{video}/{file}")
}

pub fn originals_prefix(video: Uuid) -> String {
    format!("originals/{video}/")
}

pub fn hls_prefix(video: Uuid) -> String {
    format!("hls/{video}/")
}

pub fn images_prefix(video: Uuid) -> String {
    format!("images/{video}/")
}

/// The master playlist of a video.
pub fn master_playlist(video: Uuid) -> String {
    format!("hls/{video}/master.m3u8")
}

/// A file of one rung: its playlist (`index.m3u8`), init segment or a media segment.
pub fn rung_file(video: Uuid, rung: &str, file: &str) -> String {
    format!("hls/{video}/{rung}/{file}")
}

/// A rung's media playlist.
pub fn rung_playlist(video: Uuid, rung: &str) -> String {
    rung_file(video, rung, "index.m3u8")
}

pub fn stills_prefix(video: Uuid) -> String {
    format!("stills/{video}/")
}

/// A still picture of a video at `secs`, `width` pixels wide.
pub fn still(video: Uuid, secs: u32, width: u32) -> String {
    format!("stills/{video}/{secs}-{width}.jpg")
}

pub fn captions_prefix(video: Uuid) -> String {
    format!("captions/{video}/")
}

/// The objects of one caption file (`lang` is its lower-cased tag).
pub fn caption_revision_prefix(video: Uuid, lang: &str, revision: Uuid) -> String {
    format!("captions/{video}/{lang}/{revision}/")
}

/// A caption segment (`seg_NNNNN.vtt`) or the whole file (`full.vtt`).
pub fn caption_file(video: Uuid, lang: &str, revision: Uuid, file: &str) -> String {
    format!("captions/{video}/{lang}/{revision}/{file}")
}

/// The name of caption segment `n`.
pub fn caption_segment_name(n: usize) -> String {
    format!("seg_{n:05}.vtt")
}

/// A picture of a video.
pub fn image(video: Uuid, name: &str) -> String {
    format!("images/{video}/{name}")
}

/// A poster as its owner uploaded it, until the worker has made it (under the video's
/// pictures, so it goes with the video).
pub fn poster_incoming(video: Uuid, id: Uuid) -> String {
    format!("images/{video}/incoming/{id}")
}

/// The key of `tail` (`hls/…` or `images/…`, as in media URLs) of a video. Captions are
/// served below `hls/subs/` (the master playlist's token opens them) and stored under
/// `captions/`.
pub fn media(video: Uuid, tail: &str) -> Option<String> {
    if let Some(rest) = tail.strip_prefix("hls/subs/") {
        return Some(format!("captions/{video}/{rest}"));
    }
    let (top, rest) = tail.split_once('/')?;
    Some(format!("{top}/{video}/{rest}"))
}

/// Everything stored for an unfinished upload.
pub fn upload_prefix(upload: Uuid) -> String {
    format!("uploads/{upload}/")
}

/// The single file of an upload on the local backend.
pub fn upload_data(upload: Uuid) -> String {
    format!("uploads/{upload}/data")
}

/// A piece of an upload on S3, named by its offset (zero-padded, so listing order is offset
/// order).
pub fn upload_piece(upload: Uuid, offset: i64) -> String {
    format!("uploads/{upload}/pieces/{offset:020}")
}

/// Everything stored for a channel.
pub fn channel_prefix(channel: Uuid) -> String {
    format!("channels/{channel}/")
}

/// A channel's picture (`avatar`, `avatar_small`, `banner`, `banner_small`); `stamp` makes
/// each new picture a new object.
pub fn channel_image(channel: Uuid, image: &str, stamp: i64) -> String {
    format!("channels/{channel}/{image}-{stamp}.jpg")
}

/// An uploaded channel picture waiting for the worker.
pub fn channel_incoming(channel: Uuid, image: &str, stamp: i64) -> String {
    format!("channels/{channel}/incoming/{image}-{stamp}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_their_owner() {
        let id = Uuid::from_u128(5);
        for key in [
            source(id),
            master_playlist(id),
            rung_file(id, "720p", "seg_00001.m4s"),
            image(id, "poster.jpg"),
            download(id, "video.mp4"),
            rung_file(id, "audio", "init.mp4"),
            upload_data(id),
            upload_piece(id, 0),
            channel_image(id, "avatar", 1),
            channel_incoming(id, "banner", 2),
        ] {
            assert_eq!(owner_of(&key), Some(id), "{key}");
            assert!(
                PREFIXES.iter().any(|(p, _)| key.starts_with(p)),
                "{key} is under no known prefix"
            );
        }
        assert_eq!(owner_of("hls/not-an-id/x"), None);
        assert_eq!(media(id, "hls/master.m3u8"), Some(master_playlist(id)));
        assert!(upload_piece(id, 2) < upload_piece(id, 10));
        for p in video_prefixes(id) {
            assert!(PREFIXES.iter().any(|(top, _)| p.starts_with(top)), "{p}");
        }
        assert!(video_prefixes(id).contains(&downloads_prefix(id)));
    }
}
