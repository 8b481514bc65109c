/**
 * Opening stores we (or anyone) wrote, through zarrita: the read side `info`, `verify` and `export` share.
 * Stored axes are slowest first; `volumeAxes` says how they map back to the input's `[X, Y, Z]`.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import * as zarr from 'zarrita';
import FileSystemStore from '@zarrita/storage/fs';
import type { RangeQuery } from '@zarrita/storage';
import type { IndexLocation } from './shard.ts';
import { SlabchunkError } from '../core/errors.ts';
import { copyBlock } from '../core/copy.ts';
import { isDType, type DType, type ElementSize } from '../core/dtype.ts';
import type { Order, Vec3 } from '../core/geometry.ts';

export interface OpenedStore {
  readonly path: string;
  readonly format: 2 | 3;
  readonly array: zarr.Array<zarr.DataType, FileSystemStore>;
  /** The array's metadata document as stored (zarr.json, or .zarray for v2). */
  readonly metadata: Record<string, unknown>;
  readonly dtype: DType;
  /** Stored shape, slowest axis first. */
  readonly shape: Vec3;
  /** Stored chunk (inner chunk when sharded), slowest axis first. */
  readonly chunks: Vec3;
  /** Shard shape, slowest axis first, when the array is sharded. */
  readonly shard?: Vec3;
  /** Where each shard keeps its index, when the array is sharded. */
  readonly shardIndex?: IndexLocation;
  readonly dimensionNames?: readonly string[];
  /** The input layout this store was written from: `F` when its axes are z,y,x (the default). */
  readonly inputOrder: Order;
  readonly fill: number | bigint | boolean;
}

/** Opens the array at `storePath`, v3 or v2, with a clear error when there is none. */
export async function openStore(storePath: string): Promise<OpenedStore> {
  const v3 = await readJson(path.join(storePath, 'zarr.json'));
  const sharding = v3 ? shardingOf(v3) : undefined;
  const store = sharding?.indexLocation === 'start' ? suffixFromStart(new FileSystemStore(storePath)) : new FileSystemStore(storePath);
  let array: zarr.Array<zarr.DataType, FileSystemStore>;
  try {
    array = await zarr.open(store, { kind: 'array' });
  } catch (cause) {
    throw new SlabchunkError('ESTORE', `no Zarr array at ${storePath}: ${(cause as Error).message}; give the path of a store slabchunk wrote`, { cause });
  }
  const metadata = v3 ?? (await readJson(path.join(storePath, '.zarray'))) ?? {};
  const format = v3 ? 3 : 2;
  if (array.shape.length !== 3) {
    throw new SlabchunkError('ESTORE', `${storePath} holds a ${array.shape.length}-D array; slabchunk handles 3-D volumes`);
  }
  if (!isDType(array.dtype)) {
    throw new SlabchunkError('ESTORE', `${storePath} has dtype ${array.dtype}, which slabchunk does not handle`);
  }
  let dimensionNames: readonly string[] | undefined;
  if (format === 3) dimensionNames = (metadata.dimension_names as string[] | undefined) ?? undefined;
  else {
    const attrs = await readJson(path.join(storePath, '.zattrs'));
    dimensionNames = (attrs?._ARRAY_DIMENSIONS as string[] | undefined) ?? undefined;
  }
  return {
    path: storePath,
    format,
    array,
    metadata,
    dtype: array.dtype,
    shape: array.shape as unknown as Vec3,
    chunks: array.chunks as unknown as Vec3,
    ...(sharding ? { shard: sharding.shard, shardIndex: sharding.indexLocation } : {}),
    ...(dimensionNames ? { dimensionNames } : {}),
    inputOrder: dimensionNames?.join(',') === 'x,y,z' ? 'C' : 'F',
    fill: array.fillValue as number | bigint | boolean,
  };
}

/**
 * zarrita 0.7 reads a shard's index from the end whatever `index_location` says. For shards with the index at
 * the start, this view of the store serves its suffix reads (only ever the index) from the file's start;
 * the index's offsets are absolute, so inner chunk reads need no change.
 */
function suffixFromStart(store: FileSystemStore): FileSystemStore {
  return Object.assign(Object.create(store) as FileSystemStore, {
    getRange: (key: zarr.AbsolutePath, range: RangeQuery, options?: unknown) =>
      store.getRange(key, 'suffixLength' in range ? { offset: 0, length: range.suffixLength } : range, options as never),
  });
}

/** The shard shape (slowest first) and index location of a sharded v3 array; undefined when unsharded. */
function shardingOf(metadata: Record<string, unknown>): { shard: Vec3; indexLocation: IndexLocation } | undefined {
  const codecs = metadata.codecs as { name: string; configuration?: { index_location?: IndexLocation } }[] | undefined;
  const sharding = codecs?.find((c) => c.name === 'sharding_indexed');
  if (!sharding) return undefined;
  const grid = metadata.chunk_grid as { configuration: { chunk_shape: number[] } };
  return { shard: grid.configuration.chunk_shape as unknown as Vec3, indexLocation: sharding.configuration?.index_location ?? 'end' };
}

async function readJson(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await fsp.readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The raw little-endian bytes of a decoded zarrita chunk (TypedArray or BoolArray), without copying. */
export function chunkBytes(data: { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * A decoded chunk's bytes in C order of its stored axes. zarrita hands back C-ordered chunks for the
 * stores we write; a v2 store written with `order: "F"` elsewhere comes back F-strided and is reordered here.
 */
export function cOrderBytes(chunk: zarr.Chunk<zarr.DataType>, elementSize: ElementSize): Uint8Array {
  const bytes = chunkBytes(chunk.data as unknown as ArrayBufferView);
  const [n0, n1, n2] = chunk.shape as unknown as Vec3;
  const [s0, s1, s2] = chunk.stride as unknown as Vec3;
  if (s2 === 1 && s1 === n2 && s0 === n1 * n2) return bytes;
  const out = new Uint8Array(bytes.byteLength);
  copyBlock({ data: out, offset: 0, strides: [1, n2, n1 * n2] }, { data: bytes, offset: 0, strides: [s2, s1, s0] }, [n2, n1, n0], elementSize);
  return out;
}
