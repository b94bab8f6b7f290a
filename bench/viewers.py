#!/usr/bin/env python3
"""A simulated HLS audience: viewers that play Kadr videos the way hls.js does.

Each viewer, started at its place in the ramp, plays videos one after the other until the run
ends (a video that ends is followed by another, as autoplay does):

1. the master playlist from one of the api replicas (viewers alternate between the replicas
   given), then a rung's media playlist;
2. the rung's init segment (#EXT-X-MAP) and its segments in order: the first
   `--startup-segments` (3) back to back, then each segment when the play head reaches the
   start of the segment that many places before it, so requests follow the EXTINF durations
   (real time) with that much buffered ahead;
3. every media request goes to the api, which answers with a 302 to storage (a presigned URL,
   or the CDN) on the S3 backend; the redirect is followed and the bytes read to the end. On
   the local backend the api answers 200 with the bytes, read the same way;
4. every `--switch-every` (5) segments the viewer's simulated link bandwidth changes (a random
   walk within `--link-mbps`), and the rung is chosen again: the highest whose BANDWIDTH is
   at most 0.8 of the smaller of the link and the throughput measured on its downloads (an
   EWMA), so congested storage makes viewers step down. A rung is switched to at the next
   segment; its playlist and init segment are fetched on first use (hls.js keeps a VOD
   rung's details and init segment once loaded).

A segment that arrives after its play-out deadline is a stall: the play head waits for it
(the timeline moves by the delay), as a player's rebuffering does.

Printed on stdout as JSON (also to `--out`): requests by kind (master, variant, init and
segment redirects, storage fetches), errors by kind and reason (any status other than
2xx/3xx, or an exception; in-flight requests cut off by the end of the run are not counted),
p50/p90/p99 latency of playlists, of redirects and of storage fetches, bytes, stalls, startup
times, viewer-minutes, and the client's own CPU time and event-loop lag (a client near 100 %
of a core, or with a loop lag of tens of ms, measures itself, not the server).

Against running servers, without starting anything:

    API_URLS="https://api1.example.org https://api2.example.org" VIDEO_IDS="<id> <id>" \\
        bench/viewers.py --viewers 50000 --seconds 300 --ramp 120 --procs 8

The script re-runs itself with target/bench-venv/bin/python when aiohttp is missing here
(make that venv with: python3 -m venv target/bench-venv &&
target/bench-venv/bin/pip install -r bench/requirements.txt).
"""

import argparse
import asyncio
import gc
import json
import math
import os
import random
import resource
import signal
import sys
import time
from urllib.parse import urljoin, urlsplit

try:
    import aiohttp
except ImportError:
    venv_python = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "bench-venv", "bin", "python")
    venv_python = os.path.normpath(venv_python)
    if os.path.exists(venv_python) and os.path.realpath(sys.executable) != os.path.realpath(venv_python) \
            and not os.environ.get("BENCH_VIEWERS_REEXEC"):
        os.environ["BENCH_VIEWERS_REEXEC"] = "1"
        os.execv(venv_python, [venv_python] + sys.argv)
    sys.exit("viewers.py needs aiohttp: python3 -m venv target/bench-venv && "
             "target/bench-venv/bin/pip install -r bench/requirements.txt")

try:
    import uvloop
except ImportError:  # works without it, slower
    uvloop = None

# Request kinds: the api's answers (playlists, media redirects) and storage's.
KINDS = ("master", "variant", "init", "segment", "storage")
REDIRECTS = (301, 302, 303, 307, 308)


def now():
    return time.monotonic()


