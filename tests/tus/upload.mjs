// Uploads a file to Kadr with the official tus-js-client, stopping mid-way and resuming
// with a new Upload object, as a browser tab that was closed and reopened would.
// Usage: node upload.mjs ENDPOINT TOKEN FILE CHUNK_SIZE STOP_AT_BYTES
// Prints one JSON line: {"url": ..., "resumedFrom": <offset the server reported>}.
// With STOP_AT_BYTES = 0 it uploads in one go, riding out server failures with its retries,
// and prints {"url": ..., "retries": <requests that failed and were retried>}.
import fs from 'node:fs';
import path from 'node:path';
import * as tus from 'tus-js-client';

const [endpoint, token, file, chunkArg, stopArg] = process.argv.slice(2);
const chunkSize = Number(chunkArg);
const stopAt = Number(stopArg);
const size = fs.statSync(file).size;
const headers = { Authorization: `Bearer ${token}` };

function run(options) {
  return new Promise((resolve, reject) => {
    const upload = new tus.Upload(fs.createReadStream(file), {
      endpoint,
      headers,
      chunkSize,
      uploadSize: size,
      retryDelays: [0, 500, 1000, 2000, 3000, 5000],
      metadata: { filename: path.basename(file), title: 'tus-js-client: ' + path.basename(file), privacy: 'unlisted' },
      ...options(() => upload, resolve),
      onError: reject,
    });
    upload.start();
  });
}

if (stopAt === 0) {
  let retries = 0;
  let url = null;
  await run((self, resolve) => ({
    retryDelays: [0, 500, 1000, 1000, 2000, 2000, 3000, 3000, 5000, 5000, 5000],
    // tus-js-client's own rule (retry unless a 4xx other than 409/423), counted.
    onShouldRetry: (err) => {
      const status = err.originalResponse ? err.originalResponse.getStatus() : 0;
      const retry = status < 400 || status >= 500 || status === 409 || status === 423;
      if (retry) retries += 1;
      return retry;
    },
    onSuccess: () => {
      url = self().url;
      resolve();
    },
  }));
  console.log(JSON.stringify({ url, retries }));
  process.exit(0);
}

// First attempt: abort once at least stopAt bytes are acknowledged.
const first = await run((self, resolve) => ({
  onChunkComplete: (_chunk, accepted) => {
    if (accepted >= stopAt) {
      const upload = self();
      upload.abort().then(() => resolve({ url: upload.url, accepted }));
    }
  },
  onSuccess: () => resolve({ url: self().url, accepted: size }),
}));

// Second attempt: a new Upload that knows only the URL asks the server where to go on.
let resumedFrom = null;
await run((self, resolve) => ({
  uploadUrl: first.url,
  onAfterResponse: (req, res) => {
    if (req.getMethod() === 'HEAD' && resumedFrom === null) {
      resumedFrom = Number(res.getHeader('Upload-Offset'));
    }
  },
  onSuccess: () => resolve(),
}));

console.log(JSON.stringify({ url: first.url, resumedFrom }));
