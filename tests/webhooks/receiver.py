#!/usr/bin/env python3
"""A webhook receiver for Kadr's tests and benchmark, written the way an integrator would
(standard library only): it checks `Kadr-Signature` itself and records what it accepts.

    python3 receiver.py --log events.jsonl [--port 0] [--fail-first N] [--sleep-first N --sleep SECS]

It prints the port it listens on (one line), then serves:

- `POST <path>` (any path but /_control): a webhook. The signature header
  `t=<unix seconds>,v1=<hex>[,v1=<hex>]` is checked against every secret known for that path:
  HMAC-SHA256 over `"<t>." + body`, compared in constant time; a `t` more than 300 s away from
  now is refused (replays). Unsigned, stale or forged requests get 400/401 and are logged with
  `"accepted": false`. Accepted ones are logged as one JSON line each (event id, type, delivery
  id, path, receipt time, the payload) and answered 200, unless told to fail: the first
  `--fail-first` requests get 500, the first `--sleep-first` sleep `--sleep` seconds first (past
  the sender's timeout).
- `POST /_control` with JSON: `{"secrets": {"/path": ["whsec_…", …]}, "fail": N, "sleep": N,
  "sleep_secs": S, "status": CODE}` replaces those settings (`fail`, `sleep`: the next N
  requests; `status`: answer every request with CODE from now on, 0 to stop).
- `GET /_stats`: counts.
"""

import argparse
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

REPLAY_WINDOW = 300


class State:
    def __init__(self, log_path, fail, sleep, sleep_secs):
        self.lock = threading.Lock()
        self.log = open(log_path, "a", buffering=1, encoding="utf-8")
        self.secrets = {}  # path -> [secret, ...]; "*" for every path
        self.fail = fail
        self.sleep = sleep
        self.sleep_secs = sleep_secs
        self.status = 0
        self.requests = 0
        self.accepted = 0
        self.refused = 0

    def write(self, record):
        line = json.dumps(record, separators=(",", ":"))
        with self.lock:
            self.log.write(line + "\n")


def parse_signature(header):
    """`t=…,v1=…,v1=…` -> (t, [signatures]), or None."""
    t = None
    sigs = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                t = int(value)
            except ValueError:
                return None
        elif key == "v1":
            sigs.append(value)
    if t is None or not sigs:
        return None
    return t, sigs


def verify(secrets, header, body, now):
    """Which secret signed it (its index), or why not."""
    parsed = parse_signature(header or "")
    if parsed is None:
        return None, 400, "no or malformed Kadr-Signature"
    t, sigs = parsed
    if abs(now - t) > REPLAY_WINDOW:
        return None, 400, "stale timestamp"
    signed = str(t).encode() + b"." + body
    for i, secret in enumerate(secrets):
        expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        for sig in sigs:
            if hmac.compare_digest(expected, sig):
                return i, 200, "ok"
    return None, 401, "bad signature"


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: with Nagle on, the second waits for the
        # sender's delayed ACK (40 ms a request).
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def reply(self, code, body=b""):
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def read_body(self):
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def do_GET(self):
            if self.path == "/_stats":
                with state.lock:
                    stats = {
                        "requests": state.requests,
                        "accepted": state.accepted,
                        "refused": state.refused,
                    }
                self.reply(200, json.dumps(stats).encode())
            else:
                self.reply(404)

        def do_POST(self):
            body = self.read_body()
            if self.path == "/_control":
                settings = json.loads(body or b"{}")
                with state.lock:
                    if "secrets" in settings:
                        state.secrets.update(settings["secrets"])
                    for key in ("fail", "sleep", "sleep_secs", "status"):
                        if key in settings:
                            setattr(state, key, settings[key])
                self.reply(200, b"{}")
                return
            received = time.time()
            with state.lock:
                state.requests += 1
                fail = state.fail > 0
                if fail:
                    state.fail -= 1
                sleep = state.sleep > 0
                if sleep:
                    state.sleep -= 1
                status = state.status
                secrets = list(state.secrets.get(self.path) or state.secrets.get("*") or [])
            if sleep:
                time.sleep(state.sleep_secs)
            if fail:
                self.reply(500, b'{"error":"told to fail"}')
                return
            if status:
                self.reply(status)
                return
            which, code, why = verify(
                secrets, self.headers.get("Kadr-Signature"), body, int(time.time())
            )
            event_id = self.headers.get("Kadr-Event-Id")
            record = {
                "accepted": which is not None,
                "event_id": event_id,
                "type": self.headers.get("Kadr-Event-Type"),
                "delivery_id": self.headers.get("Kadr-Delivery-Id"),
                "path": self.path,
                "received_at": received,
            }
            if which is None:
                with state.lock:
                    state.refused += 1
                record["why"] = why
                state.write(record)
                self.reply(code, json.dumps({"error": why}).encode())
                return
            try:
                payload = json.loads(body)
            except ValueError:
                self.reply(400, b'{"error":"not JSON"}')
                return
            if payload.get("id") != event_id or payload.get("type") != record["type"]:
                self.reply(400, b'{"error":"headers and body disagree"}')
                return
            record["secret"] = which
            record["payload"] = payload
            with state.lock:
                state.accepted += 1
            state.write(record)
            self.reply(200, b"{}")

    return Handler


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--log", required=True)
    p.add_argument("--secret", action="append", default=[], help="a secret for every path")
    p.add_argument("--fail-first", type=int, default=0)
    p.add_argument("--sleep-first", type=int, default=0)
    p.add_argument("--sleep", type=float, default=0.0)
    args = p.parse_args()
    state = State(args.log, args.fail_first, args.sleep_first, args.sleep)
    if args.secret:
        state.secrets["*"] = args.secret
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(state))
    server.daemon_threads = True
    server.request_queue_size = 1024
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
