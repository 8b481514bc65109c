/**
 * The option table: every option of `convert()` and `slabchunk convert` — name, type, default, check, CLI flag and
 * doc line — in one place. `convert()`, the CLI's parser, `--help` and the README's table derive from it; the
 * Chunker and the ZarrSink take their defaults and checks for shared options from it too. A field of
 * {@link ConvertOptions} without a row is a compile error.
 */
import { constants as bufferConstants } from 'node:buffer';
import { availableParallelism, totalmem } from 'node:os';
import { bytesPerElement, fillBytes, parseDType, type DType } from '../core/dtype.ts';
import { invalid } from '../core/errors.ts';
import { checkShard, formatShape, parseOrder, product, type Order, type Vec3 } from '../core/geometry.ts';
import type { ZarrFormat } from '../core/layout.ts';
import { COMPRESSOR_GRAMMARS, checkCodecFits, parseCodec, type CodecSpec } from '../zarr/codecs/index.ts';
import type { IndexLocation } from '../zarr/shard.ts';
import { DOWNSAMPLE_METHODS, type DownsampleMethod } from '../core/downsample.ts';
import { parseUnit, type SpaceUnit } from '../zarr/ome.ts';
import { bool, int, levelCount, oneOf, positiveVec3, parseAttributes, parseCodecText, parseFill, parsePartValue, parseSize, parseUrl, vec3 } from './option-values.ts';
import type { Part } from './partition.ts';

export type Endian = 'little' | 'big';

/** Options of {@link convert} (and of `slabchunk convert`). Only `shape` is required, and only for raw input. */
export interface ConvertOptions {
  /** Volume shape `[X, Y, Z]` (x fastest in the file for input order F). Read from a TIFF or HDF5 input. */
  shape?: Vec3;
  /** Element type. Default `uint8`. */
  dtype?: DType;
  /** Chunk shape `[cx, cy, cz]`. Default `[64, 64, 64]`, clipped to the shape. */
  chunk?: Vec3;
  /** Shard shape `[sx, sy, sz]`, a multiple of `chunk` (Zarr v3 only). Default: no sharding. */
  shard?: Vec3;
  /** Where each shard keeps its index: `end` (default) or `start`. */
  shardIndex?: IndexLocation;
  /** `raw`, `gzip[:level]`, `zstd[:level][:checksum]` or `blosc[:cname[:clevel[:shuffle]]]`, optionally `+crc32c`. Default `zstd:3`. */
  codec?: string;
  /** Zarr format. Default 3. */
  zarrFormat?: ZarrFormat;
  /** Layout of the input file: F (x fastest, the default) or C (z fastest, numpy's default). */
  inputOrder?: Order;
  /** Byte order of the input's elements. Default `little`. Stores are always little-endian. */
  endian?: Endian;
  /** Bytes to skip at the start of the input (a file header). Default 0. */
  header?: number;
  /** Fill value: the value of absent chunks and of padding. Default 0. */
  fill?: number | bigint;
  /** Write chunks whose every voxel equals the fill value. Default false (they are skipped). */
  writeEmptyChunks?: boolean;
  /**
   * Worker threads that read, cut, encode and write. Default: every available core. Encodes run on libuv's thread
   * pool, which the CLI sizes to at least this; a library caller sets `UV_THREADPOOL_SIZE` before the pool starts.
   */
  threads?: number;
  /** Chunks (inner chunks, when sharding) encoding or writing at once, over all threads. Default 4 × cores, fewer when chunks are large (≤ 256 MiB in flight), at least 2. */
  concurrency?: number;
  /**
   * Memory the run may use in all, in bytes: row buffers, the threads' chunks in flight and a fixed base. Default
   * half the machine's memory. A second row buffer (reading overlapped with encoding) is used only where it fits.
   */
  maxMemory?: number;
  /** Largest row (chunk-row, or shard-row) held in memory, in bytes. Default 4 GiB. */
  maxRowBytes?: number;
  /** Flush every file to the disk before renaming it into place, so a power loss tears nothing. Default false. */
  fsync?: boolean;
  /**
   * S3 endpoint for `s3://` stores and inputs (an S3-compatible service: MinIO, Ceph, Swift, GCS), addressed
   * path-style. Default: the SDK's (`AWS_ENDPOINT_URL`, a profile's `endpoint_url`), else AWS.
   */
  s3Endpoint?: string;
  /** Replace an existing Zarr store. Default false: a non-empty path is refused. */
  overwrite?: boolean;
  /** Extra attributes to store with the array. */
  attributes?: Record<string, unknown>;
  /** Convert only this part's share of the rows (an array job's task); parts share the store. */
  part?: Part;
  /** Skip rows an earlier run marked done; the store's options must equal these. Default false. */
  resume?: boolean;
  /** The channel of a multi-channel OME-TIFF or ImageJ file to read. Default 0. */
  channel?: number;
  /** The time point of a multi-time-point OME-TIFF or ImageJ file to read. Default 0. */
  time?: number;
  /** Write an OME-Zarr image: the store is a group with the pyramid's levels as arrays `0`, `1`, …. Default false. */
  ome?: boolean;
  /** Levels of the OME-Zarr pyramid: `auto` (until every axis fits in one chunk) or at most N. Implies `ome`. */
  levels?: 'auto' | number;
  /** How each pyramid level is computed from the one above. Default `mean` (`mode` for label volumes). */
  downsample?: DownsampleMethod;
  /** Voxel size `[x, y, z]` in `unit`. Default: the input's (OME-TIFF), else `[1, 1, 1]`. */
  voxelSize?: Vec3;
  /** Length unit of the voxel size, a UDUNITS-2 name (`um`, `µm`, `nm` are written long). Default: the input's, else `micrometer`. */
  unit?: SpaceUnit;
}

