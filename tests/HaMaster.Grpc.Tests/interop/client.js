// grpc-js client calling HaMaster's gRPC server. Usage: node client.js 127.0.0.1:PORT
// Runs every scenario and prints one JSON object with the observed results (asserted by the C# test).
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const definition = protoLoader.loadSync(path.join(__dirname, '..', 'Protos', 'interop.proto'), {
  keepCase: false, longs: Number, defaults: true,
});
const pkg = grpc.loadPackageDefinition(definition).hamaster.testing.v1;
const client = new pkg.InteropTest(process.argv[2], grpc.credentials.createInsecure());

function unary(method, request, options = {}) {
  return new Promise((resolve) => {
    const result = { headers: {}, trailers: {} };
    const metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(options.metadata || {})) metadata.add(k, v);
    const callOptions = options.timeoutMs ? { deadline: Date.now() + options.timeoutMs } : {};
    const call = client[method](request, metadata, callOptions, (err, reply) => {
      if (err) {
        result.code = err.code;
        result.details = err.details;
        result.trailers = err.metadata ? flatten(err.metadata) : {};
      } else {
        result.code = 0;
        result.reply = reply;
      }
      // 'status' is emitted after the callback on success; give it a turn.
      setImmediate(() => resolve(result));
    });
    call.on('metadata', (md) => { result.headers = flatten(md); });
    call.on('status', (status) => { if (status.code === 0) result.trailers = flatten(status.metadata); });
  });
}

function flatten(md) {
  const out = {};
  for (const [k, v] of Object.entries(md.getMap())) out[k] = v.toString();
  return out;
}

function serverStream(request) {
  return new Promise((resolve) => {
    const result = { values: [], trailers: {} };
    const call = client.count(request);
    call.on('data', (n) => result.values.push(Number(n.value)));
    call.on('error', (err) => { result.code = err.code; result.details = err.details; result.trailers = flatten(err.metadata); });
    call.on('status', (status) => {
      if (status.code === 0) { result.code = 0; result.trailers = flatten(status.metadata); }
      setImmediate(() => resolve(result));
    });
  });
}

function clientStream(values) {
  return new Promise((resolve) => {
    const call = client.sum((err, reply) => resolve(err ? { code: err.code, details: err.details } : { code: 0, reply }));
    for (const v of values) call.write({ value: v });
    call.end();
  });
}

function unimplemented() {
  return new Promise((resolve) => {
    client.makeUnaryRequest('/hamaster.testing.v1.InteropTest/NoSuchMethod',
      () => Buffer.alloc(0), (b) => b, {}, (err) => resolve({ code: err ? err.code : 0, details: err ? err.details : '' }));
  });
}

async function main() {
  const results = {};
  results.echo = await unary('echo', { text: 'hi from grpc-js ✓' }, { metadata: { 'x-echo': 'node-header' } });
  results.fail = await unary('fail', { code: 9, message: 'ünïcödé 100% → done' });
  results.crash = await unary('crash', {});
  results.deadline = await unary('slow', { delayMs: 20000, tag: 'node-deadline' }, { timeoutMs: 300 });
  results.count = await serverStream({ count: 5 });
  results.countFail = await serverStream({ count: 10, failAfter: 2 });
  results.sum = await clientStream([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  results.unimplemented = await unimplemented();
  const many = await Promise.all(Array.from({ length: 200 }, (_, i) => unary('echo', { text: `m${i}` })));
  results.concurrentOk = many.filter((r, i) => r.code === 0 && r.reply.text === `m${i}`).length;
  process.stdout.write(JSON.stringify(results) + '\n');
  client.close();
}

main().catch((e) => { console.error(e); process.exit(1); });
