/**
 * The store's metadata documents, built by one pure function so `convert`, `--resume` and tests can
 * compare them byte for byte. Axis mapping (DESIGN.md): F input -> Zarr shape `[Z, Y, X]`, names
 * `z, y, x`; C input -> `[X, Y, Z]`, names `x, y, z`. Either way a chunk's bytes are a C-order Zarr chunk.
 */
import { randomBytes } from 'node:crypto';
import { bytesPerElement, fillBytes, zarrV2DType, zarrV3DType, type DType } from '../core/dtype.ts';
import { invalid } from '../core/errors.ts';
import { checkShard, reverse, type Order, type Vec3 } from '../core/geometry.ts';
import type { CodecSpec, CompressorSpec } from './codecs/spec.ts';
import type { IndexLocation } from './shard.ts';

export type ZarrFormat = 2 | 3;
export type FillValue = number | bigint | boolean;

/** Everything the metadata depends on. Axis triples are in the volume's `[x, y, z]` order. */
export interface ArrayLayout {
  readonly shape: Vec3;
  readonly chunk: Vec3;
  readonly dtype: DType;
  readonly codec: CodecSpec;
  readonly zarrFormat: ZarrFormat;
  readonly inputOrder: Order;
  readonly fill: FillValue;
  readonly attributes?: Readonly<Record<string, unknown>> | undefined;
  /** Shard shape (a multiple of `chunk`): chunks are then inner chunks of `sharding_indexed` shards (v3 only). */
  readonly shard?: Vec3 | undefined;
  /** Where each shard keeps its index. Default `end`. */
  readonly shardIndex?: IndexLocation | undefined;
}

/** The array as Zarr sees it: axes slowest first. */
export interface ZarrAxes {
  readonly shape: Vec3;
  readonly chunks: Vec3;
  readonly dimensionNames: readonly [string, string, string];
}

export function zarrAxes(shape: Vec3, chunk: Vec3, inputOrder: Order): ZarrAxes {
  return inputOrder === 'F'
    ? { shape: reverse(shape), chunks: reverse(chunk), dimensionNames: ['z', 'y', 'x'] }
    : { shape, chunks: chunk, dimensionNames: ['x', 'y', 'z'] };
}

/** The store key of the chunk at grid coordinates `(gx, gy, gz)`: `c/gz/gy/gx` (v3, F input), `gz/gy/gx` (v2). */
export function chunkKey(coords: Vec3, inputOrder: Order, zarrFormat: ZarrFormat): string {
  const [a, b, c] = inputOrder === 'F' ? [coords[2], coords[1], coords[0]] : coords;
  return zarrFormat === 3 ? `c/${a}/${b}/${c}` : `${a}/${b}/${c}`;
}

/** Keys of the metadata documents of each format. */
export const METADATA_KEYS: Record<ZarrFormat, readonly string[]> = { 3: ['zarr.json'], 2: ['.zarray', '.zattrs'] };

/** A number whose JSON text JSON.stringify cannot write (an integer past 2^53, or -0). */
class JsonNumber {
  constructor(readonly text: string) {}
}

/**
 * The fill value as Zarr JSON: NaN/±Infinity as strings, bool as true/false, integers exact, -0 kept
 * (its bytes differ from 0, and skipped chunks must read back as the bytes the sink compared against).
 */
export function fillJson(dtype: DType, fill: FillValue): unknown {
  fillBytes(dtype, fill); // range check, EINVALID on a value the dtype cannot hold
  if (dtype === 'bool') return fill === true || fill === 1 || fill === 1n;
  if (dtype === 'float32' || dtype === 'float64') {
    const n = Number(fill);
    if (Number.isNaN(n)) return 'NaN';
    if (n === Infinity) return 'Infinity';
    if (n === -Infinity) return '-Infinity';
    return Object.is(n, -0) ? new JsonNumber('-0.0') : n;
  }
  return typeof fill === 'bigint' ? new JsonNumber(fill.toString()) : Number(fill);
}

const SHUFFLE_V2 = { noshuffle: 0, shuffle: 1, bitshuffle: 2 } as const;

function compressorV3(c: CompressorSpec, dtype: DType): object | null {
  switch (c.name) {
    case 'raw':
      return null;
    case 'gzip':
      return { name: 'gzip', configuration: { level: c.level } };
    case 'zstd':
      return { name: 'zstd', configuration: { level: c.level, checksum: false } };
    case 'blosc':
      return {
        name: 'blosc',
        configuration: { cname: c.cname, clevel: c.clevel, shuffle: c.shuffle, typesize: bytesPerElement(dtype), blocksize: 0 },
      };
  }
}

