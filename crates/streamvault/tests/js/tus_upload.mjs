#!/usr/bin/env node
// Uploads one file with stock tus-js-client (Node build) and prints exactly one JSON line on
// stdout:
//   {"url": "...", "bytes": N, "resumed": bool, "offset_at_resume": N|null, "ms": N, "file_id": "..."|null}
// or, on failure, {"error": "..."} with exit status 1.
//
//   node tus_upload.mjs --endpoint http://127.0.0.1:8080/stream/v1/tus/ --file video.mp4 \
//     [--token T] [--chunk-size BYTES] [--metadata k=v]... [--interrupt-after BYTES]
//     [--store urls.json] [--parallel N] [--source stream|buffer] [--resume-delay-ms MS]
//     [--timeout-ms MS] [--verbose]
//
// --interrupt-after N: once N bytes of PATCH bodies have gone out, the upload is aborted with
//   upload.abort() (which destroys the in-flight PATCH mid-body) and a NEW tus.Upload for the same
//   file is started; it finds the stored URL with findPreviousUploads() and continues with
//   resumeFromPreviousUpload() (HEAD, then PATCH from the server's offset). The URL store is
//   --store, or a temporary file if not given. The cut is made by a thin wrapper around
//   tus.DefaultHttpStack that counts body bytes, because tus-js-client's onProgress is throttled
//   (100 ms, no trailing call): on loopback it overshoots by megabytes or never fires before the
//   upload is done. With --parallel the count is the sum over the partial uploads.
// --store PATH: a tus.FileUrlStorage. With it, even the first upload looks for a previous one
//   (so a killed run can be resumed by running the same command again); once the upload is
//   done its entries are removed from the store.
// --source stream (default): an fs.ReadStream, which tus-js-client turns into a seekable file
//   source (it re-opens the file at each chunk's offset), so memory stays flat for any size and
//   resuming works. --source buffer reads the whole file into memory first.
// --verbose: logs every request and response (method, URL, status, tus headers) to stderr.
// file_id is the `Streamvault-File-Id` header of the last response (null if absent).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable, Transform } from 'node:stream';
import * as tus from 'tus-js-client';

const TUS_HEADERS = [
  'Tus-Resumable', 'Upload-Length', 'Upload-Defer-Length', 'Upload-Offset', 'Upload-Metadata',
  'Upload-Concat', 'Content-Type', 'Content-Length', 'Location', 'Tus-Version', 'Tus-Extension',
  'Streamvault-File-Id',
];

// Passes requests to tus.DefaultHttpStack; while armed, PATCH bodies go through a counter that
// stops forwarding once `limit` bytes have passed and then calls `onLimit` (once).
class InterruptingHttpStack {
  constructor(limit, onLimit) {
    this.inner = new tus.DefaultHttpStack();
    this.limit = limit;
    this.onLimit = onLimit;
    this.armed = true;
    this.sent = 0;
  }

  createRequest(method, url) {
    const req = this.inner.createRequest(method, url);
    const send = req.send.bind(req);
    req.send = (body) => {
      if (!this.armed || method !== 'PATCH' || body == null) return send(body);
      const stack = this;
      const source = body instanceof Readable ? body : Readable.from(slices(body));
      const counter = new Transform({
        transform(chunk, _enc, done) {
          if (!stack.armed) return; // the limit was reached: hold everything until abort
          const room = stack.limit - stack.sent;
          if (chunk.length < room) {
            stack.sent += chunk.length;
            done(null, chunk);
            return;
          }
          if (room > 0) this.push(chunk.subarray(0, room));
          stack.sent = stack.limit;
          stack.armed = false;
          setImmediate(stack.onLimit);
        },
      });
      const wrapped = source.pipe(counter);
      wrapped.size = body.size; // the stack sets Content-Length from it
      return send(wrapped);
    };
    return req;
  }

  getName() {
    return 'InterruptingHttpStack';
  }
}

function* slices(buf) {
  for (let i = 0; i < buf.length; i += 65536) yield buf.subarray(i, i + 65536);
}

function fail(message) {
  process.stdout.write(`${JSON.stringify({ error: String(message) })}\n`, () => process.exit(1));
}

