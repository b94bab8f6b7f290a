//! Audio: decoded, resampled, encoded to AAC once and sent to every rung.

use std::sync::mpsc::SyncSender;

use ffmpeg::{Packet, codec, filter, frame};
use ffmpeg_next as ffmpeg;

use crate::MediaError;

use super::graph::{Ends, linear};
use super::{ToEncoder, internal};

/// Audio: decoded, resampled to 48 kHz stereo in frames of the encoder's size, encoded to
/// AAC once.
pub(super) struct AudioChain {
    pub(super) index: usize,
    decoder: ffmpeg::decoder::Audio,
    filter: filter::Graph,
    pub(super) encoder: ffmpeg::encoder::Audio,
    /// End of the last encoded audio, in seconds.
    pub(super) end_secs: f64,
}

impl AudioChain {
    pub(super) fn new(
        ictx: &ffmpeg::format::context::Input,
        index: usize,
        kbps: u32,
        max_pixels: u64,
    ) -> Result<AudioChain, MediaError> {
        let stream = ictx
            .stream(index)
            .ok_or_else(|| MediaError::Internal("the probed audio stream is gone".to_owned()))?;
        let in_tb = stream.time_base();
        let mut decoder = crate::input::open_decoder(stream.parameters(), max_pixels, false)?
            .audio()
            .map_err(internal("audio decoder"))?;
        decoder
            .set_parameters(stream.parameters())
            .map_err(internal("audio decoder"))?;
        let aac = ffmpeg::encoder::find(codec::Id::AAC)
            .ok_or_else(|| MediaError::Internal("no AAC encoder".to_owned()))?;
        let mut enc = codec::Context::new_with_codec(aac)
            .encoder()
            .audio()
            .map_err(internal("AAC encoder"))?;
        enc.set_rate(48_000);
        enc.set_channel_layout(ffmpeg::ChannelLayout::STEREO);
        enc.set_format(ffmpeg::format::Sample::F32(
            ffmpeg::format::sample::Type::Planar,
        ));
        enc.set_bit_rate(kbps as usize * 1000);
        enc.set_time_base((1, 48_000));
        enc.set_flags(codec::Flags::GLOBAL_HEADER);
        let encoder = enc
            .open_as(aac)
            .map_err(internal("opening the AAC encoder"))?;

        let layout = if decoder.channel_layout().is_empty() {
            ffmpeg::ChannelLayout::default(i32::from(decoder.channels()))
        } else {
            decoder.channel_layout()
        };
        let args = format!(
            "time_base={}/{}:sample_rate={}:sample_fmt={}:channel_layout=0x{:x}",
            in_tb.numerator(),
            in_tb.denominator().max(1),
            decoder.rate(),
            decoder.format().name(),
            layout.bits()
        );
        let mut graph = linear(
            Ends::AUDIO,
            &args,
            "aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo",
            "audio filter graph",
            internal("audio filter graph"),
        )?;
        if let Some(mut out) = graph.get("out") {
            out.sink().set_frame_size(encoder.frame_size());
        }
        Ok(AudioChain {
            index,
            decoder,
            filter: graph,
            encoder,
            end_secs: 0.0,
        })
    }

    pub(super) fn push(
        &mut self,
        packet: &Packet,
        encoders: &[SyncSender<ToEncoder>],
    ) -> Result<(), MediaError> {
        if self.decoder.send_packet(packet).is_err() {
            // A damaged audio packet: skip it, as players do.
            return Ok(());
        }
        self.drain_decoder(encoders)
    }

    pub(super) fn drain_decoder(
        &mut self,
        encoders: &[SyncSender<ToEncoder>],
    ) -> Result<(), MediaError> {
        let mut f = frame::Audio::empty();
        while self.decoder.receive_frame(&mut f).is_ok() {
            let ts = f.timestamp();
            f.set_pts(ts);
            if let Some(mut src) = self.filter.get("in") {
                src.source().add(&f).map_err(internal("audio filtering"))?;
            }
            self.drain_filter(encoders)?;
        }
        Ok(())
    }

    pub(super) fn drain_filter(
        &mut self,
        encoders: &[SyncSender<ToEncoder>],
    ) -> Result<(), MediaError> {
        let mut f = frame::Audio::empty();
        while self
            .filter
            .get("out")
            .is_some_and(|mut o| o.sink().frame(&mut f).is_ok())
        {
            self.encoder
                .send_frame(&f)
                .map_err(internal("AAC encoding"))?;
            self.drain_encoder(encoders)?;
        }
        Ok(())
    }

    pub(super) fn drain_encoder(
        &mut self,
        encoders: &[SyncSender<ToEncoder>],
    ) -> Result<(), MediaError> {
        let mut p = Packet::empty();
        while self.encoder.receive_packet(&mut p).is_ok() {
            if let Some(pts) = p.pts() {
                self.end_secs = self.end_secs.max((pts + p.duration()) as f64 / 48_000.0);
            }
            for tx in encoders {
                let _ = tx.send(ToEncoder::Audio(p.clone()));
            }
        }
        Ok(())
    }

    pub(super) fn finish(&mut self, encoders: &[SyncSender<ToEncoder>]) -> Result<(), MediaError> {
        let _ = self.decoder.send_eof();
        self.drain_decoder(encoders)?;
        if let Some(mut src) = self.filter.get("in") {
            let _ = src.source().flush();
        }
        self.drain_filter(encoders)?;
        let _ = self.encoder.send_eof();
        self.drain_encoder(encoders)
    }
}
