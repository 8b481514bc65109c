/**
 * Raw inputs in object storage (openS3Input) against a real object store: the size check before anything is read,
 * byte-exact ranged reads, a missing object or bucket, and an object replaced while it is read.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { SlabchunkError } from '../../src/core/errors.ts';
import { openS3Input } from '../../src/input/s3.ts';
import type { VolumeGeometry } from '../../src/input/types.ts';
import { objectStore } from '../lib/object-store.ts';

const MiB = 1 << 20;
/** 16-byte header, then an 8 × 4 × 6 uint16 volume: 400 bytes. */
const GEOMETRY: VolumeGeometry = { shape: [8, 4, 6], dtype: 'uint16', header: 16 };
const BYTES = Buffer.from(Uint8Array.from({ length: 400 }, (_, i) => (i * 13 + 5) & 0xff));

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of stream) pieces.push(piece as Buffer);
  return Buffer.concat(pieces);
}

async function failure(run: () => Promise<unknown>): Promise<SlabchunkError | null> {
  return run().then(() => null, (e: SlabchunkError) => e);
}

test('openS3Input: ranges of the volume read byte for byte (header skipped), whole or in part', async () => {
  const s3 = await objectStore();
  if (!s3) return;
  const bucket = await s3.bucket();
  await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'in/vol.raw', Body: BYTES }));
  const input = await openS3Input(`s3://${bucket}/in/vol.raw`, GEOMETRY, { client: s3.client });
  assert.is(input.name, `s3://${bucket}/in/vol.raw`);
  assert.is(input.seekable, true);
  assert.is(input.file, undefined);
  assert.ok((await readAll(input.read())).equals(BYTES.subarray(16)));
  assert.ok((await readAll(input.read([64, 200]))).equals(BYTES.subarray(16 + 64, 16 + 200)));
  assert.ok((await readAll(input.read([383, 384]))).equals(BYTES.subarray(399)));
  assert.equal([...(await readAll(input.read([10, 10])))], []);
});

test('openS3Input: a size that disagrees with the shape is refused before reading; a missing object or bucket is EINVALID', async () => {
  const s3 = await objectStore();
  if (!s3) return;
  const bucket = await s3.bucket();
  await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'short.raw', Body: BYTES.subarray(0, 399) }));
  const size = await failure(() => openS3Input(`s3://${bucket}/short.raw`, GEOMETRY, { client: s3.client }));
  assert.is(size?.code, 'ESIZE');
  assert.ok(size!.message.includes(`s3://${bucket}/short.raw holds 399 bytes`), size!.message);
  const missing = await failure(() => openS3Input(`s3://${bucket}/nope.raw`, GEOMETRY, { client: s3.client }));
  assert.is(missing?.code, 'EINVALID');
  assert.is(missing!.message, `cannot read input s3://${bucket}/nope.raw: no such object; check the URL`);
  const noBucket = await failure(() => openS3Input('s3://no-such-bucket-slabchunk/vol.raw', GEOMETRY, { client: s3.client }));
  assert.is(noBucket?.code, 'EINVALID');
  assert.match(noBucket!.message, /^cannot read input s3:\/\/no-such-bucket-slabchunk\/vol\.raw: bucket no-such-bucket-slabchunk does not exist; check the URL$/);
  const bare = await failure(() => openS3Input(`s3://${bucket}`, GEOMETRY, { client: s3.client }));
  assert.is(bare?.code, 'EINVALID');
});

test('openS3Input: an object replaced while the run reads it fails instead of mixing versions', async () => {
  const s3 = await objectStore();
  if (!s3) return;
  const bucket = await s3.bucket();
  await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'vol.raw', Body: BYTES }));
  const input = await openS3Input(`s3://${bucket}/vol.raw`, GEOMETRY, { client: s3.client });
  assert.ok((await readAll(input.read([0, 100]))).equals(BYTES.subarray(16, 116)));
  await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'vol.raw', Body: Buffer.alloc(400, 7) }));
  const changed = await failure(() => readAll(input.read([100, 200])));
  assert.is(changed?.code, 'EREAD');
  assert.match(changed!.message, /changed while it was read/);
});

test('openS3Input: a long range is streamed with backpressure; destroying the stream ends the request', async () => {
  const s3 = await objectStore();
  if (!s3) return;
  const bucket = await s3.bucket();
  const geometry: VolumeGeometry = { shape: [1024, 1024, 12], dtype: 'uint8', header: 0 };
  const body = Buffer.alloc(12 * MiB);
  for (let i = 0; i < body.length; i += 4096) body[i] = (i >> 12) & 0xff;
  await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: 'big.raw', Body: body }));
  const input = await openS3Input(`s3://${bucket}/big.raw`, geometry, { client: s3.client });
  const stream = input.read([MiB, 11 * MiB]);
  // Not consumed: the stream holds about its high-water mark, not the 10 MiB range.
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.ok(stream.readableLength <= 2 * MiB, `${stream.readableLength} bytes buffered`);
  assert.ok((await readAll(stream)).equals(body.subarray(MiB, 11 * MiB)));
  const early = input.read([0, 12 * MiB]);
  await new Promise((resolve) => early.once('readable', resolve));
  early.destroy();
  await new Promise((resolve) => early.once('close', resolve));
});

test.run();
