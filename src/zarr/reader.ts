/**
 * Opening stores we (or anyone) wrote, through zarrita: the read side `info`, `verify` and `export` share. The
 * stored layout maps the array's axes (slowest first) back to the volume's `[X, Y, Z]`.
 */
import path from 'node:path';
import * as zarr from 'zarrita';
import { copyBlock } from '../core/copy.ts';
import { bytesPerElement, isDType, type DType, type ElementSize } from '../core/dtype.ts';
import { errorAt, messageOf, SlabchunkError, wrapError } from '../core/errors.ts';
import { product, type Vec3 } from '../core/geometry.ts';
import { layoutOfStored, type StoredLayout, type ZarrFormat } from '../core/layout.ts';
import { checkCrc32c } from './codecs/crc32c.ts';
import type { IndexLocation } from './shard.ts';
import { isRemote, storeAt } from './stores/open.ts';
import type { Store } from './stores/types.ts';
import { zarritaStore, type ZarritaReadable } from './stores/zarrita.ts';

/** How to reach a store the read side is given by location: what `--s3-endpoint` says. */
export interface ReadSettings {
  /** An S3-compatible service's endpoint for `s3://` locations. Default: the SDK's (`AWS_ENDPOINT_URL`), else AWS. */
  readonly s3Endpoint?: string | undefined;
}

/** What the read side opens: a location (a folder, or an `s3://bucket/prefix` URL) or a {@link Store}. */
export type StoreSource = string | Store;

/** A store to read and where it is, for messages: the location given, or the store's own. */
export interface LocatedStore {
  readonly store: Store;
  readonly at: string;
}

/** The store `source` names, opened once: read through it, never through the filesystem directly. */
export function locate(source: StoreSource, settings: ReadSettings = {}): LocatedStore {
  if (typeof source !== 'string') return { store: source, at: source.location };
  return { store: storeAt(source, settings.s3Endpoint ? { s3Endpoint: settings.s3Endpoint } : {}), at: source };
}

/** `location` and a key below it (`sub`, `/`-separated): a path joined for a folder, a URL extended for an object store. */
export function joinLocation(location: string, sub: string): string {
  return isRemote(location) ? `${location.replace(/\/+$/, '')}/${sub}` : path.join(location, ...sub.split('/'));
}

export interface OpenedStore {
  /** Where the array is: its folder, or its `s3://` URL. */
  readonly path: string;
  /** The array's store, keys relative to the array (`zarr.json`, `c/0/1/2`). */
  readonly store: Store;
  readonly format: ZarrFormat;
  readonly array: zarr.Array<zarr.DataType, ZarritaReadable>;
  /** The array's metadata document as stored (zarr.json, or .zarray for v2). */
  readonly metadata: Record<string, unknown>;
  readonly dtype: DType;
  /** How the array maps to the volume: shapes in both frames, keys, shards, rows. */
  readonly layout: StoredLayout;
  /** Where each shard keeps its index, when the array is sharded (the spec's default: the end). */
  readonly shardIndex?: IndexLocation;
  /** The dimension names the store gives, if any. */
  readonly dimensionNames?: readonly string[];
  readonly fill: number | bigint | boolean;
}

/**
 * Opens the array at `source` (a folder, an `s3://` URL with `settings.s3Endpoint` for a custom service, or a
 * {@link Store}), v3 or v2, with a clear error when there is none. Everything is read through the store: metadata
 * with `get`, shard indexes and inner chunks with ranged reads. An OME-Zarr pyramid's root is a group, not one
 * array: ESTORE naming its levels and how to pick one (`openPyramid`, `--level`).
 */
export async function openStore(source: StoreSource, settings: ReadSettings = {}): Promise<OpenedStore> {
  return openArray(locate(source, settings));
}

