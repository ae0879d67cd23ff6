#!/usr/bin/env node
// The benchmark peer for bench/tus_bench.sh: stock @tus/server with @tus/file-store, loopback only.
//
//   node bench/tus_peer_server.mjs --port 18090 --dir /tmp/x/files
//
// Serves tus 1.0 at http://127.0.0.1:PORT/files/ and stores each upload as DIR/<id> (plus
// DIR/<id>.json). Prints "listening http://127.0.0.1:PORT/files/" once ready; exits on
// SIGTERM/SIGINT. Its packages live in crates/streamvault/tests/js (run `npm ci` there first).
// Note: @tus/server 2.x has no concatenation extension, so tus-js-client's parallelUploads
// cannot be used against it.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const jsPackage = new URL('../crates/streamvault/tests/js/package.json', import.meta.url);
const require = createRequire(jsPackage);
const load = async (name) => {
  try {
    return await import(pathToFileURL(require.resolve(name)).href);
  } catch (e) {
    console.error(`error: cannot load ${name}: run \`npm ci\` in crates/streamvault/tests/js (${e.message})`);
    process.exit(1);
  }
};
const { Server } = await load('@tus/server');
const { FileStore } = await load('@tus/file-store');

let port = 18090;
let dir = null;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--port') port = Number(argv[++i]);
  else if (argv[i] === '--dir') dir = argv[++i];
  else {
    console.error(`unknown argument ${argv[i]}`);
    process.exit(2);
  }
}
if (!dir) {
  console.error('--dir is required');
  process.exit(2);
}

const server = new Server({ path: '/files', datastore: new FileStore({ directory: dir }) });
const http = server.listen({ host: '127.0.0.1', port }, () => {
  console.log(`listening http://127.0.0.1:${port}/files/`);
});
http.on('error', (e) => {
  console.error(`error: ${e.message}`);
  process.exit(1);
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    http.close();
    http.closeAllConnections?.();
    process.exit(0);
  });
}