function parseArgs(argv) {
  const o = {
    endpoint: null, file: null, token: null, chunkSize: Number.POSITIVE_INFINITY, metadata: {},
    interruptAfter: null, store: null, parallel: 1, source: 'stream', resumeDelayMs: 0,
    timeoutMs: 600_000, verbose: false,
  };
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
      case '--metadata': {
        const v = value();
        const eq = v.indexOf('=');
        if (eq <= 0) throw new Error(`--metadata wants k=v, got ${v}`);
        o.metadata[v.slice(0, eq)] = v.slice(eq + 1);
        break;
      }
      case '--interrupt-after': o.interruptAfter = int(flag, value()); break;
      case '--store': o.store = value(); break;
      case '--parallel': o.parallel = int(flag, value()) || 1; break;
      case '--source': o.source = value(); break;
      case '--resume-delay-ms': o.resumeDelayMs = int(flag, value()); break;
      case '--timeout-ms': o.timeoutMs = int(flag, value()); break;
      case '--verbose': o.verbose = true; break;
      default: throw new Error(`unknown argument ${flag}`);
    }
  }
  if (!o.endpoint) throw new Error('--endpoint is required');
  if (!o.file) throw new Error('--file is required');
  if (!['stream', 'buffer'].includes(o.source)) throw new Error('--source is stream or buffer');
  if (!('filename' in o.metadata)) o.metadata.filename = path.basename(o.file);
  return o;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const size = fs.statSync(o.file).size;
  const buffer = o.source === 'buffer' ? fs.readFileSync(o.file) : null;
  const input = () => buffer ?? fs.createReadStream(o.file);

  let tmpStore = null;
  let storePath = o.store;
  if (storePath == null && o.interruptAfter != null) {
    tmpStore = fs.mkdtempSync(path.join(os.tmpdir(), 'tus-upload-'));
    storePath = path.join(tmpStore, 'urls.json');
  }
  const urlStorage = storePath == null ? undefined : new tus.FileUrlStorage(storePath);
  if (o.timeoutMs > 0) {
    setTimeout(() => fail(`timed out after ${o.timeoutMs} ms`), o.timeoutMs).unref();
  }

  const started = performance.now();

  // Runs one tus.Upload to success, abort (interrupt) or error. `track` records what the
  // resumed upload did: the offsets its HEADs reported and whether it had to create anew.
  function run(track, httpStack) {
    return new Promise((resolve, reject) => {
      let upload;
      if (httpStack) {
        httpStack.onLimit = () => {
          upload.abort().then(() => resolve({ interrupted: true }), reject);
        };
      }
      const options = {
        endpoint: o.endpoint,
        chunkSize: o.chunkSize,
        metadata: o.metadata,
        headers: o.token ? { Authorization: `Bearer ${o.token}` } : {},
        retryDelays: [0, 200, 500],
        parallelUploads: o.parallel,
        onBeforeRequest(req) {
          if (o.verbose) {
            const h = TUS_HEADERS.filter((n) => req.getHeader(n) != null).map((n) => `${n}: ${req.getHeader(n)}`);
            process.stderr.write(`> ${req.getMethod()} ${req.getURL()} ${h.join(' | ')}\n`);
          }
        },
        onAfterResponse(req, res) {
          if (o.verbose) {
            const h = TUS_HEADERS.filter((n) => res.getHeader(n) != null).map((n) => `${n}: ${res.getHeader(n)}`);
            process.stderr.write(`< ${res.getStatus()} ${req.getMethod()} ${req.getURL()} ${h.join(' | ')}\n`);
          }
          const method = req.getMethod();
          if (method === 'HEAD' && res.getStatus() >= 200 && res.getStatus() < 300 && !track.headOffsets.has(req.getURL())) {
            track.headOffsets.set(req.getURL(), Number.parseInt(res.getHeader('Upload-Offset'), 10));
          }
          const concat = req.getHeader('Upload-Concat');
          if (method === 'POST' && !(concat && concat.startsWith('final;'))) track.created = true;
        },
        onSuccess({ lastResponse }) {
          resolve({ upload, url: upload.url, fileId: lastResponse?.getHeader('Streamvault-File-Id') ?? null });
        },
        onError: reject,
      };
      if (urlStorage) options.urlStorage = urlStorage;
      if (httpStack) options.httpStack = httpStack;
      upload = new tus.Upload(input(), options);
      const begin = async () => {
        if (urlStorage) {
          const previous = await upload.findPreviousUploads();
          if (previous.length > 0) {
            // Newest first, as a browser client would do it.
            previous.sort((a, b) => new Date(b.creationTime) - new Date(a.creationTime));
            upload.resumeFromPreviousUpload(previous[0]);
            track.fromPrevious = true;
          }
        }
        upload.start();
      };
      begin().catch(reject);
    });
  }

  const newTrack = () => ({ headOffsets: new Map(), created: false, fromPrevious: false });
  let track = newTrack();
  const interrupter = o.interruptAfter == null ? null : new InterruptingHttpStack(o.interruptAfter, null);
  let result = await run(track, interrupter);
  if (result.interrupted) {
    if (o.resumeDelayMs > 0) await new Promise((r) => setTimeout(r, o.resumeDelayMs));
    track = newTrack();
    result = await run(track);
    if (result.interrupted) throw new Error('interrupted twice');
  }
  const ms = Math.round(performance.now() - started);
  if (urlStorage) {
    // Forget this file's finished upload (and any older ones for it), waiting for the store's
    // lock to be released; removeFingerprintOnSuccess would do it in the background, and
    // exiting under it leaves a stale lock directory that fails the next run for 10 s.
    for (const p of await result.upload.findPreviousUploads()) await urlStorage.removeUpload(p.urlStorageKey);
  }
  const resumed = track.fromPrevious && !track.created;
  const offsets = [...track.headOffsets.values()];
  const out = {
    url: result.url,
    bytes: size,
    resumed,
    offset_at_resume: resumed && offsets.length > 0 ? offsets.reduce((a, b) => a + b, 0) : null,
    ms,
    file_id: result.fileId,
  };
  if (tmpStore) fs.rmSync(tmpStore, { recursive: true, force: true });
  process.stdout.write(`${JSON.stringify(out)}\n`, () => process.exit(0));
}

main().catch((err) => fail(err?.message ?? err));
