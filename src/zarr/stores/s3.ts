/**
 * The S3 store: the keys of `s3://bucket/prefix` are the objects `prefix/key`. Each value is one PutObject, or one
 * multipart upload that only appears when CompleteMultipartUpload succeeds, so a reader never sees a torn object —
 * S3's own atomicity stands in for the filesystem store's temp + rename.
 */
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { SlabchunkError, type ErrorCode } from '../../core/errors.ts';
import { checkByteRange, checkStoreKey } from './filesystem.ts';
import { isNoSuchKey, s3Client, s3Error, statusOf } from './s3-client.ts';
import type { ByteRange, Store } from './types.ts';

/** Default part size of multipart uploads: 8 MiB. */
export const S3_PART_SIZE = 8 << 20;
/**
 * Default size above which a value goes up as a multipart upload: 64 MiB. Below it one PutObject is cheaper for
 * the service (Swift turns every multipart upload into a manifest and segments: 2.7× its CPU for 14 MiB shards)
 * and makes 1 + parts fewer requests; it costs a copy of a value given in parts, at most this size.
 */
export const S3_MULTIPART_THRESHOLD = 64 << 20;
/** Default number of parts of one upload in flight at once. */
export const S3_QUEUE_SIZE = 4;
/** The smallest part S3 (and lib-storage) accepts, but for the last. */
const MIN_PART_SIZE = 5 << 20;
/** The largest object one PutObject may store. */
const MAX_PUT = 5 * 2 ** 30;
/** The most keys one DeleteObjects request takes. */
const DELETE_BATCH = 1000;

/** True for an `s3://` URL (the scheme in any case). */
export function isS3Url(s: string): boolean {
  return /^s3:\/\//i.test(s);
}

/**
 * The bucket and key prefix of `s3://bucket/prefix/...` (the prefix without leading or trailing `/`, `''` for the
 * bucket's root). Throws EINVALID naming the fix for anything else: another scheme, no bucket, a bucket name S3
 * would refuse, empty, `.` or `..` parts.
 */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const bad = (why: string): SlabchunkError =>
    new SlabchunkError('EINVALID', `invalid S3 URL ${JSON.stringify(url)}: ${why}; write s3://BUCKET/PREFIX, e.g. s3://my-bucket/scans/brain.zarr`);
  if (!isS3Url(url)) throw bad('it does not start with s3://');
  const rest = url.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  if (bucket === '') throw bad('no bucket');
  // S3's rules (3–63 lowercase letters, digits, dots, hyphens), widened to the uppercase and underscores that old
  // AWS buckets and S3-compatible services allow; never a character that would change the request's path.
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/.test(bucket)) throw bad(`${JSON.stringify(bucket)} is not a bucket name (letters, digits, '.', '-', '_')`);
  const prefix = (slash < 0 ? '' : rest.slice(slash + 1)).replace(/\/+$/, '');
  if (prefix !== '' && prefix.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw bad('the path has an empty, "." or ".." part');
  }
  return { bucket, prefix };
}

export interface S3StoreOptions {
  /** The service's URL (`--s3-endpoint`); default the SDK's chain (see {@link s3Client}). Ignored with `client`. */
  readonly endpoint?: string | undefined;
  /** The client to use (shared between stores, or configured by the caller); default `s3Client({ endpoint })`. */
  readonly client?: S3Client | undefined;
  /** Bytes per part of a multipart upload. At least 5 MiB (S3's minimum part). Default {@link S3_PART_SIZE}. */
  readonly partSize?: number | undefined;
  /**
   * The size above which a value is uploaded in parts (at or below it: one PutObject, at most 5 GiB). Default
   * {@link S3_MULTIPART_THRESHOLD}.
   */
  readonly multipartThreshold?: number | undefined;
  /** Parts of one upload in flight at once (each holds a part's bytes). Default {@link S3_QUEUE_SIZE}. */
  readonly queueSize?: number | undefined;
}

