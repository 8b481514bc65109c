/**
 * The S3 store against a real object store (a local Swift with the S3 API, test/lib/object-store.ts): the shared
 * conformance suite, then what only S3 has — multipart uploads (parts in flight together, byte-exact, a failed one
 * leaving neither object nor upload), batched deletes past 1000 keys, unfinished uploads removed, and the messages
 * for bad URLs, a missing bucket, wrong credentials and an unreachable endpoint.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CreateMultipartUploadCommand, HeadObjectCommand, ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { SlabchunkError } from '../../../src/core/errors.ts';
import { isS3Url, parseS3Url, S3Store } from '../../../src/zarr/stores/s3.ts';
import { s3Client } from '../../../src/zarr/stores/s3-client.ts';
import { objectStore, type ObjectStore } from '../../lib/object-store.ts';
import { conformance } from './conformance.ts';

const MiB = 1 << 20;

/** One bucket for the conformance cases, each under a prefix of its own. */
let shared: Promise<string> | undefined;
let cases = 0;

// Swift's s3api answers conditional PUTs with 501: create is check-then-put there, not atomic.
conformance('S3Store', async () => {
  const s3 = await objectStore();
  if (!s3) return null;
  shared ??= s3.bucket();
  return { store: new S3Store(`s3://${await shared}/case-${++cases}`, { client: s3.client }), cleanup: () => undefined };
}, { atomicCreate: false });

conformance('S3Store at the bucket root', async () => {
  const s3 = await objectStore();
  if (!s3) return null;
  return { store: new S3Store(`s3://${await s3.bucket()}`, { client: s3.client }), cleanup: () => undefined };
}, { atomicCreate: false });

/** A client of the test server with `middleware` around every request (a probe or a fault). */
function clientWith(s3: ObjectStore, middleware: (command: string, next: () => Promise<unknown>) => Promise<unknown>): S3Client {
  const client = s3Client({
    endpoint: s3.endpoint,
    region: s3.env.AWS_REGION,
    credentials: { accessKeyId: s3.env.AWS_ACCESS_KEY_ID, secretAccessKey: s3.env.AWS_SECRET_ACCESS_KEY },
  });
  client.middlewareStack.add((next, context) => (args) => middleware(context.commandName ?? '', () => next(args)) as ReturnType<typeof next>, {
    step: 'initialize',
    name: 'testProbe',
  });
  return client;
}

/** Parts of unequal sizes, `total` bytes of a recognisable pattern. */
function patternParts(sizes: number[]): Uint8Array[] {
  let n = 0;
  return sizes.map((size) => Uint8Array.from({ length: size }, () => (n++ * 31 + (n >> 12)) & 0xff));
}

async function uploadsIn(client: S3Client, Bucket: string): Promise<string[]> {
  const page = await client.send(new ListMultipartUploadsCommand({ Bucket }));
  return (page.Uploads ?? []).map((u) => u.Key!);
}

test('parseS3Url / isS3Url: bucket and prefix; bad URLs say how to write one', () => {
  assert.equal(parseS3Url('s3://bucket/scans/brain.zarr'), { bucket: 'bucket', prefix: 'scans/brain.zarr' });
  assert.equal(parseS3Url('s3://bucket/scans/brain.zarr/'), { bucket: 'bucket', prefix: 'scans/brain.zarr' });
  assert.equal(parseS3Url('s3://bucket'), { bucket: 'bucket', prefix: '' });
  assert.equal(parseS3Url('s3://bucket/'), { bucket: 'bucket', prefix: '' });
  assert.ok(isS3Url('s3://b/k') && isS3Url('S3://b') && !isS3Url('/data/s3://x') && !isS3Url('brain.zarr'));
  for (const url of ['s3://', 's3:///key', 's3://b/../x', 's3://b/a//c', 's3://b/./c', 's3://my bucket/x', 's3://b?x/y', 'https://b/k', 'brain.zarr']) {
    let error: SlabchunkError | undefined;
    try {
      parseS3Url(url);
    } catch (e) {
      error = e as SlabchunkError;
    }
    assert.is(error?.code, 'EINVALID', url);
    assert.ok(error!.message.includes(JSON.stringify(url)) && error!.message.includes('s3://BUCKET/PREFIX'), error!.message);
  }
  assert.throws(() => new S3Store('s3://b/p', { partSize: MiB, client: {} as S3Client }), /5 MiB/);
});