class Stats:
    """What one process saw; merged across processes."""

    def __init__(self):
        self.requests = {k: 0 for k in KINDS}
        self.errors = {}  # kind -> reason -> count
        self.latency = {k: [] for k in KINDS}  # seconds; storage: to the last byte
        self.bytes = 0
        self.direct = 0  # media answered 200 by the api itself (local backend)
        self.stalls = 0
        self.stall_seconds = 0.0
        self.stalled_viewers = 0
        self.startup = []  # seconds from the master request to playback start
        self.sessions = 0  # videos started
        self.finished = 0  # videos played to the end
        self.switches = 0
        self.segments = 0
        self.rungs = {}  # rung name -> segments played
        self.viewer_seconds = 0.0
        self.viewers_started = 0
        self.loop_lag = []  # seconds late of a 100 ms ticker
        self.first_errors = []  # a few messages, to tell what went wrong

    def error(self, kind, reason, detail=""):
        by = self.errors.setdefault(kind, {})
        by[reason] = by.get(reason, 0) + 1
        if len(self.first_errors) < 10:
            self.first_errors.append(f"{kind}: {reason} {detail}".strip())

    def to_dict(self):
        return dict(self.__dict__)

    def merge(self, d):
        for k in KINDS:
            self.requests[k] += d["requests"][k]
            self.latency[k].extend(d["latency"][k])
        for kind, by in d["errors"].items():
            mine = self.errors.setdefault(kind, {})
            for reason, n in by.items():
                mine[reason] = mine.get(reason, 0) + n
        for rung, n in d["rungs"].items():
            self.rungs[rung] = self.rungs.get(rung, 0) + n
        for k in ("bytes", "direct", "stalls", "stall_seconds", "stalled_viewers", "sessions", "finished",
                  "switches", "segments", "viewer_seconds", "viewers_started"):
            setattr(self, k, getattr(self, k) + d[k])
        self.startup.extend(d["startup"])
        self.loop_lag.extend(d["loop_lag"])
        self.first_errors.extend(d["first_errors"][: max(0, 10 - len(self.first_errors))])


def percentiles(values):
    if not values:
        return {"n": 0}
    s = sorted(values)

    def p(q):
        return round(s[min(len(s) - 1, max(0, math.ceil(q * len(s)) - 1))] * 1000, 2)

    return {"n": len(s), "p50": p(0.50), "p90": p(0.90), "p99": p(0.99), "max": round(s[-1] * 1000, 2)}


# --- playlists -------------------------------------------------------------------------------

def attributes(line):
    """`#TAG:A=1,B="x,y"` → {"A": "1", "B": "x,y"}."""
    out, rest = {}, line.split(":", 1)[1] if ":" in line else ""
    while rest:
        key, _, rest = rest.partition("=")
        if rest.startswith('"'):
            value, _, rest = rest[1:].partition('"')
            rest = rest[1:] if rest.startswith(",") else rest
        else:
            value, _, rest = rest.partition(",")
        out[key.strip()] = value
    return out


def parse_master(text, base):
    variants, pending = [], None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#EXT-X-STREAM-INF:"):
            pending = attributes(line)
        elif line and not line.startswith("#") and pending is not None:
            bw = int(pending.get("AVERAGE-BANDWIDTH") or pending.get("BANDWIDTH") or 0)
            name = urlsplit(line).path.rstrip("/").split("/")[-2] if "/" in line else line
            variants.append({"bandwidth": int(pending.get("BANDWIDTH", bw)), "name": name, "url": urljoin(base, line)})
            pending = None
    variants.sort(key=lambda v: v["bandwidth"])
    return variants


def parse_media(text, base):
    init, segments, duration = None, [], None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#EXT-X-MAP:"):
            init = urljoin(base, attributes(line)["URI"])
        elif line.startswith("#EXTINF:"):
            duration = float(line[8:].split(",")[0])
        elif line and not line.startswith("#") and duration is not None:
            segments.append((duration, urljoin(base, line)))
            duration = None
    return init, segments


# --- the client ------------------------------------------------------------------------------

