/**
 * The store's metadata documents, built by one pure function so `convert`, `--resume` and parts joining a store
 * can compare them byte for byte. The axes come from the stored layout (DESIGN.md), the codec entries from the
 * codec registry; nothing is checked here — the options were checked when they were resolved.
 */
import { randomBytes } from 'node:crypto';
import { bytesPerElement, zarrV2DType, zarrV3DType, type DType } from '../core/dtype.ts';
import type { StoredLayout, ZarrFormat } from '../core/layout.ts';
import { codecContext, codecsV3, compressorV2, type CodecSpec } from './codecs/index.ts';
import type { IndexLocation } from './shard.ts';

export type FillValue = number | bigint | boolean;

/** Everything the metadata depends on. */
export interface ArrayConfig {
  readonly layout: StoredLayout;
  readonly dtype: DType;
  readonly codec: CodecSpec;
  readonly zarrFormat: ZarrFormat;
  readonly fill: FillValue;
  /** Where each shard keeps its index (sharded layouts only). */
  readonly shardIndex: IndexLocation;
  readonly attributes?: Readonly<Record<string, unknown>> | undefined;
}

/** A number whose JSON text JSON.stringify cannot write (an integer past 2^53, or -0). */
class JsonNumber {
  constructor(readonly text: string) {}
}

/**
 * The fill value as Zarr JSON: NaN/±Infinity as strings, bool as true/false, integers exact, -0 kept
 * (its bytes differ from 0, and skipped chunks must read back as the bytes the sink compared against).
 */
function fillJson(dtype: DType, fill: FillValue): unknown {
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

/**
 * The metadata documents of the array: `{ 'zarr.json': text }` (v3) or `{ '.zarray', '.zattrs' }` (v2).
 * Deterministic: the same config always gives the same bytes.
 */
export function buildMetadata(config: ArrayConfig): Record<string, string> {
  const { shape, chunks, shard, dimensionNames } = config.layout.stored;
  const fill_value = fillJson(config.dtype, config.fill);
  const attributes = { ...(config.attributes ?? {}) };
  const ctx = codecContext(config.dtype);
  if (config.zarrFormat === 3) {
    const bytes = bytesPerElement(config.dtype) === 1
      // the endian of 1-byte types is meaningless; zarr-python omits it, the spec allows it
      ? { name: 'bytes' }
      : { name: 'bytes', configuration: { endian: 'little' } };
    const inner: object[] = [bytes, ...codecsV3(config.codec, ctx)];
    const codecs = shard === undefined ? inner : [{
      name: 'sharding_indexed',
      configuration: {
        chunk_shape: chunks,
        codecs: inner,
        index_codecs: [{ name: 'bytes', configuration: { endian: 'little' } }, { name: 'crc32c' }],
        index_location: config.shardIndex,
      },
    }];
    return {
      'zarr.json': toJson({
        zarr_format: 3,
        node_type: 'array',
        shape,
        data_type: zarrV3DType(config.dtype),
        chunk_grid: { name: 'regular', configuration: { chunk_shape: shard ?? chunks } },
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
      dtype: zarrV2DType(config.dtype),
      compressor: compressorV2(config.codec, ctx),
      fill_value,
      order: 'C',
      filters: null,
      dimension_separator: '/',
    }),
    '.zattrs': toJson({ ...attributes, _ARRAY_DIMENSIONS: dimensionNames }),
  };
}

/** A group's documents: v3 `zarr.json` (`node_type: group`), or v2 `.zgroup` and `.zattrs`. */
export function buildGroupMetadata(zarrFormat: ZarrFormat, attributes: Readonly<Record<string, unknown>>): Record<string, string> {
  if (zarrFormat === 3) return { 'zarr.json': toJson({ zarr_format: 3, node_type: 'group', attributes }) };
  return { '.zgroup': toJson({ zarr_format: 2 }), '.zattrs': toJson(attributes) };
}