type Optional = 'shard' | 'attributes' | 'part' | 'channel' | 'time' | 'levels';
/** Every option checked and defaulted, once per run. */
export type ResolvedConvertOptions = Readonly<Required<Omit<ConvertOptions, Optional>> & Pick<ConvertOptions, Optional>>;

/** One option: how the CLI spells it, how it is documented, defaulted and checked. */
export interface OptionRow<T> {
  /** The CLI flag, without the dashes. */
  readonly flag: string;
  /** How help names the value (`X,Y,Z`); absent for switches. */
  readonly value?: string;
  /** One line: what it does. */
  readonly doc: string;
  /** The default as help and the README state it. */
  readonly defaultText: string;
  /** The default, from the options resolved before it (table order); undefined for none. */
  readonly default: (resolved: Partial<ResolvedConvertOptions>) => T | undefined;
  /**
   * Checks a value (an API value, or the CLI's string) and returns it typed; EINVALID naming the option as `name`
   * (the flag by default; the building blocks pass their own field names).
   */
  readonly parse: (value: unknown, name: string) => T;
}

type Table = { readonly [K in keyof ConvertOptions]-?: OptionRow<NonNullable<ConvertOptions[K]>> };

const GiB = 2 ** 30;
/** Bytes of in-flight chunks the default concurrency aims to stay under. */
const INFLIGHT_BYTES = 256 * 2 ** 20;
const DEFAULT_CHUNK: Vec3 = [64, 64, 64];

/** The default concurrency: 4 × cores, fewer when chunks are large (≤ 256 MiB in flight), at least 2. */
function defaultConcurrency(chunkBytes: number): number {
  return Math.max(2, Math.min(4 * availableParallelism(), Math.floor(INFLIGHT_BYTES / chunkBytes)));
}

const none = () => undefined;