/** {@link openStore} on a store already located. */
export async function openArray({ store, at }: LocatedStore): Promise<OpenedStore> {
  const v3 = await readJson(store, 'zarr.json', at);
  await refuseGroup(store, at, v3);
  const sharding = v3 ? shardingOf(v3) : undefined;
  let array: zarr.Array<zarr.DataType, ZarritaReadable>;
  try {
    // The format is known from zarr.json: no request for the other format's documents (each a round trip on S3).
    const readable = zarritaStore(store, { indexAtStart: sharding?.indexLocation === 'start' });
    array = v3 ? await zarr.open.v3(readable, { kind: 'array' }) : await zarr.open.v2(readable, { kind: 'array' });
  } catch (cause) {
    throw new SlabchunkError('ESTORE', `no Zarr array at ${at}: ${messageOf(cause)}; give the location of a store slabchunk wrote`, { cause });
  }
  const metadata = v3 ?? (await readJson(store, '.zarray', at)) ?? {};
  const format = v3 ? 3 : 2;
  if (array.shape.length !== 3) {
    throw new SlabchunkError('ESTORE', `${at} holds a ${array.shape.length}-D array; slabchunk handles 3-D volumes`);
  }
  if (!isDType(array.dtype)) {
    throw new SlabchunkError('ESTORE', `${at} has dtype ${array.dtype}, which slabchunk does not handle`);
  }
  const dimensionNames = format === 3
    ? (metadata.dimension_names as string[] | undefined)
    : ((await readJson(store, '.zattrs', at))?._ARRAY_DIMENSIONS as string[] | undefined);
  let layout: StoredLayout;
  try {
    layout = layoutOfStored({ shape: array.shape as unknown as Vec3, chunks: array.chunks as unknown as Vec3, shard: sharding?.shard, dimensionNames });
  } catch (cause) {
    throw new SlabchunkError('ESTORE', `${at} has a chunk grid slabchunk cannot read (${messageOf(cause)})`, { cause });
  }
  return {
    path: at,
    store,
    format,
    array,
    metadata,
    dtype: array.dtype,
    layout,
    ...(sharding ? { shardIndex: sharding.indexLocation } : {}),
    ...(dimensionNames ? { dimensionNames } : {}),
    fill: array.fillValue as number | bigint | boolean,
  };
}

/**
 * Chunk `coords` (grid coordinates in the volume's axes; an inner chunk when sharded) as its bytes in C order of
 * the stored axes — for stores slabchunk wrote, exactly the record the Chunker cut. EREAD names the chunk.
 */
export async function readChunkBytes(store: OpenedStore, coords: Vec3): Promise<Uint8Array> {
  try {
    const chunk = await store.array.getChunk([...store.layout.toStored(coords)]);
    const es = bytesPerElement(store.dtype);
    const { byteLength } = chunk.data as unknown as ArrayBufferView;
    const expected = product(store.array.chunks as unknown as Vec3) * es;
    if (byteLength !== expected) {
      throw new SlabchunkError('EREAD', `decodes to ${byteLength} bytes where the chunk holds ${expected}: the file is truncated or damaged`);
    }
    return cOrderBytes(chunk, store.layout, es);
  } catch (error) {
    const key = store.layout.describe(coords, store.format);
    throw errorAt(error, 'EREAD', `chunk ${key} of ${store.path}`, { key });
  }
}

/**
 * zarrita's `crc32c` drops the checksum unread; ours checks it, for chunks and for shard indexes alike (the
 * sharding codec decodes its index through the same registry, with no fill value). Registered once, for every
 * array zarrita opens in this process.
 */
zarr.registry.set('crc32c', () => ({
  fromConfig: (_config: unknown, meta: { fillValue: unknown }) => {
    const what = meta.fillValue === null ? 'the shard index' : 'the chunk';
    return {
      kind: 'bytes_to_bytes' as const,
      encode: (): never => {
        throw new SlabchunkError('EWRITE', 'slabchunk writes chunks through its own codecs, not zarrita\'s');
      },
      decode: (bytes: Uint8Array) => checkCrc32c(bytes, what),
      computeEncodedSize: (size: number) => size + 4,
    };
  },
}) as never);

