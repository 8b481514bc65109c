/**
 * Raw volumes in object storage: an `s3://bucket/key` object, checked once (exists, the right size) and read with
 * one ranged GET per range, each pinned to the ETag seen at the check so an object replaced mid-run fails instead
 * of mixing two versions.
 */
import { PassThrough, Readable, pipeline } from 'node:stream';
import { GetObjectCommand, HeadBucketCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SlabchunkError, messageOf } from '../core/errors.ts';
import { parseS3Url } from '../zarr/stores/s3.ts';
import { describeS3Error, s3Client, s3Error, statusOf } from '../zarr/stores/s3-client.ts';
import { checkInputSize } from './size.ts';
import type { VolumeGeometry, VolumeInput } from './types.ts';

export interface S3InputOptions {
  /** The service's URL (`--s3-endpoint`); default the SDK's chain (see {@link s3Client}). Ignored with `client`. */
  readonly endpoint?: string | undefined;
  /** The client to use; default `s3Client({ endpoint })`. */
  readonly client?: S3Client | undefined;
}

/**
 * Checks the object at `url` against the volume's geometry: EINVALID when it (or its bucket) is missing or cannot
 * be read, ESIZE when its size disagrees — before anything is read. `read(range)` streams the volume's bytes
 * `[start, end)` (the header skipped) from one GET with a Range header, honouring backpressure; a read after the
 * object changed fails with EREAD.
 */
export async function openS3Input(url: string, { shape, dtype, header }: VolumeGeometry, options: S3InputOptions = {}): Promise<VolumeInput> {
  const { bucket, prefix: key } = parseS3Url(url);
  if (key === '') throw new SlabchunkError('EINVALID', `input ${url} names a bucket, not an object; give s3://${bucket}/KEY`);
  const client = options.client ?? s3Client({ endpoint: options.endpoint });
  let size: number;
  let etag: string | undefined;
  try {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    size = head.ContentLength ?? 0;
    etag = head.ETag;
  } catch (error) {
    throw await unreadableS3Input(url, error, client, bucket);
  }
  checkInputSize(url, size, shape, dtype, header);
  return {
    name: url,
    seekable: true,
    read: (range) => readRange(client, url, bucket, key, etag, header + (range?.[0] ?? 0), header + (range?.[1] ?? size - header)),
  };
}

/** EINVALID for an input object that cannot be read, saying whether the bucket or the object is missing. */
async function unreadableS3Input(url: string, error: unknown, client: S3Client, bucket: string): Promise<SlabchunkError> {
  let why: string;
  if (statusOf(error) === 404) {
    // A HEAD's 404 has no body: ask the bucket to tell a missing bucket from a missing object.
    const bucketThere = await client.send(new HeadBucketCommand({ Bucket: bucket })).then(() => true, (e: unknown) => statusOf(e) !== 404);
    why = bucketThere ? 'no such object' : `bucket ${bucket} does not exist`;
  } else {
    why = await describeS3Error(error, { client, bucket, key: url });
  }
  return new SlabchunkError('EINVALID', `cannot read input ${url}: ${why}; check the URL`, { cause: error, key: url });
}

/**
 * The object's bytes `[start, end)` as a stream: one GET, `If-Match` the ETag of the check. The response body is
 * piped through (so a slow consumer holds the socket back, not memory); destroying the stream aborts the request.
 */
function readRange(client: S3Client, url: string, Bucket: string, Key: string, etag: string | undefined, start: number, end: number): Readable {
  if (end <= start) return Readable.from([]);
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  const abort = new AbortController();
  out.once('close', () => abort.abort());
  client
    .send(new GetObjectCommand({ Bucket, Key, Range: `bytes=${start}-${end - 1}`, ...(etag ? { IfMatch: etag } : {}) }), { abortSignal: abort.signal })
    .then(
      (reply) => {
        const body = reply.Body as Readable | undefined;
        if (!body) throw new Error('empty response');
        if (reply.ContentLength !== undefined && reply.ContentLength !== end - start) {
          body.destroy();
          throw new Error(`the server answered ${reply.ContentLength} bytes for a range of ${end - start}`);
        }
        if (out.destroyed) return body.destroy();
        pipeline(body, out, (error) => {
          if (error && !out.destroyed) out.destroy(readError(url, start, end, error));
        });
      },
    )
    .catch(async (error: unknown) => {
      if (out.destroyed) return;
      if (statusOf(error) === 412) {
        out.destroy(new SlabchunkError('EREAD', `input ${url} changed while it was read (its ETag is no longer ${etag}); convert again from the start`, { cause: error, key: url }));
        return;
      }
      out.destroy(await s3Error(error, 'EREAD', `could not read bytes ${start}-${end - 1} of input ${url}`, { client, bucket: Bucket, key: Key }).catch(() => readError(url, start, end, error)));
    });
  return out;
}

function readError(url: string, start: number, end: number, error: unknown): SlabchunkError {
  return new SlabchunkError('EREAD', `could not read bytes ${start}-${end - 1} of input ${url}: ${messageOf(error)}`, { cause: error, key: url });
}
