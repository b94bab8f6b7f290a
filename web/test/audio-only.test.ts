// The player's "Audio only": how it finds the audio-only rendition that hls.js leaves out of a
// master with video (in hls.js's parsed variants, or in a master it reads itself), and where
// the quality menu offers it.
import { describe, expect, it } from "vitest";
import { AUDIO_ONLY, audioOnlyInMaster, audioOnlyVariant, qualityOptions } from "../src/quality";

describe("audio-only rendition", () => {
  const master = [
    "#EXTM3U",
    "#EXT-X-VERSION:7",
    '#EXT-X-STREAM-INF:BANDWIDTH=2606072,AVERAGE-BANDWIDTH=1799681,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=25.000',
    "720p/index.m3u8?token=t1",
    '#EXT-X-STREAM-INF:BANDWIDTH=139461,AVERAGE-BANDWIDTH=134370,CODECS="mp4a.40.2"',
    "audio/index.m3u8?token=t1",
    "",
  ].join("\n");

  it("is the variant with sound and no picture, resolved against the master", () => {
    expect(audioOnlyInMaster(master, "http://h/media/v/hls/master.m3u8?token=t1")).toBe("http://h/media/v/hls/audio/index.m3u8?token=t1");
  });

  it("is not found in a master without one", () => {
    const videoOnly = master.split("\n").slice(0, 4).join("\n");
    expect(audioOnlyInMaster(videoOnly, "http://h/m.m3u8")).toBeNull();
    // A variant with a picture but no RESOLUTION is not sound alone.
    expect(audioOnlyInMaster('#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS="avc1.64001f,mp4a.40.2"\nv.m3u8\n', "http://h/m.m3u8")).toBeNull();
  });

  it("is found among the variants hls.js parsed", () => {
    expect(
      audioOnlyVariant([
        { url: "http://h/720p.m3u8", audioCodec: "mp4a.40.2", videoCodec: "avc1.64001f", width: 1280, height: 720 },
        { url: "http://h/audio.m3u8", audioCodec: "mp4a.40.2" },
      ]),
    ).toBe("http://h/audio.m3u8");
    expect(audioOnlyVariant([{ url: "http://h/720p.m3u8", audioCodec: "mp4a.40.2", videoCodec: "avc1.64001f", width: 1280, height: 720 }])).toBeNull();
  });

  it("comes last in the quality menu when offered", () => {
    const levels = [{ height: 720, width: 1280, bitrate: 2_000_000 }];
    expect(qualityOptions(levels, "Auto", "Audio only")).toEqual([
      { level: -1, label: "Auto" },
      { level: 0, label: "720p" },
      { level: AUDIO_ONLY, label: "Audio only" },
    ]);
    expect(qualityOptions(levels, "Auto").map((o) => o.level)).toEqual([-1, 0]);
  });
});