test('S3Store: a value of parts above the part size is one multipart upload, parts in flight together, byte-exact', async () => {
  const s3 = await objectStore();
  if (!s3) return;
  const bucket = await s3.bucket();
  let inFlight = 0;
  let most = 0;
  let uploaded = 0;
  const client = clientWith(s3, async (command, next) => {
    if (command !== 'UploadPartCommand') return next();
    uploaded++;
    most = Math.max(most, ++inFlight);
    try {
      return await next();
    } finally {
      inFlight--;
    }
  });
  const store = new S3Store(`s3://${bucket}/big.zarr`, { client, partSize: 5 * MiB, multipartThreshold: 5 * MiB, queueSize: 3 });
  // 16.5 MiB in parts that straddle the 5 MiB part boundaries: parts of 5, 5, 5 and 1.5 MiB.
  const parts = patternParts([3 * MiB, 1, 4 * MiB, 0, 7 * MiB - 1, 2 * MiB + MiB / 2]);
  const whole = Buffer.concat(parts);
  await store.set('c/0/0/0', parts);
  assert.is(uploaded, 4);
  assert.ok(most >= 2, `at most ${most} part in flight`);
  const head = await s3.client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big.zarr/c/0/0/0' }));
  assert.is(head.ContentLength, whole.length);
  assert.match(head.ETag!, /-4"?$/, 'the ETag of a 4-part upload');
  assert.ok(Buffer.from((await store.get('c/0/0/0'))!).equals(whole), 'read back byte for byte');
  const tail = await store.getRange('c/0/0/0', { offset: 15 * MiB - 10, length: 20 });
  assert.ok(Buffer.from(tail!).equals(whole.subarray(15 * MiB - 10, 15 * MiB + 10)), 'a range across a part boundary');
  // At the part size exactly: one PutObject.
  uploaded = 0;
  await store.set('c/0/0/1', patternParts([5 * MiB]));
  assert.is(uploaded, 0);
  assert.is((await s3.client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big.zarr/c/0/0/1' }))).ContentLength, 5 * MiB);
  assert.equal(await uploadsIn(s3.client, bucket), []);
});

test('S3Store: a multipart upload that fails leaves the old value, no new object and no unfinished upload', async () => {
  const s3 = await objectStore();
  if (!s3) return;
  const bucket = await s3.bucket();
  let parts = 0;
  const client = clientWith(s3, (command, next) => {
    if (command === 'UploadPartCommand' && ++parts === 2) return Promise.reject(Object.assign(new Error('injected failure of part 2'), { name: 'InjectedError' }));
    return next();
  });
  const store = new S3Store(`s3://${bucket}/s.zarr`, { client, partSize: 5 * MiB, multipartThreshold: 5 * MiB, queueSize: 2 });
  await store.set('c/0', Buffer.from('old'));
  const error = await store.set('c/0', patternParts([12 * MiB])).then(() => null, (e: SlabchunkError) => e);
  assert.is(error?.code, 'EWRITE');
  assert.ok(error!.message.includes('c/0') && error!.message.includes('injected failure of part 2'), error!.message);
  assert.is(Buffer.from((await store.get('c/0'))!).toString(), 'old');
  const fresh = await store.set('c/1', patternParts([12 * MiB])).then(() => null, (e: SlabchunkError) => e);
  assert.is(fresh, null, 'later uploads work');
  parts = 1;
  const second = await store.set('c/2', patternParts([12 * MiB])).then(() => null, (e: SlabchunkError) => e);
  assert.is(second?.code, 'EWRITE');
  assert.equal(await s3.listKeys(bucket), ['s.zarr/c/0', 's.zarr/c/1'], 'no object of the failed upload');
  assert.equal(await uploadsIn(s3.client, bucket), [], 'no unfinished upload');
});

test('S3Store: list and deleteAll of 1001 keys (two pages, two DeleteObjects batches)', async () => {
  const s3 = await objectStore();
  if (!s3) return;
  const bucket = await s3.bucket();
  const store = new S3Store(`s3://${bucket}/s.zarr`, { client: s3.client });
  const names = Array.from({ length: 1001 }, (_, i) => String(i));
  for (let i = 0; i < names.length; i += 64) await Promise.all(names.slice(i, i + 64).map((n) => store.set(`c/${n}`, Uint8Array.of(1))));
  await store.set('zarr.json', Buffer.from('{}'));
  await store.set('c0/keep', Buffer.from('x'));
  assert.equal((await store.list('c')).sort(), [...names].sort(), 'every page of the listing');
  await store.deleteAll('c');
  assert.equal(await s3.listKeys(bucket), ['s.zarr/c0/keep', 's.zarr/zarr.json']);
});

test('S3Store: a service without batched deletes (501, as Google Cloud Storage\'s XML API answers) gets one DELETE per key', async () => {
  const s3 = await objectStore();
  if (!s3) return;
  const bucket = await s3.bucket();
  const seen: string[] = [];
  const client = clientWith(s3, (command, next) => {
    seen.push(command);
    if (command === 'DeleteObjectsCommand') {
      return Promise.reject(Object.assign(new Error('not implemented'), { name: 'NotImplemented', $metadata: { httpStatusCode: 501 } }));
    }
    return next();
  });
  const store = new S3Store(`s3://${bucket}/s.zarr`, { client });
  await Promise.all(Array.from({ length: 40 }, (_, i) => store.set(`c/${i}`, Uint8Array.of(i))));
  await store.set('zarr.json', Buffer.from('{}'));
  await store.deleteAll('c');
  await store.deleteAll('');
  assert.equal(await s3.listKeys(bucket), []);
  assert.is(seen.filter((c) => c === 'DeleteObjectsCommand').length, 1, 'the batch is tried once, then never again on this client');
  assert.is(seen.filter((c) => c === 'DeleteObjectCommand').length, 41);
});

test('S3Store: removeTemporaries aborts the unfinished uploads below its prefix only', async () => {
  const s3 = await objectStore();
  if (!s3) return;
  const bucket = await s3.bucket();
  const store = new S3Store(`s3://${bucket}/a.zarr`, { client: s3.client });
  await store.set('zarr.json', Buffer.from('{}'));
  for (const Key of ['a.zarr/c/0/0', 'a.zarr/c/0/1', 'a.zarrx/c/0', 'b.zarr/c/0']) await s3.client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key }));
  assert.is(await store.removeTemporaries(), 2);
  assert.equal((await uploadsIn(s3.client, bucket)).sort(), ['a.zarrx/c/0', 'b.zarr/c/0']);
  assert.ok(await store.has('zarr.json'));
  assert.is(await store.removeTemporaries(), 0);
});

