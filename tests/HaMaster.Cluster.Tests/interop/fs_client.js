// A @grpc/grpc-js client of a real HaMaster master, using protos/hamaster/v1/filesystem.proto.
// Usage: node fs_client.js HOST:PORT PROTO_ROOT DIRECTORY
// Creates DIRECTORY with three files, lists it, stats one file, provokes ALREADY_EXISTS and
// NOT_FOUND, and prints one JSON object with what it observed (asserted by ClusterInteropTests).
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const [target, protoRoot, directory] = process.argv.slice(2);
if (!target || !protoRoot || !directory) {
  console.error('usage: node fs_client.js HOST:PORT PROTO_ROOT DIRECTORY');
  process.exit(2);
}

const definition = protoLoader.loadSync(path.join(protoRoot, 'hamaster', 'v1', 'filesystem.proto'), {
  includeDirs: [protoRoot], keepCase: false, longs: String, enums: String, defaults: true,
});
const v1 = grpc.loadPackageDefinition(definition).hamaster.v1;
const client = new v1.FileSystemMaster(target, grpc.credentials.createInsecure());

function flatten(md) {
  const out = {};
  for (const [k, v] of Object.entries(md ? md.getMap() : {})) out[k] = v.toString();
  return out;
}

// One unary call with a 20 s deadline; resolves to { code, details, reply, trailers } (never rejects).
function call(method, request) {
  return new Promise((resolve) => {
    const result = { trailers: {} };
    const c = client[method](request, new grpc.Metadata(), { deadline: Date.now() + 20000 }, (err, reply) => {
      if (err) {
        result.code = err.code;
        result.details = err.details;
        result.trailers = flatten(err.metadata);
      } else {
        result.code = 0;
        result.reply = reply;
      }
      setImmediate(() => resolve(result));
    });
    c.on('status', (status) => { if (status.code === 0) result.trailers = flatten(status.metadata); });
  });
}

async function main() {
  const out = {};
  out.mkdir = await call('createDirectory', { path: directory, recursive: true });
  out.creates = [];
  for (const name of ['alpha', 'beta', 'gamma']) {
    out.creates.push(await call('createFile', { path: `${directory}/${name}` }));
  }
  out.duplicate = await call('createFile', { path: `${directory}/beta` });
  out.list = await call('listStatus', { path: directory });
  out.stat = await call('getStatus', { path: `${directory}/gamma` });
  out.missing = await call('getStatus', { path: `${directory}/no-such-file` });
  process.stdout.write(JSON.stringify(out) + '\n');
  client.close();
}

main().catch((e) => { console.error(e); process.exit(1); });
