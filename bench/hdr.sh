#!/usr/bin/env bash
# bench/hdr: the CPU cost of tone-mapping HDR sources in the transcode pass. The same 1080p30
# picture (made from the shared clip) is encoded three ways, all HEVC 10-bit with AAC, so the
# decode costs the same: SDR BT.709, PQ (BT.2020, HDR10 metadata) and HLG (BT.2020), the HDR
# ones with SDR's white at 203 nits as phones grade. `kadr transcode` (the worker's pipeline,
# ladder only) runs on each, in turn, BENCH_HDR_PAIRS times; prints CPU-seconds and wall time
# per run and the tone mapping's extra CPU against the SDR run of the same round.
# The SDR run still converts 10-bit to 8-bit (swscale); the HDR runs replace that with
# zscale → linear float RGB → tonemap (mobius) → zscale back to BT.709 8-bit 4:2:0.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KADR=${KADR_BIN:-$ROOT/target/release/kadr}
# kadr reads every KADR_* variable as configuration and refuses unknown ones.
unset KADR_BIN
WORK=${BENCH_DIR:-$ROOT/target/bench-hdr}
CLIP=$ROOT/../shared/media/bigbuckbunny.mp4
SECS=${BENCH_HDR_SECS:-20}
PAIRS=${BENCH_HDR_PAIRS:-3}
[ -x "$KADR" ] || { echo "bench: build first (cargo build --release)" >&2; exit 1; }
# The sources take minutes to make: kept in $WORK/src-$SECS for the next run.
SRC=$WORK/src-$SECS
mkdir -p "$SRC"

[ -f "$SRC/hlg.mp4" ] || echo "bench/hdr: making ${SECS} s of 1080p30 from the shared clip, as SDR, PQ and HLG" >&2
if [ ! -f "$SRC/base.mp4" ]; then
  ffmpeg -v error -y -stream_loop -1 -i "$CLIP" -t "$SECS" -vf scale=1920:1080,fps=30 \
    -c:v libx264 -preset fast -crf 16 -c:a aac -b:a 192k -f mp4 "$SRC/base.mp4.part"
  mv "$SRC/base.mp4.part" "$SRC/base.mp4"
fi
hevc10() { # name, filters, transfer tag, primaries/matrix tag, extra x265 params
  if [ -f "$SRC/$1.mp4" ]; then return 0; fi
  ffmpeg -v error -y -i "$SRC/base.mp4" -vf "$2,format=yuv420p10le" -c:a copy \
    -c:v libx265 -preset veryfast -crf 18 -tag:v hvc1 \
    -color_primaries "$4" -color_trc "$3" -colorspace "${4/bt2020/bt2020nc}" -color_range tv \
    -x265-params "log-level=error:colorprim=$4:transfer=$3:colormatrix=${4/bt2020/bt2020nc}$5" \
    -f mp4 "$SRC/$1.mp4.part"
  mv "$SRC/$1.mp4.part" "$SRC/$1.mp4"
}
to_hdr() { echo "zscale=tin=bt709:pin=bt709:min=bt709:rin=tv:t=$1:p=bt2020:m=bt2020nc:r=tv:npl=203"; }
hevc10 sdr "null" bt709 bt709 ""
hevc10 pq "$(to_hdr smpte2084)" smpte2084 bt2020 \
  ":hdr10=1:master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1):max-cll=1000,400"
hevc10 hlg "$(to_hdr arib-std-b67)" arib-std-b67 bt2020 ""

# Runs a command; prints "wall cpu" (seconds; cpu = user + system of the command and children).
measure() {
  python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t = time.time()
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.time() - t
if r.returncode != 0:
    sys.stderr.write(r.stderr.decode()); sys.exit(r.returncode)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{wall:.2f} {u.ru_utime + u.ru_stime:.2f}")
PY
}

printf '\nbench/hdr: %s s of 1080p30 HEVC 10-bit, 5 rungs + AAC, kadr transcode (ladder only)\n' "$SECS"
printf '  %-6s %-5s %9s %9s %14s\n' round src CPU-s "wall s" "CPU vs SDR"
for round in $(seq 1 "$PAIRS"); do
  sdr_cpu=
  for src in sdr pq hlg; do
    rm -rf "$WORK/out"
    read -r wall cpu < <(measure "$KADR" transcode --no-mp4-download --no-audio-only --no-preview \
      "$SRC/$src.mp4" "$WORK/out")
    if [ "$src" = sdr ]; then sdr_cpu=$cpu; extra=-; else
      extra=$(printf '%+.1f%%' "$(echo "($cpu - $sdr_cpu) * 100 / $sdr_cpu" | bc -l)"); fi
    printf '  %-6s %-5s %9.1f %9.1f %14s\n' "$round" "$src" "$cpu" "$wall" "$extra"
  done
done

# The conversion alone, with the CLI (decode + filter graph, one thread, nothing encoded):
# what Kadr's graph runs per picture before the cascade, SDR's bit-depth conversion against
# the tone-mapping chain on the PQ picture.
CHAIN="zscale=tin=smpte2084:pin=bt2020:min=bt2020nc:rin=tv:t=linear:p=bt2020:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=mobius:desat=0,zscale=t=bt709:m=bt709:r=tv,format=yuv420p"
printf '\nbench/hdr: the filter graph alone (ffmpeg -threads 1 -filter_threads 1 … -f null)\n'
for round in $(seq 1 "$PAIRS"); do
  read -r s_wall s_cpu < <(measure ffmpeg -v error -threads 1 -filter_threads 1 -i "$SRC/sdr.mp4" -an -vf format=yuv420p -f null -)
  read -r t_wall t_cpu < <(measure ffmpeg -v error -threads 1 -filter_threads 1 -i "$SRC/pq.mp4" -an -vf "$CHAIN" -f null -)
  printf '  round %s: SDR %.1f CPU-s, PQ tone-mapped %.1f CPU-s: %+.1f CPU-s (%.1f ms a picture)\n' \
    "$round" "$s_cpu" "$t_cpu" "$(echo "$t_cpu - $s_cpu" | bc -l)" \
    "$(echo "($t_cpu - $s_cpu) * 1000 / ($SECS * 30)" | bc -l)"
done