class Client:
    def __init__(self, args, stats, t0):
        self.args = args
        self.stats = stats
        self.t0 = t0
        self.end = t0 + args.seconds
        self.timeout = aiohttp.ClientTimeout(total=args.timeout, sock_connect=10)
        self.api_sessions = []
        self.storage_session = None

    def session(self, **kw):
        # Idle connections are dropped before the server's keep-alive (kadr: 15 s) can close
        # them under a request; unlimited pool (limit=0): one connection per request in flight.
        conn = aiohttp.TCPConnector(limit=0, keepalive_timeout=self.args.keepalive, ttl_dns_cache=300,
                                    enable_cleanup_closed=True)
        return aiohttp.ClientSession(connector=conn, timeout=self.timeout, auto_decompress=False,
                                     headers={"User-Agent": "kadr-bench-viewers/1"}, **kw)

    async def open(self):
        if self.args.pool == "shared":
            self.api_sessions = [self.session() for _ in self.args.api]
            self.storage_session = self.session()

    async def close(self):
        for s in self.api_sessions + ([self.storage_session] if self.storage_session else []):
            await s.close()

    async def text(self, session, url, kind):
        """A playlist from the api: its text, or None (error recorded)."""
        st = self.stats
        t = now()
        try:
            async with session.get(url, allow_redirects=False) as r:
                body = await r.read()
                elapsed = now() - t
                if r.status >= 400 or r.status < 200:
                    st.error(kind, f"http {r.status}", url)
                    return None
                st.requests[kind] += 1
                st.latency[kind].append(elapsed)
                if r.status in REDIRECTS:  # playlists are served by the api; follow one anyway
                    return await self.storage(r.headers["Location"], url, "storage", want_text=True,
                                              session=session)
                return body.decode("utf-8", "replace")
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001 - every failure is counted
            st.error(kind, type(e).__name__, str(e)[:200])
            return None

    async def media(self, session, storage_session, url, kind):
        """An init or media segment through the api: (bytes, seconds to fetch them) or None."""
        st = self.stats
        t = now()
        try:
            async with session.get(url, allow_redirects=False) as r:
                if r.status in REDIRECTS:
                    await r.read()
                    st.requests[kind] += 1
                    st.latency[kind].append(now() - t)
                    if self.args.skip_storage:
                        return 0, now() - t
                    n = await self.storage(r.headers["Location"], url, "storage", session=storage_session)
                    return None if n is None else (n, now() - t)
                if 200 <= r.status < 300:  # the local backend answers with the bytes
                    n = 0
                    async for chunk in r.content.iter_any():
                        n += len(chunk)
                    st.requests[kind] += 1
                    st.latency[kind].append(now() - t)
                    st.bytes += n
                    st.direct += 1
                    return n, now() - t
                await r.read()
                st.error(kind, f"http {r.status}", url)
                return None
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001
            st.error(kind, type(e).__name__, str(e)[:200])
            return None

    async def storage(self, location, base, kind, want_text=False, session=None):
        st = self.stats
        url = urljoin(base, location)
        t = now()
        try:
            async with (session or self.storage_session).get(url, allow_redirects=False) as r:
                n, parts = 0, []
                async for chunk in r.content.iter_any():
                    n += len(chunk)
                    if want_text:
                        parts.append(chunk)
                if not 200 <= r.status < 300:
                    st.error("storage", f"http {r.status}", url.split("?")[0])
                    return None
                st.requests["storage"] += 1
                st.latency["storage"].append(now() - t)
                st.bytes += n
                return b"".join(parts).decode("utf-8", "replace") if want_text else n
        except asyncio.CancelledError:
            raise
        except Exception as e:  # noqa: BLE001
            st.error("storage", type(e).__name__, str(e)[:200])
            return None

    # One viewer: videos one after the other until the end of the run.
    async def viewer(self, idx):
        a = self.args
        st = self.stats
        start_at = self.t0 + (a.ramp * idx / a.viewers if a.viewers > 1 else 0)
        await asyncio.sleep(max(0.0, start_at - now()))
        if now() >= self.end:
            return
        started = now()
        st.viewers_started += 1
        rng = random.Random(a.seed * 1_000_003 + idx)
        replica = idx % len(a.api)
        own = []
        if a.pool == "viewer":  # one pool per viewer, as separate browsers have
            api_session, storage_session = self.session(), self.session()
            own = [api_session, storage_session]
        else:
            api_session, storage_session = self.api_sessions[replica], self.storage_session
        lo, hi = (x * 1e6 for x in a.link_mbps)
        link = math.exp(rng.uniform(math.log(lo), math.log(hi)))
        state = {"link": link, "est": None, "stalled": False}
        try:
            while now() < self.end:
                video = rng.choice(a.video)
                ok = await self.play(a.api[replica] + a.master_path[video], api_session, storage_session, rng, state)
                if not ok:  # a player shows its error; the viewer tries again a little later
                    await asyncio.sleep(1.0 + rng.random())
        finally:
            st.viewer_seconds += min(now(), self.end) - started
            if state["stalled"]:
                st.stalled_viewers += 1
            for s in own:
                await s.close()

    def choose(self, variants, state):
        cap = 0.8 * min(state["link"], state["est"] or state["link"])
        best = variants[0]
        for v in variants:
            if v["bandwidth"] <= cap:
                best = v
        return best

    async def play(self, master_url, api, storage, rng, state):
        a, st = self.args, self.stats
        t_start = now()
        st.sessions += 1
        text = await self.text(api, master_url, "master")
        if text is None:
            return False
        variants = parse_master(text, master_url)
        if not variants:
            st.error("master", "no variants", master_url)
            return False
        loaded = {}  # rung url -> (init url, segments), fetched on first use

        async def rung(v):
            if v["url"] not in loaded:
                body = await self.text(api, v["url"], "variant")
                if body is None:
                    return None
                init, segs = parse_media(body, v["url"])
                if not segs:
                    st.error("variant", "no segments", v["url"])
                    return None
                loaded[v["url"]] = [init, segs, False]
            entry = loaded[v["url"]]
            if entry[0] and not entry[2]:
                if await self.media(api, storage, entry[0], "init") is None:
                    return None
                entry[2] = True
            return entry

        current = self.choose(variants, state)
        entry = await rung(current)
        if entry is None:
            return False
        segs = entry[1]
        starts = [0.0]
        for d, _ in segs:
            starts.append(starts[-1] + d)
        total = starts[-1]
        back = a.startup_segments
        origin = None  # wall time at which media time 0 plays (moves on stalls)
        for i in range(len(segs)):
            if origin is not None:
                await asyncio.sleep(max(0.0, origin + starts[max(0, i - back)] - now()))
            if now() >= self.end:
                return True
            if i and i % a.switch_every == 0:
                state["link"] = min(max(state["link"] * rng.choice((0.5, 0.7, 1.0, 1.0, 1.4, 2.0)),
                                        a.link_mbps[0] * 1e6), a.link_mbps[1] * 1e6)
                nxt = self.choose(variants, state)
                if nxt["url"] != current["url"]:
                    e = await rung(nxt)
                    if e is not None:
                        current, entry, st.switches = nxt, e, st.switches + 1
            seg_url = entry[1][min(i, len(entry[1]) - 1)][1]
            got = await self.media(api, storage, seg_url, "segment")
            if got is None:
                return False
            n, secs = got
            if n > 0 and secs > 0:
                bps = n * 8 / secs
                state["est"] = bps if state["est"] is None else 0.7 * state["est"] + 0.3 * bps
            st.segments += 1
            st.rungs[current["name"]] = st.rungs.get(current["name"], 0) + 1
            arrived = now()
            if origin is None:
                if i == min(back, len(segs)) - 1:
                    origin = arrived
                    st.startup.append(arrived - t_start)
            elif arrived > origin + starts[i]:
                late = arrived - (origin + starts[i])
                st.stalls += 1
                st.stall_seconds += late
                state["stalled"] = True
                origin += late
        if origin is None:
            origin = now()
        # Watch the rest of what is buffered, then the next video.
        await asyncio.sleep(max(0.0, min(origin + total, self.end) - now()))
        st.finished += 1
        return True

    async def ticker(self):
        """The event loop's lag: how late a 100 ms sleep wakes up."""
        while now() < self.end:
            t = now()
            await asyncio.sleep(0.1)
            self.stats.loop_lag.append(max(0.0, now() - t - 0.1))

    async def progress(self):
        st, last = self.stats, 0
        while now() < self.end:
            await asyncio.sleep(10)
            total = sum(st.requests.values())
            errs = sum(sum(b.values()) for b in st.errors.values())
            share = f" (process 1 of {self.args.procs})" if self.args.procs > 1 else ""
            print(f"viewers{share}: {now() - self.t0:5.0f} s, {st.viewers_started} viewers, {(total - last) / 10:.0f} req/s, "
                  f"{errs} errors, {st.stalls} stalls", file=sys.stderr, flush=True)
            last = total


