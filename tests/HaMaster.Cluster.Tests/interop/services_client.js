// A @grpc/grpc-js client of the masters' other public services: BlockMaster, ClusterAdmin and the
// standard grpc.health.v1.Health (FileSystemMaster is fs_client.js), loading the .proto files
// under protos/ and interop/grpc/health/v1/health.proto.
// Usage: node services_client.js HOST:PORT PROTO_ROOT WORKER_ADDRESS
// Prints one JSON object with what it observed (asserted by GrpcJsInteropTests).
'use strict';
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const [target, protoRoot, workerAddress] = process.argv.slice(2);
if (!target || !protoRoot || !workerAddress) {
  console.error('usage: node services_client.js HOST:PORT PROTO_ROOT WORKER_ADDRESS');
  process.exit(2);
}

const options = { includeDirs: [protoRoot, __dirname], keepCase: false, longs: String, enums: String, defaults: true };
const v1 = grpc.loadPackageDefinition(protoLoader.loadSync([
  path.join(protoRoot, 'hamaster', 'v1', 'block_master.proto'),
  path.join(protoRoot, 'hamaster', 'v1', 'cluster_admin.proto'),
], options)).hamaster.v1;
const health = grpc.loadPackageDefinition(protoLoader.loadSync(path.join(__dirname, 'grpc', 'health', 'v1', 'health.proto'), options)).grpc.health.v1;

const credentials = grpc.credentials.createInsecure();
const blocks = new v1.BlockMaster(target, credentials);
const admin = new v1.ClusterAdmin(target, credentials);
const healthClient = new health.Health(target, credentials);

function flatten(md) {
  const out = {};
  for (const [k, v] of Object.entries(md ? md.getMap() : {})) out[k] = v.toString();
  return out;
}

// One unary call with a 20 s deadline; resolves to { code, details, reply, trailers } (never rejects).
function call(client, method, request) {
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
  out.register = await call(blocks, 'registerWorker', { address: workerAddress, tiers: [{ tier: 'MEM', capacityBytes: '1024', usedBytes: '0' }] });
  const workerId = out.register.reply ? out.register.reply.workerId : '0';
  out.heartbeat = await call(blocks, 'workerHeartbeat', { workerId });
  out.workers = await call(blocks, 'getWorkerInfoList', {});
  out.block = await call(blocks, 'getBlockInfo', { blockId: '987654321' });
  out.cluster = await call(admin, 'getClusterInfo', {});
  out.health = await call(healthClient, 'check', { service: '' });
  out.healthFs = await call(healthClient, 'check', { service: 'hamaster.v1.FileSystemMaster' });
  out.healthUnknown = await call(healthClient, 'check', { service: 'no.such.Service' });
  process.stdout.write(JSON.stringify(out) + '\n');
  for (const c of [blocks, admin, healthClient]) c.close();
}

main().catch((e) => { console.error(e); process.exit(1); });
