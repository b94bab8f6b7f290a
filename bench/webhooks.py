#!/usr/bin/env python3
"""bench/webhooks.py: drives bench/webhooks.sh against a running `kadr all`.

    webhooks.py SERVER RECEIVER_SCRIPT WORK EVENTS CLIENTS DOWN_EVENTS DOWN_SECS

1. Registers a user and a webhook endpoint pointing at the Python receiver
   (tests/webhooks/receiver.py, which checks every signature), started here on a fixed port.
2. Healthy receiver: EVENTS `ping` events, created by CLIENTS concurrent API calls
   (`POST /api/v1/webhooks/{id}/ping`, each one event written with its delivery and job in
   one transaction). The delay of each event is the receiver's clock at receipt minus the
   event's `created_at` (the transaction that wrote it): p50, p99 and max, and whether every
   event id arrived.
3. Receiver down: stopped, DOWN_EVENTS events created, DOWN_SECS waited (the first attempts
   fail, then the retries with backoff), the receiver started again on the same port; then
   the time until every event id has arrived (at least once) is measured.
Prints the figures and writes WORK/result.json.
"""

import datetime
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse


def api(server, method, path, body=None, token=None):
    u = urllib.parse.urlsplit(server)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    res = conn.getresponse()
    data = res.read()
    conn.close()
    return res.status, (json.loads(data) if data else None)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Receiver:
    def __init__(self, script, port, log):
        self.script, self.port, self.log = script, port, log
        self.proc = None

    def start(self, secret):
        self.proc = subprocess.Popen(
            [sys.executable, self.script, "--port", str(self.port), "--log", self.log,
             "--secret", secret],
            stdout=subprocess.PIPE,
        )
        line = self.proc.stdout.readline().decode().strip()
        assert line == str(self.port), f"receiver said {line!r}"

    def stop(self):
        if self.proc:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait()
            self.proc = None

    def received(self):
        out = []
        try:
            with open(self.log, encoding="utf-8") as f:
                for line in f:
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        pass
        except FileNotFoundError:
            pass
        return out


def fire(server, token, endpoint, n, clients):
    """n pings from `clients` threads on keep-alive connections; their event ids."""
    u = urllib.parse.urlsplit(server)
    ids, errors = [], []
    lock = threading.Lock()
    counter = iter(range(n))

    def worker():
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        while True:
            with lock:
                if next(counter, None) is None:
                    break
            try:
                conn.request("POST", f"/api/v1/webhooks/{endpoint}/ping",
                             headers={"Authorization": f"Bearer {token}", "Content-Length": "0"})
                res = conn.getresponse()
                body = res.read()
                if res.status != 202:
                    with lock:
                        errors.append(res.status)
                    continue
                with lock:
                    ids.append(json.loads(body)["event_id"])
            except (OSError, http.client.HTTPException) as e:
                with lock:
                    errors.append(str(e))
                conn.close()
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ids, errors, time.time() - t0


def wait_all(receiver, ids, timeout):
    want = set(ids)
    t0 = time.time()
    while time.time() - t0 < timeout:
        got = {r["event_id"] for r in receiver.received() if r.get("accepted")}
        if want <= got:
            return time.time() - t0, 0
        time.sleep(0.5)
    got = {r["event_id"] for r in receiver.received() if r.get("accepted")}
    return time.time() - t0, len(want - got)


def created(payload):
    return datetime.datetime.fromisoformat(payload["created_at"].replace("Z", "+00:00")).timestamp()


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def main():
    server, script, work = sys.argv[1], sys.argv[2], sys.argv[3]
    events, clients = int(sys.argv[4]), int(sys.argv[5])
    down_events, down_secs = int(sys.argv[6]), float(sys.argv[7])
    s, _ = api(server, "POST", "/api/v1/users",
               {"username": "bench-hooks", "email": "hooks@bench.invalid",
                "password": "correct horse battery"})
    assert s in (201, 409), s
    s, login = api(server, "POST", "/api/v1/auth/token",
                   {"username": "bench-hooks", "password": "correct horse battery"})
    assert s == 200, login
    token = login["token"]
    port = free_port()
    s, ep = api(server, "POST", "/api/v1/webhooks",
                {"url": f"http://127.0.0.1:{port}/hook", "events": ["*"]}, token)
    assert s == 201, ep
    endpoint, secret = ep["id"], ep["secret"]
    result = {"events": events, "clients": clients}

    # 1. Healthy receiver.
    rx = Receiver(script, port, os.path.join(work, "phase1.jsonl"))
    rx.start(secret)
    ids, errors, secs = fire(server, token, endpoint, events, clients)
    assert not errors, errors[:10]
    took, missing = wait_all(rx, ids, 600)
    got = [r for r in rx.received() if r.get("accepted")]
    first = {}
    for r in got:
        first.setdefault(r["event_id"], r)
    delays = [r["received_at"] - created(r["payload"]) for r in first.values()]
    result["healthy"] = {
        "created_per_sec": round(len(ids) / secs, 1),
        "create_secs": round(secs, 2),
        "all_delivered_after_last_created_secs": round(took, 2),
        "missing": missing,
        "duplicates": len(got) - len(first),
        "delay_p50_ms": round(statistics.median(delays) * 1000, 1),
        "delay_p99_ms": round(pct(delays, 99) * 1000, 1),
        "delay_max_ms": round(max(delays) * 1000, 1),
    }
    h = result["healthy"]
    print(f"healthy: {len(ids)} events created in {secs:.1f} s ({h['created_per_sec']}/s, "
          f"{clients} clients); every one delivered {took:.1f} s after the last was created; "
          f"missing {missing}, duplicates {h['duplicates']}", flush=True)
    print(f"healthy: delay from event to receipt p50 {h['delay_p50_ms']} ms, "
          f"p99 {h['delay_p99_ms']} ms, max {h['delay_max_ms']} ms", flush=True)
    rx.stop()

    # 2. Receiver down for DOWN_SECS.
    if down_events > 0:
        rx = Receiver(script, port, os.path.join(work, "phase2.jsonl"))
        ids, errors, secs = fire(server, token, endpoint, down_events, clients)
        assert not errors, errors[:10]
        print(f"down: {len(ids)} events created with the receiver stopped; waiting {down_secs:.0f} s",
              flush=True)
        time.sleep(down_secs)
        rx.start(secret)
        took, missing = wait_all(rx, ids, 3600 * 2)
        got = [r for r in rx.received() if r.get("accepted")]
        have = {r["event_id"] for r in got}
        s, page = api(server, "GET", f"/api/v1/webhooks/{endpoint}/deliveries?limit=100", token=token)
        attempts = [d["attempts"] for d in page["items"]] if s == 200 else []
        result["down"] = {
            "events": len(ids),
            "down_secs": down_secs,
            "all_delivered_after_restart_secs": round(took, 1),
            "delivered": len(set(ids) & have),
            "missing": missing,
            "duplicates": len(got) - len(have),
            "attempts_of_newest_100": sorted(set(attempts)),
        }
        d = result["down"]
        print(f"down: receiver started again after {down_secs:.0f} s; every event id arrived "
              f"{took:.1f} s later ({d['delivered']}/{len(ids)}, missing {missing}, "
              f"duplicates {d['duplicates']}; attempts per delivery {d['attempts_of_newest_100']})",
              flush=True)
        rx.stop()
    with open(os.path.join(work, "result.json"), "w") as f:
        json.dump(result, f, indent=2)
    ok = result["healthy"]["missing"] == 0 and result.get("down", {}).get("missing", 0) == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