async def run_async(args, ids):
    stats = Stats()
    t0 = args.t0 or now()
    client = Client(args, stats, t0)
    await client.open()
    extra = [asyncio.ensure_future(client.ticker())]
    if args.progress:
        extra.append(asyncio.ensure_future(client.progress()))
    tasks = [asyncio.ensure_future(client.viewer(i)) for i in ids]
    await asyncio.sleep(max(0.0, client.end - now()))
    for t in tasks + extra:
        t.cancel()
    await asyncio.gather(*tasks, *extra, return_exceptions=True)
    await client.close()
    return stats


def run_process(args, ids):
    # Fewer, later collections: tens of thousands of live objects make full ones stall the loop.
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    if uvloop is not None and not args.no_uvloop:
        uvloop.install()
    return asyncio.run(run_async(args, ids))


def child(args, ids, conn, k):
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    args.progress = args.progress and k == 0  # one process tells its own share's progress
    try:
        conn.send(run_process(args, ids).to_dict())
    finally:
        conn.close()


async def resolve_master_paths(args):
    """The master playlist's path (and token, for a video that is not public) of each video,
    from the playback endpoint of the first replica: `api.media_secret` is the same on every
    replica, so the path opens on all. Falls back to /media/{id}/hls/master.m3u8."""
    paths = {}
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as s:
        for vid in args.video:
            path = f"/media/{vid}/hls/master.m3u8"
            try:
                async with s.get(f"{args.api[0]}/api/v1/videos/{vid}/playback") as r:
                    if r.status == 200:
                        hls = (await r.json())["hls"]
                        u = urlsplit(hls)
                        path = u.path + (f"?{u.query}" if u.query else "")
            except Exception as e:  # noqa: BLE001
                print(f"viewers: playback of {vid}: {e}; using {path}", file=sys.stderr)
            for api in args.api:
                async with s.get(api + path) as r:
                    if r.status != 200:
                        sys.exit(f"viewers: {api}{path} answered {r.status}: {(await r.text())[:300]}")
            paths[vid] = path
    return paths