/** Clients that answered a conditional PUT with 501 (Swift's s3api): `create` checks, puts and reads back there. */
const noConditionalPut = new WeakSet<S3Client>();
/**
 * Clients whose service has no batched DeleteObjects (Google Cloud Storage's XML API answers 501 NotImplemented):
 * their keys are deleted one request each.
 */
const noBatchDelete = new WeakSet<S3Client>();

/**
 * A store in an S3 bucket (or any S3-compatible service) under a key prefix. Requests are retried by the SDK
 * (adaptive backoff, bounded); what still fails throws a SlabchunkError that names the key and what to do.
 */
export class S3Store implements Store {
  /** The URL as given. */
  readonly location: string;
  readonly bucket: string;
  /** The key prefix, without leading or trailing `/`; `''` for the bucket's root. */
  readonly prefix: string;
  readonly client: S3Client;
  readonly #partSize: number;
  readonly #queueSize: number;
  readonly #threshold: number;

  constructor(url: string, options: S3StoreOptions = {}) {
    const { bucket, prefix } = parseS3Url(url);
    const partSize = options.partSize ?? S3_PART_SIZE;
    const queueSize = options.queueSize ?? S3_QUEUE_SIZE;
    if (!Number.isSafeInteger(partSize) || partSize < MIN_PART_SIZE) {
      throw new SlabchunkError('EINVALID', `S3 part size ${partSize} is below S3's minimum of ${MIN_PART_SIZE} bytes (5 MiB); give a larger one`);
    }
    const threshold = options.multipartThreshold ?? S3_MULTIPART_THRESHOLD;
    if (!Number.isSafeInteger(threshold) || threshold < 0 || threshold > MAX_PUT) {
      throw new SlabchunkError('EINVALID', `S3 multipart threshold ${threshold} must be a whole number of bytes up to 5 GiB, S3's largest single PUT`);
    }
    if (!Number.isSafeInteger(queueSize) || queueSize < 1) {
      throw new SlabchunkError('EINVALID', `S3 upload queue size ${queueSize} must be a whole number of at least 1`);
    }
    this.location = url;
    this.bucket = bucket;
    this.prefix = prefix;
    this.client = options.client ?? s3Client({ endpoint: options.endpoint });
    this.#partSize = partSize;
    this.#queueSize = queueSize;
    this.#threshold = threshold;
  }