/** Every option of `convert`, in the order `--help` and the README list them. */
export const OPTIONS = {
  shape: { flag: 'shape', value: 'X,Y,Z', doc: 'volume shape, x fastest in the file', defaultText: 'required for raw input; read from TIFF and HDF5', default: none, parse: vec3 },
  dtype: {
    flag: 'dtype', value: 'TYPE', doc: '`bool`, `int8`, `uint8`, `int16`, `uint16`, `int32`, `uint32`, `int64`, `uint64`, `float32`, `float64`',
    defaultText: '`uint8`; read from TIFF and HDF5', default: () => 'uint8', parse: (v) => parseDType(v),
  },
  chunk: {
    flag: 'chunk', value: 'X,Y,Z', doc: 'chunk shape', defaultText: '`64,64,64`, clipped to the shape', parse: vec3,
    default: (r) => r.shape && [Math.min(DEFAULT_CHUNK[0], r.shape[0]), Math.min(DEFAULT_CHUNK[1], r.shape[1]), Math.min(DEFAULT_CHUNK[2], r.shape[2])],
  },
  shard: { flag: 'shard', value: 'X,Y,Z', doc: 'shard shape, a multiple of the chunk (Zarr v3) — see Sharding', defaultText: 'none', default: none, parse: vec3 },
  shardIndex: { flag: 'shard-index', value: 'end|start', doc: 'where each shard keeps its index', defaultText: '`end`', default: () => 'end', parse: oneOf(['start', 'end'] as const) },
  codec: { flag: 'codec', value: 'SPEC', doc: `${COMPRESSOR_GRAMMARS.map((g) => `\`${g}\``).join(', ')}; add \`+crc32c\` for a checksum of each chunk (v3); both checksums are verified on every read`, defaultText: '`zstd:3`', default: () => 'zstd:3', parse: parseCodecText },
  zarrFormat: {
    flag: 'zarr-format', value: '3|2', doc: 'Zarr format', defaultText: '`3`', default: () => 3,
    parse: (v, name) => { const n = Number(v); if (n !== 2 && n !== 3) throw invalid(`${name} must be 2 or 3. Got: ${String(v)}`); return n; },
  },
  inputOrder: { flag: 'input-order', value: 'F|C', doc: 'input layout: F = x fastest, C = z fastest', defaultText: '`F`', default: () => 'F', parse: parseOrder },
  endian: { flag: 'endian', value: 'little|big', doc: 'byte order of the input\'s elements (stores are little-endian)', defaultText: '`little`', default: () => 'little', parse: oneOf(['little', 'big'] as const) },
  header: { flag: 'header', value: 'BYTES', doc: 'bytes to skip at the start of the input', defaultText: '`0`', default: () => 0, parse: int(0) },
  fill: { flag: 'fill', value: 'V', doc: 'fill value of padding and absent chunks', defaultText: '`0`', default: () => 0, parse: parseFill },
  writeEmptyChunks: { flag: 'write-empty-chunks', doc: 'also write chunks holding only the fill value', defaultText: 'off', default: () => false, parse: bool },
  threads: { flag: 'threads', value: 'N', doc: 'worker threads reading, cutting, encoding and writing — see Speed', defaultText: 'every core', default: () => availableParallelism(), parse: int(1, 4096) },
  concurrency: {
    flag: 'concurrency', value: 'N', doc: 'chunks encoding or writing at once', defaultText: '4 × cores, fewer for big chunks', parse: int(1),
    default: (r) => r.chunk && r.dtype && defaultConcurrency(product(r.chunk) * bytesPerElement(r.dtype)),
  },
  maxMemory: {
    flag: 'max-memory', value: 'SIZE', doc: 'memory budget of the run: rows, chunks in flight and a base — see Memory', defaultText: 'half the machine\'s memory',
    default: () => Math.floor(totalmem() / 2), parse: parseSize,
  },
  maxRowBytes: { flag: 'max-row-memory', value: 'SIZE', doc: 'largest chunk-row (shard-row) held in memory, e.g. `12GiB` — see Memory', defaultText: '`4GiB`', default: () => 4 * GiB, parse: parseSize },
  fsync: {
    flag: 'fsync', doc: 'flush each file to the disk before renaming it into place: a power loss then tears nothing either (a crashed process never does); slower',
    defaultText: 'off', default: () => false, parse: bool,
  },
  s3Endpoint: {
    flag: 's3-endpoint', value: 'URL', doc: 'endpoint of an S3-compatible service for `s3://` stores and inputs, addressed path-style — see Object storage',
    defaultText: '`AWS_ENDPOINT_URL`, else AWS', default: none, parse: parseUrl,
  },
  overwrite: { flag: 'overwrite', doc: 'replace an existing Zarr store (a folder or bucket prefix of other files is never deleted)', defaultText: 'off', default: () => false, parse: bool },
  attributes: { flag: 'attributes', value: 'JSON', doc: 'attributes to store with the array, a JSON object', defaultText: 'none', default: none, parse: parseAttributes },
  part: {
    flag: 'part', value: 'I/N', doc: 'convert part I (0-based) of N — see Scaling out', parse: parsePartValue, default: none,
    defaultText: 'from `SLURM_ARRAY_TASK_ID`, or `JOB_COMPLETION_INDEX` with `--parts N`',
  },
  resume: { flag: 'resume', doc: 'skip rows an earlier run finished, rewrite the rest', defaultText: 'off', default: () => false, parse: bool },
  channel: { flag: 'channel', value: 'C', doc: 'channel of a multi-channel OME-TIFF or ImageJ TIFF to convert — see Inputs', defaultText: '`0`', default: none, parse: int(0) },
  time: { flag: 'time', value: 'T', doc: 'time point of a multi-time-point OME-TIFF or ImageJ TIFF to convert', defaultText: '`0`', default: none, parse: int(0) },
  ome: { flag: 'ome', doc: 'write an OME-Zarr image: a group whose arrays `0`, `1`, … are the pyramid\'s levels', defaultText: 'off (on with `--levels`)', default: () => false, parse: bool },
  levels: { flag: 'levels', value: 'auto|N', doc: 'pyramid levels: until every axis fits in one chunk, or at most N (implies `--ome`) — see Pyramids', defaultText: '`auto` with `--ome`', default: none, parse: levelCount },
  downsample: { flag: 'downsample', value: DOWNSAMPLE_METHODS.join('|'), doc: 'how each level is computed from the one above (`mode` for labels)', defaultText: '`mean`', default: () => 'mean', parse: oneOf(DOWNSAMPLE_METHODS) },
  voxelSize: { flag: 'voxel-size', value: 'X,Y,Z', doc: 'voxel size in `--unit`, written to the OME-Zarr metadata', defaultText: 'the input\'s (OME-TIFF), else `1,1,1`', default: () => [1, 1, 1], parse: positiveVec3 },
  unit: { flag: 'unit', value: 'U', doc: 'length unit, UDUNITS-2 (`micrometer`, `nanometer`; `um`, `µm`, `nm` accepted)', defaultText: 'the input\'s, else `micrometer`', default: () => 'micrometer', parse: (value, name) => parseUnit(typeof value === 'string' ? value : String(value), name) },
} as const satisfies Table;

