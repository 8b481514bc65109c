/**
 * The option table `convert()` and the CLI share: one place for names, defaults, parsing and help,
 * so the API and the command line cannot drift apart.
 */
import { invalid } from '../core/errors.ts';
import { parseDType, type DType } from '../core/dtype.ts';
import { checkShard, checkVec3, parseOrder, type Order, type Vec3 } from '../core/geometry.ts';
import type { Endian } from '../stream/chunker.ts';
import { checkPart, parsePart, type Part } from './partition.ts';
import { parseCodec } from '../zarr/codecs/spec.ts';
import type { IndexLocation } from '../zarr/shard.ts';
import { DEFAULT_CODEC } from '../zarr/sink.ts';


/** Options of {@link convert} (and of `slabchunk convert`). Only `shape` is required. */
export interface ConvertOptions {
  /** Volume shape `[X, Y, Z]` (x fastest in the file for input order F). */
  shape: Vec3;
  /** Element type. Default `uint8`. */
  dtype?: DType;
  /** Chunk shape `[cx, cy, cz]`. Default `[64, 64, 64]`, clipped to the shape. */
  chunk?: Vec3;
  /** Shard shape `[sx, sy, sz]`, a multiple of `chunk` (Zarr v3 only). Default: no sharding. */
  shard?: Vec3;
  /** Where each shard keeps its index: `end` (default) or `start`. */
  shardIndex?: IndexLocation;
  /** `raw`, `gzip[:level]`, `zstd[:level]` or `blosc[:cname[:clevel[:shuffle]]]`. Default `zstd:3`. */
  codec?: string;
  /** Zarr format. Default 3. */
  zarrFormat?: 2 | 3;
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
  /** Chunks encoding or writing at once. Default 4 × cores, fewer when chunks are large (ZarrSink decides). */
  concurrency?: number;
  /** Replace an existing non-empty store. Default false: such a store is refused. */
  overwrite?: boolean;
  /** Extra attributes to store with the array. */
  attributes?: Record<string, unknown>;
  /** Flush every file to the disk before renaming it into place, so a power loss tears nothing. Default false. */
  fsync?: boolean;
  /** Largest row (chunk-row, or shard-row) held in memory, in bytes. Default 4 GiB. */
  maxRowBytes?: number;
  /** Convert only this part's share of the chunk-rows (an array job's task); parts share the store. */
  part?: Part;
  /** Skip rows an earlier run marked done; the store's options must equal these. Default false. */
  resume?: boolean;
}

type Optional = 'shard' | 'attributes' | 'concurrency' | 'part' | 'maxRowBytes';
export type ResolvedConvertOptions = Required<Omit<ConvertOptions, Optional>> & Pick<ConvertOptions, Optional>;

type Kind = 'vec3' | 'string' | 'int' | 'boolean' | 'number';

interface OptionSpec<K extends keyof ConvertOptions> {
  readonly name: K;
  readonly flag: string;
  readonly kind: Kind;
  readonly valueName?: string;
  readonly description: string;
  /** Turns a CLI string (or an API value) into the typed value, with a clear error. */
  readonly parse: (value: unknown) => NonNullable<ConvertOptions[K]>;
}

const int = (name: string, min: number) => (value: unknown): number => {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) {
    throw invalid(`${name} must be an integer ≥ ${min}. Got: ${String(value)}`);
  }
  return n;
};

const vec3 = (name: string) => (value: unknown): Vec3 =>
  checkVec3(name, typeof value === 'string' ? value.split(',').map((s) => (s.trim() === '' ? NaN : Number(s))) : value);

const bool = (value: unknown): boolean => {
  if (typeof value === 'boolean') return value;
  throw invalid(`expected true or false. Got: ${String(value)}`);
};

/** Parses a fill value: an integer (kept exact as a bigint beyond 2^53), a float, NaN, ±Infinity. */
export function parseFill(value: unknown): number | bigint {
  if (typeof value === 'number' || typeof value === 'bigint') return value;
  if (typeof value === 'string') {
    const s = value.trim();
    if (/^-?\d+$/.test(s)) {
      const big = BigInt(s);
      return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    }
    if (/^(-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?|NaN|-?Infinity)$/i.test(s)) return Number(s);
  }
  throw invalid(`fill must be a number (e.g. 0, 255, -1.5, NaN). Got: ${String(value)}`);
}