/** The numcodecs config of a compressor (v2 `compressor`). */
function compressorV2(c: CompressorSpec): object | null {
  switch (c.name) {
    case 'raw':
      return null;
    case 'gzip':
      return { id: 'gzip', level: c.level };
    case 'zstd':
      return { id: 'zstd', level: c.level };
    case 'blosc':
      return { id: 'blosc', cname: c.cname, clevel: c.clevel, shuffle: SHUFFLE_V2[c.shuffle], blocksize: 0 };
  }
}

/** JSON with {@link JsonNumber}s verbatim and bigints (also in user attributes) as exact integers, 2-space indent, final newline. */
function toJson(doc: unknown): string {
  const marks: string[] = [];
  // A random tag per call, so a user attribute that happens to look like a placeholder is left alone.
  const tag = randomBytes(8).toString('hex');
  const text = JSON.stringify(doc, (_k, v: unknown) => {
    if (!(v instanceof JsonNumber) && typeof v !== 'bigint') return v;
    marks.push(typeof v === 'bigint' ? v.toString() : v.text);
    return `\u0000${tag}${marks.length - 1}\u0000`;
  }, 2);
  return text.replace(new RegExp(`"\\\\u0000${tag}(\\d+)\\\\u0000"`, 'g'), (_m, i: string) => marks[Number(i)]!) + '\n';
}

/** Checks the combination of options; throws EINVALID naming the fix. */
export function checkLayout(layout: ArrayLayout): void {
  if (layout.zarrFormat !== 2 && layout.zarrFormat !== 3) {
    throw invalid(`zarr format must be 2 or 3. Got: ${String(layout.zarrFormat)}`);
  }
  if (layout.zarrFormat === 2 && layout.codec.crc32c) {
    throw invalid('crc32c is a Zarr v3 codec; drop +crc32c or use --zarr-format 3');
  }
  fillBytes(layout.dtype, layout.fill);
  if (layout.shard !== undefined) {
    if (layout.zarrFormat !== 3) throw invalid('sharding needs Zarr v3: drop --shard or use --zarr-format 3');
    checkShard(layout.shard, layout.chunk);
  }
  if (layout.shardIndex !== undefined && layout.shardIndex !== 'start' && layout.shardIndex !== 'end') {
    throw invalid(`shard index location must be start or end. Got: ${String(layout.shardIndex)}`);
  }
}

/**
 * The metadata documents of the array: `{ 'zarr.json': text }` (v3) or `{ '.zarray', '.zattrs' }` (v2).
 * Deterministic: the same layout always gives the same bytes.
 */
export function buildMetadata(layout: ArrayLayout): Record<string, string> {
  checkLayout(layout);
  const { shape, chunks, dimensionNames } = zarrAxes(layout.shape, layout.chunk, layout.inputOrder);
  const fill_value = fillJson(layout.dtype, layout.fill);
  const attributes = { ...(layout.attributes ?? {}) };
  if (layout.zarrFormat === 3) {
    const bytes = bytesPerElement(layout.dtype) === 1
      // the endian of 1-byte types is meaningless; zarr-python omits it, the spec allows it
      ? { name: 'bytes' }
      : { name: 'bytes', configuration: { endian: 'little' } };
    const compressor = compressorV3(layout.codec.compressor, layout.dtype);
    const inner: object[] = [bytes];
    if (compressor) inner.push(compressor);
    if (layout.codec.crc32c) inner.push({ name: 'crc32c' });
    const codecs = layout.shard === undefined ? inner : [{
      name: 'sharding_indexed',
      configuration: {
        chunk_shape: chunks,
        codecs: inner,
        index_codecs: [{ name: 'bytes', configuration: { endian: 'little' } }, { name: 'crc32c' }],
        index_location: layout.shardIndex ?? 'end',
      },
    }];
    const gridShape = layout.shard === undefined ? chunks : zarrAxes(layout.shape, layout.shard, layout.inputOrder).chunks;
    return {
      'zarr.json': toJson({
        zarr_format: 3,
        node_type: 'array',
        shape,
        data_type: zarrV3DType(layout.dtype),
        chunk_grid: { name: 'regular', configuration: { chunk_shape: gridShape } },
        chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
        fill_value,
        codecs,
        attributes,
        dimension_names: dimensionNames,
      }),
    };
  }
  return {
    '.zarray': toJson({
      zarr_format: 2,
      shape,
      chunks,
      dtype: zarrV2DType(layout.dtype),
      compressor: compressorV2(layout.codec.compressor),
      fill_value,
      order: 'C',
      filters: null,
      dimension_separator: '/',
    }),
    '.zattrs': toJson({ ...attributes, _ARRAY_DIMENSIONS: dimensionNames }),
  };
}
