"""Uploads a file to Kadr with the official tus client for Python (tuspy), stopping mid-way
and resuming with a new uploader that knows only the upload URL. Chunks carry sha1
Upload-Checksum headers.

Usage: python upload.py ENDPOINT TOKEN FILE CHUNK_SIZE STOP_AT_BYTES
Prints one JSON line: {"url": ..., "resumedFrom": <offset the server reported>}.
"""
import json
import os
import sys

from tusclient import client

endpoint, token, path, chunk_size, stop_at = sys.argv[1:6]
chunk_size, stop_at = int(chunk_size), int(stop_at)
tus = client.TusClient(endpoint, headers={"Authorization": f"Bearer {token}"})
name = os.path.basename(path)

first = tus.uploader(
    path,
    chunk_size=chunk_size,
    metadata={"filename": name, "title": f"tuspy: {name}", "privacy": "unlisted"},
    upload_checksum=True,
)
first.upload(stop_at=stop_at)
url = first.url

second = tus.uploader(path, chunk_size=chunk_size, url=url, upload_checksum=True, retries=5, retry_delay=1)
resumed_from = second.offset
second.upload()
print(json.dumps({"url": url, "resumedFrom": resumed_from}))
