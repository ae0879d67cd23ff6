#!/usr/bin/env node
// The client's ceiling for bench/tus_bench.sh: a tus 1.0 endpoint (creation, HEAD, PATCH) that
// counts the bytes it is sent and keeps none, so the upload runs as fast as tus-js-client can
// send on this machine. No server that stores the bytes can be faster than this.
//
//   node bench/tus_null_server.mjs --port 18094
//
// Serves http://127.0.0.1:PORT/files/; prints "listening ..." once ready; exits on SIGTERM.
import * as http from 'node:http';

let port = 18094;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--port') port = Number(argv[++i]);
  else {
    console.error(`unknown argument ${argv[i]}`);
    process.exit(2);
  }
}

const uploads = new Map(); // id -> { length, offset }
let next = 0;
const tusHeaders = { 'Tus-Resumable': '1.0.0' };

const server = http.createServer((req, res) => {
  const id = req.url.startsWith('/files/') ? req.url.slice('/files/'.length) : null;
  const reply = (status, headers = {}) => {
    res.writeHead(status, { ...tusHeaders, ...headers });
    res.end();
  };
  if (req.method === 'OPTIONS') return reply(204, { 'Tus-Version': '1.0.0', 'Tus-Extension': 'creation' });
  if (req.method === 'POST' && id === '') {
    const length = Number(req.headers['upload-length']);
    if (!Number.isSafeInteger(length) || length < 0) return reply(400);
    const name = String(++next);
    uploads.set(name, { length, offset: 0 });
    req.resume();
    return req.on('end', () => reply(201, { Location: `http://127.0.0.1:${port}/files/${name}` }));
  }
  const up = id && uploads.get(id);
  if (!up) {
    req.resume();
    return reply(404);
  }
  if (req.method === 'HEAD') {
    return reply(200, { 'Upload-Offset': String(up.offset), 'Upload-Length': String(up.length), 'Cache-Control': 'no-store' });
  }
  if (req.method === 'PATCH') {
    if (Number(req.headers['upload-offset']) !== up.offset) {
      req.resume();
      return reply(409);
    }
    req.on('data', (chunk) => {
      up.offset += chunk.length;
    });
    return req.on('end', () => reply(204, { 'Upload-Offset': String(up.offset) }));
  }
  req.resume();
  reply(405);
});
server.listen(port, '127.0.0.1', () => console.log(`listening http://127.0.0.1:${port}/files/`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
