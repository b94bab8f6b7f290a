//! Signed media URLs for videos that are not public: `?token=<expiry>.<scope>.<signature>`,
//! the signature an HMAC-SHA256 over the video id, the video's media epoch, the path prefix the
//! token opens (`hls` or `images`, empty for all) and the expiry. Checked in constant time.
//!
//! The epoch (`videos.media_epoch`) is bumped by the database whenever the video's privacy or
//! moderation state changes, so every token issued before such a change stops working as soon
//! as the api sees the new epoch (its access cache, `api.media_access_cache_ms`).

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

/// The key media tokens are signed with.
#[derive(Clone)]
pub struct MediaSigner {
    /// Keyed once; cloned for each signature.
    keyed: HmacSha256,
    ttl: Duration,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    Expired,
    /// Wrong signature: tampered, another video's, or another key's.
    Invalid,
    /// Valid, but for another part of the video.
    OutOfScope,
}

impl MediaSigner {
    pub fn new(key: &[u8], ttl: Duration) -> std::io::Result<MediaSigner> {
        let keyed = HmacSha256::new_from_slice(key)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()))?;
        Ok(MediaSigner { keyed, ttl })
    }

    /// The configured key, or the one kept in `key_file` (created with a random key, readable
    /// by its owner only, when missing).
    pub fn load(
        configured: Option<&str>,
        key_file: &Path,
        ttl: Duration,
    ) -> std::io::Result<MediaSigner> {
        if let Some(k) = configured {
            return MediaSigner::new(k.as_bytes(), ttl);
        }
        match std::fs::read(key_file) {
            Ok(k) if k.len() >= 32 => return MediaSigner::new(&k, ttl),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let key: [u8; 32] = rand::random();
        if let Some(dir) = key_file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = key_file.with_extension("tmp");
        {
            use std::io::Write as _;
            use std::os::unix::fs::OpenOptionsExt as _;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(&key)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, key_file)?;
        MediaSigner::new(&key, ttl)
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn mac(&self, video: Uuid, epoch: i32, scope: &str, expires: u64) -> HmacSha256 {
        let mut mac = self.keyed.clone();
        mac.update(b"kadr-media-v2\n");
        mac.update(video.as_bytes());
        mac.update(b"\n");
        mac.update(epoch.to_string().as_bytes());
        mac.update(b"\n");
        mac.update(scope.as_bytes());
        mac.update(b"\n");
        mac.update(expires.to_string().as_bytes());
        mac
    }

    /// A token opening `scope` (`hls`, `images`, or empty for all) of `video` at its media
    /// `epoch` until the TTL has passed from `now`.
    pub fn sign_at(&self, video: Uuid, epoch: i32, scope: &str, now: SystemTime) -> (String, u64) {
        let expires = now
            .checked_add(self.ttl)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs());
        let sig = self
            .mac(video, epoch, scope, expires)
            .finalize()
            .into_bytes();
        (
            format!("{expires}.{scope}.{}", URL_SAFE_NO_PAD.encode(sig)),
            expires,
        )
    }

    pub fn sign(&self, video: Uuid, epoch: i32, scope: &str) -> (String, u64) {
        self.sign_at(video, epoch, scope, SystemTime::now())
    }

    /// Checks `token` for `path` (below `/media/{video}/`) of `video` at its current media
    /// `epoch`, at `now`.
    pub fn verify_at(
        &self,
        token: &str,
        video: Uuid,
        epoch: i32,
        path: &str,
        now: SystemTime,
    ) -> Result<(), TokenError> {
        let mut parts = token.splitn(3, '.');
        let (Some(expires), Some(scope), Some(sig)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let expires: u64 = expires.parse().map_err(|_| TokenError::Malformed)?;
        let sig = URL_SAFE_NO_PAD
            .decode(sig)
            .map_err(|_| TokenError::Malformed)?;
        if !scope.chars().all(|c| c.is_ascii_lowercase()) {
            return Err(TokenError::Malformed);
        }
        self.mac(video, epoch, scope, expires)
            .verify_slice(&sig)
            .map_err(|_| TokenError::Invalid)?;
        let now = now
            .duration_since(UNIX_EPOCH)
            .map_or(u64::MAX, |d| d.as_secs());
        if now >= expires {
            return Err(TokenError::Expired);
        }
        if !scope.is_empty() && !path.starts_with(&format!("{scope}/")) {
            return Err(TokenError::OutOfScope);
        }
        Ok(())
    }

    pub fn verify(
        &self,
        token: &str,
        video: Uuid,
        epoch: i32,
        path: &str,
    ) -> Result<(), TokenError> {
        self.verify_at(token, video, epoch, path, SystemTime::now())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify() {
        let s = MediaSigner::new(&b"k".repeat(32), Duration::from_secs(60)).unwrap();
        let v = Uuid::from_u128(7);
        let now = SystemTime::now();
        let (t, _) = s.sign_at(v, 3, "hls", now);
        assert_eq!(s.verify_at(&t, v, 3, "hls/master.m3u8", now), Ok(()));
        assert_eq!(s.verify_at(&t, v, 3, "hls/720p/seg_00001.m4s", now), Ok(()));
        assert_eq!(
            s.verify_at(&t, v, 3, "images/poster.jpg", now),
            Err(TokenError::OutOfScope)
        );
        assert_eq!(
            s.verify_at(&t, Uuid::from_u128(8), 3, "hls/master.m3u8", now),
            Err(TokenError::Invalid)
        );
        let later = now + Duration::from_secs(61);
        assert_eq!(
            s.verify_at(&t, v, 3, "hls/master.m3u8", later),
            Err(TokenError::Expired)
        );
        // Moving the expiry or the scope breaks the signature.
        let (exp, rest) = t.split_once('.').unwrap();
        let pushed = format!("{}.{rest}", exp.parse::<u64>().unwrap() + 3600);
        assert_eq!(
            s.verify_at(&pushed, v, 3, "hls/master.m3u8", now),
            Err(TokenError::Invalid)
        );
        let widened = t.replacen(".hls.", "..", 1);
        assert_eq!(
            s.verify_at(&widened, v, 3, "images/poster.jpg", now),
            Err(TokenError::Invalid)
        );
        // Another epoch (the video's privacy or moderation changed since): refused.
        assert_eq!(
            s.verify_at(&t, v, 4, "hls/master.m3u8", now),
            Err(TokenError::Invalid)
        );
        let other = MediaSigner::new(&b"x".repeat(32), Duration::from_secs(60)).unwrap();
        assert_eq!(
            other.verify_at(&t, v, 3, "hls/master.m3u8", now),
            Err(TokenError::Invalid)
        );
        assert_eq!(
            s.verify_at("nonsense", v, 3, "hls/master.m3u8", now),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn key_file_is_made_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("media.key");
        let a = MediaSigner::load(None, &path, Duration::from_secs(5)).unwrap();
        let b = MediaSigner::load(None, &path, Duration::from_secs(5)).unwrap();
        let v = Uuid::from_u128(1);
        let (t, _) = a.sign(v, 0, "");
        assert_eq!(b.verify(&t, v, 0, "hls/master.m3u8"), Ok(()));
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
