// grpc-js server implementing hamaster.testing.v1.InteropTest, called by HaMaster's GrpcChannel.
// Binds 127.0.0.1:0, prints {"port":N} on stdout, then serves until killed (or stdin closes).
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const definition = protoLoader.loadSync(path.join(__dirname, '..', 'Protos', 'interop.proto'), {
  keepCase: false, longs: Number, defaults: true,
});
const pkg = grpc.loadPackageDefinition(definition).hamaster.testing.v1;

function trailer(key, value) {
  const md = new grpc.Metadata();
  md.add(key, value);
  return md;
}

const service = {
  echo(call, callback) {
    const headers = new grpc.Metadata();
    headers.add('x-response-header', 'from-node');
    call.sendMetadata(headers);
    const echoed = call.metadata.get('x-echo');
    callback(null, { text: call.request.text, echoedHeader: echoed.length ? echoed[0].toString() : '' },
      trailer('hamaster-leader', 'node:7001'));
  },
  fail(call, callback) {
    callback({ code: call.request.code, details: call.request.message, metadata: trailer('hamaster-leader', 'node:7002') });
  },
  slow(call, callback) {
    const timer = setTimeout(() => callback(null, { text: 'slow done' }), call.request.delayMs);
    call.on('cancelled', () => clearTimeout(timer));
  },
  count(call) {
    for (let i = 1; i <= call.request.count; i++) {
      if (call.request.failAfter > 0 && i > call.request.failAfter) {
        call.emit('error', { code: grpc.status.ABORTED, details: `stopped after ${call.request.failAfter}` });
        return;
      }
      call.write({ value: i });
    }
    call.end(trailer('x-count', String(call.request.count)));
  },
  sum(call, callback) {
    let sum = 0;
    let count = 0;
    call.on('data', (n) => { sum += Number(n.value); count++; });
    call.on('end', () => callback(null, { sum, count }, trailer('x-count', String(count))));
  },
  crash(call, callback) {
    callback({ code: grpc.status.INTERNAL, details: 'node crash' });
  },
};

const server = new grpc.Server();
server.addService(pkg.InteropTest.service, service);
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) { console.error(err); process.exit(1); }
  process.stdout.write(JSON.stringify({ port }) + '\n');
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