test('S3Store: a missing bucket says to create it; wrong credentials name where they come from', async () => {
  const s3 = await objectStore();
  if (!s3) return;
  const missing = new S3Store('s3://no-such-bucket-slabchunk/x.zarr', { client: s3.client });
  for (const run of [() => missing.set('zarr.json', Uint8Array.of(1)), () => missing.list(''), () => missing.get('zarr.json')]) {
    const error = await run().then(() => null, (e: SlabchunkError) => e);
    assert.ok(error?.code === 'EWRITE' || error?.code === 'EREAD', String(error));
    assert.match(error!.message, /s3:\/\/no-such-bucket-slabchunk\/x\.zarr/);
    assert.match(error!.message, /bucket no-such-bucket-slabchunk does not exist; create it/);
  }
  const bucket = await s3.bucket();
  const wrong = s3Client({ endpoint: s3.endpoint, credentials: { accessKeyId: s3.env.AWS_ACCESS_KEY_ID, secretAccessKey: 'wrong' } });
  const refused = await new S3Store(`s3://${bucket}/x.zarr`, { client: wrong }).set('zarr.json', Uint8Array.of(1)).then(() => null, (e: SlabchunkError) => e);
  assert.is(refused?.code, 'EWRITE');
  assert.ok(refused!.message.includes('zarr.json') && refused!.message.includes('AWS_SECRET_ACCESS_KEY') && refused!.message.includes('AWS_PROFILE'), refused!.message);
});

test('S3Store: an unreachable endpoint is named', async () => {
  const store = new S3Store('s3://b/x.zarr', {
    client: s3Client({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
  });
  const error = await store.get('zarr.json').then(() => null, (e: SlabchunkError) => e);
  assert.is(error?.code, 'EREAD');
  assert.ok(error!.message.includes('cannot reach http://127.0.0.1:9') && error!.message.includes('--s3-endpoint'), error!.message);
});

test('s3Client: path-style on a custom endpoint, adaptive retries, us-east-1 when no region is configured', async () => {
  const saved = { ...process.env };
  try {
    for (const name of ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_S3']) delete process.env[name];
    process.env.AWS_CONFIG_FILE = '/nonexistent/config';
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/credentials';
    const plain = s3Client();
    assert.is(await plain.config.region(), 'us-east-1');
    assert.is(plain.config.forcePathStyle, false);
    assert.is(await plain.config.retryStrategy().then((s) => (s as { mode?: string }).mode), 'adaptive');
    process.env.AWS_REGION = 'eu-west-2';
    assert.is(await s3Client().config.region(), 'eu-west-2');
    assert.is(s3Client({ endpoint: 'http://127.0.0.1:9000' }).config.forcePathStyle, true);
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9000';
    assert.is(s3Client().config.forcePathStyle, true, 'an endpoint from the environment');
  } finally {
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  }
});

test.run();