  /** The object key of a store key. */
  #key(key: string): string {
    checkStoreKey(key);
    return this.prefix === '' ? key : `${this.prefix}/${key}`;
  }

  /** The object-key prefix, ending in `/` (or `''`), of a folder-like store prefix (`''`: the store's root). */
  #folder(prefix: string): string {
    if (prefix === '') return this.prefix === '' ? '' : `${this.prefix}/`;
    return `${this.#key(prefix)}/`;
  }

  #fail(error: unknown, code: ErrorCode, verb: string, key?: string): Promise<SlabchunkError> {
    const what = key === undefined ? `could not ${verb} in ${this.location}` : `could not ${verb} ${key} in ${this.location}`;
    return s3Error(error, code, what, { client: this.client, bucket: this.bucket, ...(key !== undefined ? { key } : {}) });
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const Key = this.#key(key);
    try {
      const reply = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key }));
      return await reply.Body!.transformToByteArray();
    } catch (error) {
      if (isNoSuchKey(error)) return undefined;
      throw await this.#fail(error, 'EREAD', 'read', key);
    }
  }

  /**
   * One ranged GET. A range that starts at or past the end of the object is empty (S3 answers 416), as a read past
   * the end of a file is; a missing key is undefined.
   */
  async getRange(key: string, range: ByteRange): Promise<Uint8Array | undefined> {
    const Key = this.#key(key);
    checkByteRange(key, range);
    const want = 'suffixLength' in range ? range.suffixLength : range.length;
    const header = 'suffixLength' in range ? `bytes=-${want}` : `bytes=${range.offset}-${range.offset + want - 1}`;
    // `bytes=-0` and `bytes=a-(a-1)` are not ranges; an empty range only needs to know the key exists.
    if (want === 0) return (await this.has(key)) ? new Uint8Array(0) : undefined;
    try {
      const reply = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key, Range: header }));
      const bytes = await reply.Body!.transformToByteArray();
      if (reply.ContentRange !== undefined) return bytes;
      // A server that ignores Range answers 200 with the whole object (Swift does for a suffix of an empty one).
      return 'suffixLength' in range ? bytes.subarray(Math.max(0, bytes.length - want)) : bytes.subarray(range.offset, range.offset + want);
    } catch (error) {
      if (isNoSuchKey(error)) return undefined;
      if (statusOf(error) === 416) return new Uint8Array(0);
      throw await this.#fail(error, 'EREAD', 'read', key);
    }
  }

  async has(key: string): Promise<boolean> {
    const Key = this.#key(key);
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      return true;
    } catch (error) {
      // A HEAD's 404 has no body to tell a missing key from a missing bucket; either way the key is not there.
      if (isNoSuchKey(error)) return false;
      throw await this.#fail(error, 'EREAD', 'look up', key);
    }
  }

  async size(key: string): Promise<number | undefined> {
    const Key = this.#key(key);
    try {
      return (await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key }))).ContentLength ?? 0;
    } catch (error) {
      if (isNoSuchKey(error)) return undefined;
      throw await this.#fail(error, 'EREAD', 'look up', key);
    }
  }

  /** Every key below `prefix` with its size: ListObjectsV2 without a delimiter, 1000 keys a page. */
  async *listAll(prefix: string): AsyncIterable<{ readonly key: string; readonly size: number }> {
    const Prefix = this.#folder(prefix);
    let ContinuationToken: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix, ContinuationToken }));
      } catch (error) {
        throw await this.#fail(error, 'EREAD', 'list', prefix === '' ? undefined : `${prefix}/`);
      }
      for (const { Key, Size } of page.Contents ?? []) {
        // A console's "folder" marker (`prefix/`, `prefix/a/`) is not a key.
        if (Key !== undefined && Key.length > Prefix.length && !Key.endsWith('/')) yield { key: Key.slice(Prefix.length), size: Size ?? 0 };
      }
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken !== undefined);
  }

  /**
   * At or below the multipart threshold: one PutObject (several parts are joined into one buffer of at most that
   * size).
   * Above: a multipart upload of `partSize` parts, `queueSize` in flight, cut from the parts as they are sent, so
   * the value is never copied whole; the object appears only when the upload completes, and a failed upload is
   * aborted (its parts deleted).
   */
  async set(key: string, value: Uint8Array | readonly Uint8Array[]): Promise<void> {
    const Key = this.#key(key);
    const parts = value instanceof Uint8Array ? [value] : [...value].filter((part) => part.length > 0);
    const total = parts.reduce((sum, part) => sum + part.length, 0);
    if (total <= this.#threshold) {
      const Body = parts.length === 1 ? parts[0] : Buffer.concat(parts, total);
      try {
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body }));
      } catch (error) {
        throw await this.#fail(error, 'EWRITE', 'write', key);
      }
      return;
    }
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key, Body: Readable.from(parts), ContentLength: total },
      partSize: this.#partSize,
      queueSize: this.#queueSize,
      // lib-storage aborts a failed upload itself (its default), but when that abort fails too its error replaces
      // the upload's: abort here instead, and report the first failure.
      leavePartsOnError: true,
    });
    try {
      await upload.done();
    } catch (error) {
      let left = '';
      if (upload.uploadId !== undefined) {
        await this.client
          .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId: upload.uploadId }))
          .catch(() => {
            left = ' (its unfinished upload could not be aborted: --resume, or removeTemporaries(), removes it)';
          });
      }
      const failure = await this.#fail(error, 'EWRITE', 'write', key);
      throw left === '' ? failure : new SlabchunkError(failure.code, failure.message + left, { cause: error, key });
    }
  }

  /**
   * Tries a conditional PUT (`If-None-Match: *`), atomic where the service supports it (AWS S3 since 2024, MinIO,
   * Ceph RGW). A service that does not (Swift's s3api answers 501) gets check → put → read back, which is **not
   * atomic**: two creators racing within one round trip can both get true. The read-back makes the loser of a
   * slower race see the winner's value and return false, so give each creator a distinct value (a lock's owner).
   * Values are stored with one PutObject (no multipart).
   */
  async create(key: string, value: Uint8Array): Promise<boolean> {
    const Key = this.#key(key);
    if (!noConditionalPut.has(this.client)) {
      try {
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: value, IfNoneMatch: '*' }));
        return true;
      } catch (error) {
        // 412: the key exists; 409: a concurrent conditional PUT of the same key won (AWS).
        if (statusOf(error) === 412 || statusOf(error) === 409) return false;
        if (statusOf(error) !== 501) throw await this.#fail(error, 'EWRITE', 'create', key);
        noConditionalPut.add(this.client);
      }
    }
    if (await this.has(key)) return false;
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: value }));
    } catch (error) {
      throw await this.#fail(error, 'EWRITE', 'create', key);
    }
    const stored = await this.get(key);
    return stored !== undefined && Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength).equals(value);
  }

  /** The keys and folders directly below `prefix`: ListObjectsV2 with delimiter `/`, every page. */
  async #listing(prefix: string): Promise<{ keys: string[]; folders: string[] }> {
    const Prefix = this.#folder(prefix);
    const keys: string[] = [];
    const folders: string[] = [];
    let ContinuationToken: string | undefined;
    try {
      do {
        const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix, Delimiter: '/', ContinuationToken }));
        for (const { Key } of page.Contents ?? []) {
          // A console's "folder" marker (`prefix/`) is not a key.
          if (Key !== undefined && Key.length > Prefix.length) keys.push(Key.slice(Prefix.length));
        }
        for (const { Prefix: folder } of page.CommonPrefixes ?? []) {
          if (folder !== undefined && folder.length > Prefix.length + 1) folders.push(folder.slice(Prefix.length, -1));
        }
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken !== undefined);
    } catch (error) {
      throw await this.#fail(error, 'EREAD', 'list', prefix === '' ? undefined : `${prefix}/`);
    }
    return { keys, folders };
  }

  /**
   * Listings just started, by prefix: `list` and `folders` of one prefix asked in the same tick (as the output
   * checks ask them) share one request. Only the same tick: a listing asked after a write must see it.
   */
  readonly #listings = new Map<string, Promise<{ keys: string[]; folders: string[] }>>();

  #shared(prefix: string): Promise<{ keys: string[]; folders: string[] }> {
    let listing = this.#listings.get(prefix);
    if (!listing) {
      listing = this.#listing(prefix);
      this.#listings.set(prefix, listing);
      queueMicrotask(() => this.#listings.delete(prefix));
    }
    return listing;
  }

  async list(prefix: string): Promise<string[]> {
    return [...(await this.#shared(prefix)).keys];
  }

  async folders(prefix: string): Promise<string[]> {
    return [...(await this.#shared(prefix)).folders];
  }

  async delete(key: string): Promise<void> {
    const Key = this.#key(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (error) {
      if (isNoSuchKey(error)) return;
      throw await this.#fail(error, 'EWRITE', 'delete', key);
    }
  }

  /**
   * Lists every key below `prefix` (no delimiter) a page of up to 1000 at a time and deletes each page with one
   * DeleteObjects while the next page is listed. Throws naming the first key the service refused to delete.
   */
  async deleteAll(prefix: string): Promise<void> {
    const Prefix = this.#folder(prefix);
    const where = prefix === '' ? undefined : `${prefix}/`;
    let ContinuationToken: string | undefined;
    // One batch in flight while the next page is listed (the listing resumes after its last key, so deleting keys
    // it already returned does not disturb it). The batch settles to its error, never rejects unobserved.
    let pending: Promise<unknown> = Promise.resolve();
    const settle = async (): Promise<void> => {
      const failure = await pending;
      if (failure !== undefined) throw failure;
    };
    try {
      do {
        const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix, ContinuationToken, MaxKeys: DELETE_BATCH }));
        const keys = (page.Contents ?? []).flatMap(({ Key }) => (Key === undefined ? [] : [{ Key }]));
        await settle();
        pending = (async () => {
          for (let i = 0; i < keys.length; i += DELETE_BATCH) await this.#deleteBatch(keys.slice(i, i + DELETE_BATCH));
        })().then(() => undefined, (error: unknown) => error ?? new Error('delete failed'));
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken !== undefined);
      await settle();
    } catch (error) {
      await pending;
      throw await this.#fail(error, 'EWRITE', 'delete', where);
    }
  }

  async #deleteBatch(Objects: { Key: string }[]): Promise<void> {
    if (noBatchDelete.has(this.client)) {
      await this.#deleteEach(Objects);
      return;
    }
    let reply;
    try {
      reply = await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects, Quiet: true } }));
    } catch (error) {
      if (statusOf(error) !== 501) throw error;
      noBatchDelete.add(this.client);
      await this.#deleteEach(Objects);
      return;
    }
    const failed = reply.Errors?.[0];
    if (failed) {
      const key = this.prefix === '' ? failed.Key : failed.Key?.slice(this.prefix.length + 1);
      throw new SlabchunkError(
        'EWRITE',
        `could not delete ${key} in ${this.location}: ${failed.Code ?? 'error'}: ${failed.Message ?? ''} (${reply.Errors!.length} of ${Objects.length} keys in the batch failed)`,
        key === undefined ? {} : { key },
      );
    }
  }

  /** Deletes `Objects` one request each, a few at a time (a service without batched deletes). */
  async #deleteEach(Objects: readonly { Key: string }[]): Promise<void> {
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < Objects.length; i = next++) await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: Objects[i]!.Key }));
    };
    await Promise.all(Array.from({ length: Math.min(16, Objects.length) }, worker));
  }

  /** The store below `prefix`, with the same client and upload settings. */
  within(prefix: string): S3Store {
    checkStoreKey(prefix);
    return new S3Store(`${this.location.replace(/\/+$/, '')}/${prefix}`, { client: this.client, partSize: this.#partSize, queueSize: this.#queueSize, multipartThreshold: this.#threshold });
  }

  /**
   * Aborts every unfinished multipart upload below the store's prefix (a killed writer's; their parts are billed
   * but never seen), every page of ListMultipartUploads. Only for a store no other process is writing: a running
   * upload looks the same.
   */
  async removeTemporaries(): Promise<number> {
    const Prefix = this.#folder('');
    let removed = 0;
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    try {
      do {
        const page = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix, KeyMarker, UploadIdMarker }));
        await Promise.all(
          (page.Uploads ?? []).map(async ({ Key, UploadId }) => {
            if (Key === undefined || UploadId === undefined) return;
            try {
              await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key, UploadId }));
              removed++;
            } catch (error) {
              // Another cleaner (or the upload's own writer) finished it first.
              if ((error as { name?: string }).name !== 'NoSuchUpload' && statusOf(error) !== 404) throw error;
            }
          }),
        );
        const more = page.IsTruncated === true && (page.NextKeyMarker !== undefined || page.NextUploadIdMarker !== undefined);
        KeyMarker = more ? page.NextKeyMarker : undefined;
        UploadIdMarker = more ? page.NextUploadIdMarker : undefined;
      } while (KeyMarker !== undefined || UploadIdMarker !== undefined);
    } catch (error) {
      throw await this.#fail(error, 'EWRITE', 'remove unfinished uploads');
    }
    return removed;
  }
}
