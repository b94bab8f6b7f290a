#!/usr/bin/env python3
"""bench/range_server: a static file server with Range and a strong ETag, for bench/import.sh.

Serves the files of one directory over HTTP/1.1 (threads, sendfile), answers `Range: bytes=N-`
with 206 (honouring `If-Range`), and appends one line per request to a log: the path, the first
byte asked for and the bytes sent, so the bench can tell a resumed download from a restarted one.

    range_server.py DIR HOST PORT LOG
"""

import http.server
import os
import socketserver
import sys
import threading

ROOT, HOST, PORT, LOG = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
LOCK = threading.Lock()


def log(line):
    with LOCK, open(LOG, "a") as f:
        f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        name = os.path.basename(self.path.split("?", 1)[0])
        path = os.path.join(ROOT, name)
        if not name or not os.path.isfile(path):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        st = os.stat(path)
        etag = '"%x-%x"' % (st.st_size, int(st.st_mtime))
        start = 0
        rng = self.headers.get("Range", "")
        if rng.startswith("bytes=") and rng.endswith("-"):
            if self.headers.get("If-Range") in (None, etag):
                start = int(rng[6:-1])
        size = st.st_size
        if start >= size and size > 0:
            self.send_response(416)
            self.send_header("Content-Range", "bytes */%d" % size)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if start:
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, size - 1, size))
        else:
            self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", etag)
        self.send_header("Content-Length", str(size - start))
        self.end_headers()
        sent = 0
        try:
            with open(path, "rb") as f:
                offset = start
                while offset < size:
                    n = os.sendfile(self.wfile.fileno(), f.fileno(), offset, min(8 << 20, size - offset))
                    if n == 0:
                        break
                    offset += n
                    sent += n
        except (BrokenPipeError, ConnectionResetError):
            pass
        log("%s %d %d" % (name, start, sent))


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


Server((HOST, PORT), Handler).serve_forever()