const UNITS: Record<string, number> = { '': 1, k: 1e3, kb: 1e3, kib: 2 ** 10, m: 1e6, mb: 1e6, mib: 2 ** 20, g: 1e9, gb: 1e9, gib: 2 ** 30, t: 1e12, tb: 1e12, tib: 2 ** 40 };

/** Parses a byte size: a number of bytes, or with a unit (`512MiB`, `12GiB`, `8G`, `1.5TB`). */
export function parseSize(value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  const match = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value) : null;
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  const bytes = match && unit ? Math.floor(Number(match[1]) * unit) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw invalid(`size must be a number of bytes or e.g. 512MiB, 12GiB. Got: ${String(value)}`);
  return bytes;
}

function spec<K extends keyof ConvertOptions>(s: OptionSpec<K>): OptionSpec<K> {
  return s;
}

/** Every option of `convert`, in the order `--help` lists them. */
export const CONVERT_OPTIONS = [
  spec({ name: 'shape', flag: 'shape', kind: 'vec3', valueName: 'X,Y,Z', description: 'volume shape, x fastest in the file (required)', parse: vec3('shape') }),
  spec({ name: 'dtype', flag: 'dtype', kind: 'string', valueName: 'TYPE', description: 'bool, int8, uint8, int16, uint16, int32, uint32, int64, uint64, float32, float64 (default uint8)', parse: parseDType }),
  spec({ name: 'chunk', flag: 'chunk', kind: 'vec3', valueName: 'X,Y,Z', description: 'chunk shape (default 64,64,64, clipped to the shape)', parse: vec3('chunk') }),
  spec({ name: 'shard', flag: 'shard', kind: 'vec3', valueName: 'X,Y,Z', description: 'shard shape, a multiple of the chunk (Zarr v3; default none)', parse: vec3('shard') }),
  spec({ name: 'shardIndex', flag: 'shard-index', kind: 'string', valueName: 'end|start', description: 'where each shard keeps its index (default end)', parse: (v) => { if (v !== 'start' && v !== 'end') throw invalid(`shard-index must be start or end. Got: ${String(v)}`); return v; } }),
  spec({ name: 'codec', flag: 'codec', kind: 'string', valueName: 'SPEC', description: 'raw | gzip[:level] | zstd[:level] | blosc[:cname[:clevel[:shuffle]]] (default zstd:3)', parse: (v) => { if (typeof v !== 'string') throw invalid(`codec must be a string such as zstd:3. Got: ${String(v)}`); parseCodec(v); return v; } }),
  spec({ name: 'zarrFormat', flag: 'zarr-format', kind: 'int', valueName: '3|2', description: 'Zarr format version (default 3)', parse: (v) => { const n = Number(v); if (n !== 2 && n !== 3) throw invalid(`zarr-format must be 2 or 3. Got: ${String(v)}`); return n; } }),
  spec({ name: 'inputOrder', flag: 'input-order', kind: 'string', valueName: 'F|C', description: 'input layout: F = x fastest (default), C = z fastest (numpy default)', parse: (v) => parseOrder(v, 'input-order') }),
  spec({ name: 'endian', flag: 'endian', kind: 'string', valueName: 'little|big', description: 'byte order of the input elements (default little)', parse: (v) => { if (v !== 'little' && v !== 'big') throw invalid(`endian must be little or big. Got: ${String(v)}`); return v; } }),
  spec({ name: 'header', flag: 'header', kind: 'int', valueName: 'BYTES', description: 'bytes to skip at the start of the input (default 0)', parse: int('header', 0) }),
  spec({ name: 'fill', flag: 'fill', kind: 'number', valueName: 'V', description: 'fill value of padding and absent chunks (default 0)', parse: parseFill }),
  spec({ name: 'writeEmptyChunks', flag: 'write-empty-chunks', kind: 'boolean', description: 'also write chunks that hold only the fill value', parse: bool }),
  spec({ name: 'concurrency', flag: 'concurrency', kind: 'int', valueName: 'N', description: 'chunks encoding/writing at once (default 4 × cores, fewer for big chunks)', parse: int('concurrency', 1) }),
  spec({ name: 'maxRowBytes', flag: 'max-row-memory', kind: 'string', valueName: 'SIZE', description: 'largest chunk-row (shard-row) held in memory, e.g. 12GiB (default 4GiB)', parse: parseSize }),
  spec({ name: 'fsync', flag: 'fsync', kind: 'boolean', description: 'flush each file to disk before renaming it into place (power-loss safe, slower)', parse: bool }),
  spec({ name: 'overwrite', flag: 'overwrite', kind: 'boolean', description: 'replace an existing Zarr store', parse: bool }),
  spec({ name: 'part', flag: 'part', kind: 'string', valueName: 'I/N', description: 'convert part I (0-based) of N; default: from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX', parse: (v) => (typeof v === 'string' ? parsePart(v) : checkPartValue(v)) }),
  spec({ name: 'resume', flag: 'resume', kind: 'boolean', description: 'skip rows an earlier run finished; rewrite the rest', parse: bool }),
] as const;

