// Starts s3rver (a local S3-compatible server) for the s3:// connector tests.
// Usage: node s3rver.js DATA_DIR [PARENT_PID]
// Binds 127.0.0.1 on a port the kernel picks (port 0, so no collision with other tests) and
// prints "S3RVER READY port=N" once it listens. Exits on SIGTERM/SIGINT, and by itself when
// PARENT_PID (the test process) is gone, so a crashed test run leaves no server behind.
'use strict';
const crypto = require('crypto');
const fs = require('fs');

// s3rver 3.7.1 encrypts its ListObjectsV2 continuation tokens with single DES, which the OpenSSL 3
// of current Node.js only has in its legacy provider ("digital envelope routines::unsupported": every
// truncated listing fails with InternalError). The token is opaque and only s3rver reads it back, so
// 'des' is served by AES-128-CBC here, with the 8-byte key and IV doubled to AES's 16 bytes.
for (const name of ['createCipheriv', 'createDecipheriv']) {
  const original = crypto[name];
  crypto[name] = function (algorithm, key, iv, options) {
    if (algorithm === 'des') {
      return original.call(this, 'aes-128-cbc', Buffer.concat([key, key]), Buffer.concat([iv, iv]), options);
    }
    return original.call(this, algorithm, key, iv, options);
  };
}

const S3rver = require('s3rver');
const FilesystemStore = require('s3rver/lib/stores/filesystem');

// DeleteObjects deletes its keys concurrently, and each delete then removes the directories it
// emptied; two of them racing on one directory fail with ENOENT/ENOTEMPTY after the object itself
// is gone, which s3rver turns into InternalError for the whole batch. The object is deleted by
// then, so those errors are dropped.
const deleteObject = FilesystemStore.prototype.deleteObject;
FilesystemStore.prototype.deleteObject = async function (...args) {
  try {
    return await deleteObject.apply(this, args);
  } catch (error) {
    if (error && (error.code === 'ENOENT' || error.code === 'ENOTEMPTY')) return undefined;
    throw error;
  }
};

const [directory, parentPid] = process.argv.slice(2);
if (!directory) {
  console.error('usage: node s3rver.js DATA_DIR [PARENT_PID]');
  process.exit(2);
}

// s3rver answers 500 to every request while its directory is missing.
fs.mkdirSync(directory, { recursive: true });
const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: !process.env.S3RVER_VERBOSE });
// The AWS SDK for .NET sends CopyObject's x-amz-copy-source with the bucket/key separator encoded
// ("bucket%2Fkey"), which S3 accepts but s3rver 3.7.1 splits only after decodeURI (which leaves %2F),
// answering NoSuchBucket. Decode the separators before s3rver sees the header.
const handler = server.callback.bind(server);
server.callback = () => {
  const handle = handler();
  return (req, res) => {
    const source = req.headers['x-amz-copy-source'];
    if (source) req.headers['x-amz-copy-source'] = source.replace(/%2F/gi, '/');
    return handle(req, res);
  };
};

server.run().then(
  address => console.log(`S3RVER READY port=${address.port}`),
  error => {
    console.error(`s3rver failed to start: ${error && error.stack ? error.stack : error}`);
    process.exit(1);
  },
);

const stop = () => server.close().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

if (parentPid) {
  setInterval(() => {
    try {
      process.kill(Number(parentPid), 0);
    } catch {
      stop();
    }
  }, 1000).unref();
}