export type OptionName = keyof typeof OPTIONS;

/** The rows in table order, each with its name: what `--help` and the README list. */
export const CONVERT_OPTIONS = (Object.keys(OPTIONS) as OptionName[]).map((name) => ({ name, ...(OPTIONS[name] as OptionRow<unknown>) }));

/**
 * Option `name` resolved: `value` checked, or the default when it is undefined. `resolved` holds the options
 * the default may depend on (those before it in the table).
 */
export function resolveOption<K extends OptionName>(
  name: K, value: unknown, resolved: Partial<ResolvedConvertOptions> = {}, label: string = OPTIONS[name].flag,
): NonNullable<ConvertOptions[K]> | undefined {
  const row = OPTIONS[name] as unknown as OptionRow<NonNullable<ConvertOptions[K]>>;
  // null is absent too: Zarr v2 metadata may say `"fill_value": null`.
  return value === undefined || value === null ? row.default(resolved) : row.parse(value, label);
}

/** Checks option `name`'s value (no default: undefined is refused as the row's parser refuses it). */
export function checkOption<K extends OptionName>(name: K, value: unknown, label: string = OPTIONS[name].flag): NonNullable<ConvertOptions[K]> {
  return (OPTIONS[name] as unknown as OptionRow<NonNullable<ConvertOptions[K]>>).parse(value, label);
}

/** Checks and defaults every option, then their combinations; throws EINVALID naming the bad one. Pure. */
export function resolveConvertOptions(options: ConvertOptions): ResolvedConvertOptions {
  if (options === null || typeof options !== 'object') throw invalid('convert options must be an object with at least `shape`');
  if (options.shape === undefined) throw invalid('shape is required: pass --shape X,Y,Z (x fastest in the file)');
  const resolved: Record<string, unknown> = {};
  for (const name of Object.keys(OPTIONS) as OptionName[]) {
    const value = resolveOption(name, options[name], resolved as Partial<ResolvedConvertOptions>);
    if (value !== undefined) resolved[name] = value;
  }
  // --levels implies --ome.
  if (resolved.levels !== undefined) {
    if (options.ome === false) throw invalid('levels are those of an OME-Zarr pyramid: drop ome: false, or drop levels');
    resolved.ome = true;
  }
  const r = resolved as ResolvedConvertOptions;
  if (options.shardIndex !== undefined && !r.shard) throw invalid('--shard-index needs --shard: drop it, or give a shard shape');
  if ((r.part !== undefined || r.resume) && r.overwrite) {
    throw invalid('overwrite cannot be combined with joining a store (--part, --resume): delete the old store first');
  }
  if (!r.ome) {
    const given = (['downsample', 'voxelSize', 'unit'] as const).find((k) => options[k] !== undefined);
    if (given) throw invalid(`--${OPTIONS[given].flag} describes an OME-Zarr pyramid: add --ome (or --levels), or drop --${OPTIONS[given].flag}`);
  }
  checkArray(r);
  return r;
}