function checkPartValue(value: unknown): Part {
  const p = value as Partial<Part> | null;
  if (p === null || typeof p !== 'object' || p.index === undefined || p.count === undefined) {
    throw invalid(`part must be { index, count }. Got: ${String(value)}`);
  }
  return checkPart(p.index, p.count, p.source ?? 'part option');
}

export const DEFAULT_CHUNK: Vec3 = [64, 64, 64];

/** Applies defaults and checks every option; throws EINVALID naming the bad one. */
export function resolveConvertOptions(options: ConvertOptions): ResolvedConvertOptions {
  if (options === null || typeof options !== 'object') throw invalid('convert options must be an object with at least `shape`');
  if (options.shape === undefined) throw invalid('shape is required: pass --shape X,Y,Z (x fastest in the file)');
  const parsed: Record<string, unknown> = {};
  for (const s of CONVERT_OPTIONS) {
    const value = options[s.name];
    if (value !== undefined) parsed[s.name] = s.parse(value);
  }
  const shape = parsed.shape as Vec3;
  const chunk = (parsed.chunk as Vec3 | undefined) ??
    [Math.min(DEFAULT_CHUNK[0], shape[0]), Math.min(DEFAULT_CHUNK[1], shape[1]), Math.min(DEFAULT_CHUNK[2], shape[2])];
  const zarrFormat = (parsed.zarrFormat as 2 | 3 | undefined) ?? 3;
  const shard = parsed.shard === undefined ? undefined : checkShard(parsed.shard, chunk);
  if (parsed.shardIndex !== undefined && !shard) throw invalid('--shard-index needs --shard: drop it, or give a shard shape');
  if (shard && zarrFormat !== 3) throw invalid('sharding needs Zarr v3: drop --shard or use --zarr-format 3');
  return {
    shape,
    dtype: (parsed.dtype as DType | undefined) ?? 'uint8',
    chunk,
    shard,
    shardIndex: (parsed.shardIndex as IndexLocation | undefined) ?? 'end',
    codec: (parsed.codec as string | undefined) ?? DEFAULT_CODEC,
    zarrFormat,
    inputOrder: (parsed.inputOrder as Order | undefined) ?? 'F',
    endian: (parsed.endian as Endian | undefined) ?? 'little',
    header: (parsed.header as number | undefined) ?? 0,
    fill: (parsed.fill as number | bigint | undefined) ?? 0,
    writeEmptyChunks: (parsed.writeEmptyChunks as boolean | undefined) ?? false,
    ...(parsed.concurrency !== undefined ? { concurrency: parsed.concurrency as number } : {}),
    overwrite: (parsed.overwrite as boolean | undefined) ?? false,
    resume: (parsed.resume as boolean | undefined) ?? false,
    fsync: (parsed.fsync as boolean | undefined) ?? false,
    ...(parsed.maxRowBytes !== undefined ? { maxRowBytes: parsed.maxRowBytes as number } : {}),
    ...(parsed.part !== undefined ? { part: parsed.part as Part } : {}),
    attributes: options.attributes,
  };
}
