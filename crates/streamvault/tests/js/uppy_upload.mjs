#!/usr/bin/env node
// Uploads one file with stock Uppy (@uppy/core + @uppy/tus, which runs tus-js-client's Node
// build) and prints exactly one JSON line on stdout:
//   {"ok": true, "url": "...", "bytes": N, "file_id": "..."|null}
// or, on failure, {"error": "..."} with exit status 1.
//
//   node uppy_upload.mjs --endpoint http://127.0.0.1:8080/stream/v1/tus/ --file video.mp4 \
//     --token T [--chunk-size BYTES] [--source stream|buffer] [--timeout-ms MS]
//
// --chunk-size: bytes per PATCH (default: the whole file in one PATCH; `inf` also means that).
// --source stream (default): the file's data is an fs.ReadStream (with `size` set so Uppy knows
//   the length), which tus-js-client's Node build turns into a seekable file source. --source
//   buffer reads the whole file into a Buffer. A Blob or File (what a browser hands Uppy) does
//   NOT work under Node: tus-js-client's Node build rejects it ("source object may only be an
//   instance of Buffer or Readable in this environment").
// Uppy sends Upload-Metadata `name`, `type`, `filetype` and `filename` (= the file's basename).
// file_id is the `Streamvault-File-Id` header of the response that completed the upload, read
// from the `upload-success` event: `response.body.xhr` is tus-js-client's underlying response
// object, under Node an http.IncomingMessage (in a browser it would be the XMLHttpRequest:
// `xhr.getResponseHeader('Streamvault-File-Id')`).
import * as fs from 'node:fs';
import * as path from 'node:path';
import Uppy from '@uppy/core';
import Tus from '@uppy/tus';

function fail(message) {
  process.stdout.write(`${JSON.stringify({ error: String(message) })}\n`, () => process.exit(1));
}

function parseArgs(argv) {
  const o = { endpoint: null, file: null, token: null, chunkSize: Number.POSITIVE_INFINITY, source: 'stream', timeoutMs: 600_000 };
  const int = (name, v) => {
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${flag} needs a value`);
      return argv[++i];
    };
    switch (flag) {
      case '--endpoint': o.endpoint = value(); break;
      case '--file': o.file = value(); break;
      case '--token': o.token = value(); break;
      case '--chunk-size': {
        const v = value();
        o.chunkSize = /^inf(inity)?$/i.test(v) ? Number.POSITIVE_INFINITY : int(flag, v);
        if (o.chunkSize === 0) throw new Error('--chunk-size must be positive');
        break;
      }
      case '--source': o.source = value(); break;
      case '--timeout-ms': o.timeoutMs = int(flag, value()); break;
      default: throw new Error(`unknown argument ${flag}`);
    }
  }
  if (!o.endpoint) throw new Error('--endpoint is required');
  if (!o.file) throw new Error('--file is required');
  if (!['stream', 'buffer'].includes(o.source)) throw new Error('--source is stream or buffer');
  return o;
}

function responseHeader(response, name) {
  const raw = response?.body?.xhr;
  if (raw == null) return null;
  if (typeof raw.getResponseHeader === 'function') return raw.getResponseHeader(name) ?? null; // browser XHR
  const v = raw.headers?.[name.toLowerCase()]; // Node http.IncomingMessage
  return v == null ? null : String(v);
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.timeoutMs > 0) setTimeout(() => fail(`timed out after ${o.timeoutMs} ms`), o.timeoutMs).unref();
  const size = fs.statSync(o.file).size;
  let data;
  if (o.source === 'buffer') {
    data = fs.readFileSync(o.file);
  } else {
    data = fs.createReadStream(o.file);
    data.size = size; // Uppy takes the length from data.size; tus-js-client re-opens data.path
  }

  const uppy = new Uppy({ autoProceed: false });
  uppy.use(Tus, {
    endpoint: o.endpoint,
    headers: o.token ? { Authorization: `Bearer ${o.token}` } : {},
    chunkSize: o.chunkSize,
    retryDelays: [0, 200, 500],
  });

  let success = null;
  let uploadError = null;
  uppy.on('upload-success', (file, response) => {
    success = { url: response.uploadURL ?? null, fileId: responseHeader(response, 'Streamvault-File-Id') };
  });
  uppy.on('upload-error', (file, error, response) => {
    const status = response?.status ?? error?.originalResponse?.getStatus?.();
    uploadError = `${error?.message ?? error}${status ? ` (status ${status})` : ''}`;
  });

  uppy.addFile({ name: path.basename(o.file), type: 'application/octet-stream', data, source: 'node' });
  const result = await uppy.upload();
  if (!result || result.failed?.length > 0 || success == null) {
    const why = uploadError ?? result?.failed?.[0]?.error ?? 'upload did not succeed';
    throw new Error(why);
  }
  const out = { ok: true, url: success.url, bytes: size, file_id: success.fileId };
  process.stdout.write(`${JSON.stringify(out)}\n`, () => process.exit(0));
}

main().catch((err) => fail(err?.message ?? err));