/** What {@link checkArray} checks: the options that together must make a valid Zarr array. */
export interface ArrayOptions {
  readonly shape: Vec3;
  readonly chunk: Vec3;
  readonly dtype: DType;
  readonly codec: string | CodecSpec;
  readonly zarrFormat: ZarrFormat;
  readonly fill: number | bigint | boolean;
  readonly shard?: Vec3 | undefined;
}

/** The checks across options (each written once): sharding and crc32c need v3, the shard and fill fit, the codec takes the chunk. */
export function checkArray(o: ArrayOptions): void {
  const codec = typeof o.codec === 'string' ? parseCodec(o.codec) : o.codec;
  if (o.shard !== undefined) {
    checkShard(o.shard, o.chunk);
    if (o.zarrFormat !== 3) throw invalid('sharding needs Zarr v3: drop --shard or use --zarr-format 3');
  }
  if (o.zarrFormat === 2 && codec.crc32c) throw invalid('crc32c is a Zarr v3 codec; drop +crc32c or use --zarr-format 3');
  fillBytes(o.dtype, o.fill);
  checkChunkBytes(o.chunk, o.dtype);
  checkCodecFits(codec, product(o.chunk) * bytesPerElement(o.dtype));
}

/** A chunk is held in one Buffer: EINVALID when it would be larger than the largest one. */
export function checkChunkBytes(chunk: Vec3, dtype: DType): void {
  const bytes = product(chunk) * bytesPerElement(dtype);
  if (bytes > bufferConstants.MAX_LENGTH) {
    throw invalid(`a chunk of ${formatShape(chunk)} ${dtype} is ${bytes} bytes, more than the largest Buffer (${bufferConstants.MAX_LENGTH}); use a smaller chunk`);
  }
}

/** Options only the command line has: how it reports, and the Kubernetes part count. */
export interface CliOptions {
  /** Number of parts, with JOB_COMPLETION_INDEX (a Kubernetes Indexed Job). */
  parts?: number;
  json?: boolean;
  progress?: boolean;
  noProgress?: boolean;
  /** `export`: the pyramid level to write out (0 = full resolution). */
  level?: number;
  /** `view`: the port to serve on (0 picks a free one). */
  port?: number;
  /** `view`: print the URL without opening a browser. */
  noOpen?: boolean;
}

/** The command line's own rows, in the order `--help` lists them after the command's options. */
export const CLI_OPTIONS = {
  parts: { flag: 'parts', value: 'N', doc: 'number of parts, with `JOB_COMPLETION_INDEX` (Kubernetes Indexed Job) — see Scaling out', defaultText: 'none', default: none, parse: int(1) },
  json: { flag: 'json', doc: 'print the result as JSON on stdout', defaultText: 'off', default: () => false, parse: bool },
  progress: { flag: 'progress', doc: 'show the progress bar even when stderr is not a terminal', defaultText: 'on a terminal', default: () => false, parse: bool },
  noProgress: { flag: 'no-progress', doc: 'never show the progress bar', defaultText: 'off', default: () => false, parse: bool },
  level: { flag: 'level', value: 'L', doc: 'pyramid level of an OME-Zarr store to export (0 = full resolution)', defaultText: '`0`', default: () => 0, parse: int(0) },
  port: { flag: 'port', value: 'N', doc: 'port to serve the store and viewer on (0: any free port)', defaultText: '`0`', default: () => 0, parse: int(0, 65535) },
  noOpen: { flag: 'no-open', doc: 'print the viewer URL without opening a browser', defaultText: 'off', default: () => false, parse: bool },
} as const satisfies { readonly [K in keyof CliOptions]-?: OptionRow<NonNullable<CliOptions[K]>> };