def words(env):
    return [w for w in os.environ.get(env, "").replace(",", " ").split() if w]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--api", action="append", help="an api replica's base URL (repeat; default: $API_URLS)")
    p.add_argument("--video", action="append", help="a video id (repeat; default: $VIDEO_IDS)")
    p.add_argument("--viewers", type=int, default=500)
    p.add_argument("--seconds", type=float, default=60, help="length of the run, ramp included")
    p.add_argument("--ramp", type=float, default=None, help="viewers start evenly over this long (default: min(20, seconds/3))")
    p.add_argument("--startup-segments", type=int, default=3, help="fetched back to back before playback starts")
    p.add_argument("--switch-every", type=int, default=5, help="segments between rung decisions")
    p.add_argument("--link-mbps", type=float, nargs=2, default=(0.8, 12.0), metavar=("MIN", "MAX"),
                   help="viewers' link bandwidth, log-uniform between these")
    p.add_argument("--pool", choices=("shared", "viewer"), default="shared",
                   help="shared: one connection pool per replica (and one for storage); viewer: one per viewer")
    p.add_argument("--keepalive", type=float, default=10.0, help="idle connections kept this long (under the server's)")
    p.add_argument("--timeout", type=float, default=60.0, help="a request's whole time limit")
    p.add_argument("--skip-storage", action="store_true",
                   help="do not follow the redirects to storage: a load on the api alone")
    p.add_argument("--procs", type=int, default=1, help="client processes (viewers split between them)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--out", help="also write the JSON here")
    p.add_argument("--no-uvloop", action="store_true")
    p.add_argument("--quiet", dest="progress", action="store_false", help="no progress lines on stderr")
    args = p.parse_args()
    args.api = [u.rstrip("/") for u in (args.api or words("API_URLS"))]
    args.video = args.video or words("VIDEO_IDS")
    if not args.api or not args.video:
        p.error("give --api (or API_URLS) and --video (or VIDEO_IDS)")
    if args.ramp is None:
        args.ramp = min(20.0, args.seconds / 3)
    args.link_mbps = tuple(sorted(args.link_mbps))

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    args.master_path = asyncio.run(resolve_master_paths(args))

    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    rc0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t_wall = now()
    args.t0 = now() + 0.5
    stats = Stats()
    if args.procs <= 1:
        stats = run_process(args, range(args.viewers))
    else:
        import multiprocessing as mp
        ctx = mp.get_context("fork")
        # Stopped (SIGTERM): exit normally, so that the daemonic children are stopped too.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        procs = []
        for k in range(args.procs):
            rx, tx = ctx.Pipe(duplex=False)
            pr = ctx.Process(target=child, args=(args, range(k, args.viewers, args.procs), tx, k), daemon=True)
            pr.start()
            tx.close()
            procs.append((pr, rx))
        for k, (pr, rx) in enumerate(procs):
            try:
                stats.merge(rx.recv())
            except EOFError:
                stats.error("client", f"process {k} died")
            pr.join()
    wall = now() - t_wall
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    rc1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime
           + rc1.ru_utime + rc1.ru_stime - rc0.ru_utime - rc0.ru_stime)

    api_requests = sum(stats.requests[k] for k in ("master", "variant", "init", "segment"))
    total = api_requests + stats.requests["storage"]
    errors = sum(sum(b.values()) for b in stats.errors.values())
    lag = percentiles(stats.loop_lag)
    out = {
        "viewers": args.viewers,
        "viewers_started": stats.viewers_started,
        "seconds": args.seconds,
        "ramp": args.ramp,
        "api": args.api,
        "videos": args.video,
        "requests": dict(stats.requests),
        "requests_total": total,
        "requests_per_s": round(total / args.seconds, 1),
        "api_requests_per_s": round(api_requests / args.seconds, 1),
        "errors": stats.errors,
        "error_count": errors,
        "first_errors": stats.first_errors,
        "latency_ms": {
            "playlist": percentiles(stats.latency["master"] + stats.latency["variant"]),
            "segment_redirect": percentiles(stats.latency["segment"]),
            "redirect": percentiles(stats.latency["segment"] + stats.latency["init"]),
            "storage": percentiles(stats.latency["storage"]),
            **{k: percentiles(stats.latency[k]) for k in KINDS},
        },
        "served_directly": stats.direct,
        "bytes": stats.bytes,
        "mbit_per_s": round(stats.bytes * 8 / args.seconds / 1e6, 1),
        "stalls": stats.stalls,
        "stall_seconds": round(stats.stall_seconds, 2),
        "viewers_with_stalls": stats.stalled_viewers,
        "startup_ms": percentiles(stats.startup),
        "sessions": stats.sessions,
        "videos_finished": stats.finished,
        "switches": stats.switches,
        "segments": stats.segments,
        "segments_by_rung": dict(sorted(stats.rungs.items())),
        "viewer_seconds": round(stats.viewer_seconds, 1),
        "viewer_minutes": round(stats.viewer_seconds / 60, 2),
        "client": {
            "procs": args.procs,
            "skip_storage": args.skip_storage,
            "pool": args.pool,
            "uvloop": uvloop is not None and not args.no_uvloop,
            "wall_s": round(wall, 2),
            "cpu_s": round(cpu, 2),
            "cpu_pct_of_one_core": round(100 * cpu / wall, 1),
            "loop_lag_ms": {k: lag.get(k) for k in ("p50", "p99", "max")},
        },
    }
    text = json.dumps(out, indent=2, ensure_ascii=False)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
