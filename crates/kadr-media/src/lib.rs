//! Kadr's media work with FFmpeg's libraries (ffmpeg-next): probing inputs, planning the HLS
//! ladder, and transcoding. It knows nothing of HTTP or the database: it reads an input and
//! hands its outputs to a sink.

pub mod colour;
pub mod fmp4;
pub mod hls;
pub mod images;
pub mod input;
pub mod picture;
pub mod plan;
pub mod probe;
pub mod still;
pub mod transcode;

use ffmpeg_next as ffmpeg;

/// Why media work failed: the input's fault (never retried, shown to the uploader) or ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// The input is at fault: a stable code and words for the uploader.
    #[error("{code}: {message}")]
    Input { code: &'static str, message: String },
    /// Something on our side failed; worth retrying.
    #[error("{0}")]
    Internal(String),
    /// The work was stopped on request (shutdown); hand the job back.
    #[error("cancelled")]
    Cancelled,
}

impl MediaError {
    pub fn input(code: &'static str, message: impl Into<String>) -> MediaError {
        MediaError::Input {
            code,
            message: message.into(),
        }
    }

    /// The input's fault: fail the video, do not retry.
    pub fn is_input_fault(&self) -> bool {
        matches!(self, MediaError::Input { .. })
    }
}

/// Initialises FFmpeg once; quiet unless something is wrong.
pub fn init() -> Result<(), MediaError> {
    static INIT: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    INIT.get_or_init(|| {
        ffmpeg::init().map_err(|e| e.to_string())?;
        ffmpeg::util::log::set_level(ffmpeg::util::log::Level::Error);
        Ok(())
    })
    .clone()
    .map_err(|e| MediaError::Internal(format!("FFmpeg initialisation: {e}")))
}
