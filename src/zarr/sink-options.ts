/**
 * The ZarrSink's options: the public shape library users pass, and the resolved config the sink runs on.
 * Defaults and checks of the options it shares with `convert` come from the option table (ops/options.ts);
 * `convert()` builds the resolved config straight from its own resolved options, so nothing is resolved twice.
 */
import { bytesPerElement, type DType } from '../core/dtype.ts';
import { invalid } from '../core/errors.ts';
import { product, type Order, type Vec3 } from '../core/geometry.ts';
import { storedLayout, type StoredLayout, type ZarrFormat } from '../core/layout.ts';
import { checkArray, checkOption, resolveOption, type ResolvedConvertOptions } from '../ops/options.ts';
import { parseCodec, type CodecSpec } from './codecs/index.ts';
import type { ArrayConfig, FillValue } from './metadata.ts';
import type { IndexLocation } from './shard.ts';

export interface ZarrSinkOptions {
  /** Volume shape `[X, Y, Z]`. */
  readonly shape: Vec3;
  readonly dtype: DType;
  /** Chunk shape `[cx, cy, cz]`. */
  readonly chunk: Vec3;
  /** A codec string (`raw`, `gzip[:level]`, `zstd[:level][:checksum]`, `blosc[:cname[:clevel[:shuffle]]]`, `+crc32c`) or a parsed spec. Default `zstd:3`. */
  readonly codec?: string | CodecSpec;
  /** Default 3. */
  readonly zarrFormat?: ZarrFormat;
  /** Fill value of padding and absent chunks. Default 0. */
  readonly fill?: FillValue;
  /** Write chunks that hold only the fill value. Default false. */
  readonly writeEmptyChunks?: boolean;
  /** Chunks encoding or writing at once. Default: 4 × cores, fewer when chunks are large (≤ 256 MiB in flight), at least 2. */
  readonly concurrency?: number;
  /** User attributes stored with the array. */
  readonly attributes?: Readonly<Record<string, unknown>>;
  /** Layout of the input, which fixes the Zarr axes (DESIGN.md). Default 'F'. */
  readonly inputOrder?: Order;
  /** Replace an existing non-empty Zarr store at the target path. Default false. */
  readonly overwrite?: boolean;
  /**
   * Shard shape `[sx, sy, sz]`, a multiple of `chunk` (v3 only): records are then inner chunks, each shard is
   * written once, whole, when its last inner chunk arrives (the Chunker's `shard` option sends them shard by shard).
   */
  readonly shard?: Vec3;
  /** Where each shard keeps its index: `end` (default) or `start`. */
  readonly shardIndex?: IndexLocation;
  /** Flush every file to the disk before it is renamed into place (survives power loss; slower). Default false. */
  readonly fsync?: boolean;
  /**
   * Join a store that another part of the same job (or an interrupted run) created: accept it when its
   * metadata is byte-identical to ours, keep its chunks, never clear it. Default false.
   */
  readonly join?: boolean;
  /** Write a marker `.slabchunk/rows/<r>` once every chunk (shard) of row `r` is in place (for `--resume`). Default false. */
  readonly rowMarkers?: boolean;
  /**
   * How the input was read where the Zarr metadata cannot say (e.g. its byte order and header), stored as
   * `.slabchunk/job.json` and compared like the metadata when joining, so parts and resumed runs agree.
   */
  readonly job?: Readonly<Record<string, unknown>>;
}

/** Checked, defaulted options: what the sink and the metadata run on. */
export interface ResolvedSinkOptions extends ArrayConfig {
  readonly writeEmptyChunks: boolean;
  readonly concurrency: number;
  readonly overwrite: boolean;
  readonly fsync: boolean;
  readonly join: boolean;
  readonly rowMarkers: boolean;
  readonly job?: Readonly<Record<string, unknown>> | undefined;
  /** Bytes of one full chunk. */
  readonly chunkBytes: number;
}

const RESOLVED = new WeakSet<ResolvedSinkOptions>();

/** True for options {@link resolveSinkOptions} (or {@link sinkOptionsOf}) made: the sink takes them as they are. */
export function isResolvedSinkOptions(options: object): options is ResolvedSinkOptions {
  return RESOLVED.has(options as ResolvedSinkOptions);
}

/** Checks and defaults the options (EINVALID on the first bad one). Pure; no I/O. */
export function resolveSinkOptions(options: ZarrSinkOptions): ResolvedSinkOptions {
  if (options === null || typeof options !== 'object') throw invalid('ZarrSink options must be an object with shape, dtype and chunk');
  // Unlike convert, the sink has no default dtype or chunk: they must match the records it is fed.
  const shape = checkOption('shape', options.shape);
  const dtype = checkOption('dtype', options.dtype);
  const chunk = checkOption('chunk', options.chunk);
  const codec = typeof options.codec === 'object' && options.codec !== null ? options.codec : parseCodec(resolveOption('codec', options.codec)!);
  const zarrFormat = resolveOption('zarrFormat', options.zarrFormat)!;
  const fill = typeof options.fill === 'boolean' ? options.fill : resolveOption('fill', options.fill)!;
  const shard = resolveOption('shard', options.shard);
  const join = options.join === true;
  const overwrite = resolveOption('overwrite', options.overwrite)!;
  if (join && overwrite) throw invalid('overwrite cannot be combined with joining a store (--part, --resume): delete the old store first');
  checkArray({ shape, chunk, dtype, codec, zarrFormat, fill, shard });
  return build({
    layout: storedLayout({ shape, chunk, shard, inputOrder: resolveOption('inputOrder', options.inputOrder)! }),
    dtype,
    codec,
    zarrFormat,
    fill,
    shardIndex: resolveOption('shardIndex', options.shardIndex)!,
    attributes: options.attributes,
    writeEmptyChunks: resolveOption('writeEmptyChunks', options.writeEmptyChunks)!,
    concurrency: resolveOption('concurrency', options.concurrency, { chunk, dtype })!,
    overwrite,
    fsync: resolveOption('fsync', options.fsync)!,
    join,
    rowMarkers: options.rowMarkers === true,
    job: options.job,
  });
}

/**
 * The sink's config as a projection of `convert`'s resolved options and its layout: nothing checked twice.
 * `convert` always writes row markers and joins the store for parts and resumed runs.
 */
export function sinkOptionsOf(o: ResolvedConvertOptions, layout: StoredLayout, job: Readonly<Record<string, unknown>>): ResolvedSinkOptions {
  return build({
    layout,
    dtype: o.dtype,
    codec: parseCodec(o.codec),
    zarrFormat: o.zarrFormat,
    fill: o.fill,
    shardIndex: o.shardIndex,
    attributes: o.attributes,
    writeEmptyChunks: o.writeEmptyChunks,
    concurrency: o.concurrency,
    overwrite: o.overwrite,
    fsync: o.fsync,
    join: o.part !== undefined || o.resume,
    rowMarkers: true,
    job,
  });
}

/** The one place resolved sink options are made: what both ways of making them share. */
function build(fields: Omit<ResolvedSinkOptions, 'chunkBytes'>): ResolvedSinkOptions {
  const options: ResolvedSinkOptions = Object.freeze({ ...fields, chunkBytes: product(fields.layout.chunk) * bytesPerElement(fields.dtype) });
  RESOLVED.add(options);
  return options;
}