/** The shard shape (slowest first) and index location of a sharded v3 array; undefined when unsharded. */
function shardingOf(metadata: Record<string, unknown>): { shard: Vec3; indexLocation: IndexLocation } | undefined {
  const codecs = metadata.codecs as { name: string; configuration?: { index_location?: IndexLocation } }[] | undefined;
  const sharding = codecs?.find((c) => c.name === 'sharding_indexed');
  if (!sharding) return undefined;
  const grid = metadata.chunk_grid as { configuration: { chunk_shape: number[] } };
  // `end` is the sharding codec's own default when the metadata leaves the location out.
  return { shard: grid.configuration.chunk_shape as unknown as Vec3, indexLocation: sharding.configuration?.index_location ?? 'end' };
}

/**
 * ESTORE when the store at `at` holds a Zarr group rather than an array: an array's chunk keys and shape would be
 * silently those of one level, so the caller must say which one.
 */
async function refuseGroup(store: Store, at: string, v3: Record<string, unknown> | undefined): Promise<void> {
  let attributes: Record<string, unknown> | undefined;
  if (v3) {
    if (v3.node_type !== 'group') return;
    attributes = v3.attributes as Record<string, unknown> | undefined;
  } else {
    if (!(await readJson(store, '.zgroup', at)) || (await readJson(store, '.zarray', at))) return;
    attributes = await readJson(store, '.zattrs', at);
  }
  const multiscales = ((attributes?.ome as Record<string, unknown> | undefined)?.multiscales ?? attributes?.multiscales) as
    { datasets?: { path?: unknown }[] }[] | undefined;
  const paths = multiscales?.[0]?.datasets?.map((d) => String(d.path));
  if (!paths) {
    throw new SlabchunkError('ESTORE', `${at} is a Zarr group, not an array, and holds no OME-Zarr multiscales; give the location of an array inside it`);
  }
  throw new SlabchunkError('ESTORE', `${at} is an OME-Zarr pyramid (levels ${paths.join(', ')}), not one array: `
    + `open one level (${joinLocation(at, paths[0] ?? '0')}) or the whole with openPyramid(); on the command line, export takes --level L, info and verify read every level`);
}

/**
 * A JSON document of `store` (`at` names the store in messages); undefined when absent, EREAD naming the document
 * when unreadable or not JSON.
 */
export async function readJson(store: Store, name: string, at: string = store.location): Promise<Record<string, unknown> | undefined> {
  const where = joinLocation(at, name);
  let bytes: Uint8Array | undefined;
  try {
    bytes = await store.get(name);
  } catch (error) {
    throw wrapError(error, 'EREAD', `could not read ${where}`, { key: name });
  }
  if (bytes === undefined) return undefined;
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new SlabchunkError('EREAD', `${where}: not valid JSON (${messageOf(cause)}); the store's metadata is damaged`, { key: name, cause });
  }
}

/**
 * A decoded chunk's bytes in C order of its stored axes. zarrita hands back C-ordered chunks for the stores we
 * write; a v2 store written with `order: "F"` elsewhere comes back F-strided and is reordered here.
 */
function cOrderBytes(chunk: zarr.Chunk<zarr.DataType>, layout: StoredLayout, es: ElementSize): Uint8Array {
  const data = chunk.data as unknown as ArrayBufferView;
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const shape = chunk.shape as unknown as Vec3;
  const stride = chunk.stride as unknown as Vec3;
  if (stride[2] === 1 && stride[1] === shape[2] && stride[0] === shape[1] * shape[2]) return bytes;
  // Copied in the file frame (stored axes reversed), where C order of the stored axes is F order.
  const fromStored = (v: Vec3): Vec3 => layout.toFile(layout.fromStored(v));
  const n = fromStored(shape);
  const out = new Uint8Array(bytes.byteLength);
  copyBlock({ data: out, offset: 0, strides: [1, n[0], n[0] * n[1]] }, { data: bytes, offset: 0, strides: fromStored(stride) }, n, es);
  return out;
}
