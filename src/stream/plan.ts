/**
 * Planning a Chunker: every option checked and the geometry resolved before anything is allocated, so errors
 * name the problem and the fix while nothing has moved yet. Pure.
 */
import { constants as bufferConstants } from 'node:buffer';
import { bytesPerElement, fillBytes, type DType, type ElementSize } from '../core/dtype.ts';
import { invalid, SlabchunkError } from '../core/errors.ts';
import { checkShard, divides, formatShape, formatVec3, parseOrder, product, slabBytes, type Order, type Vec3 } from '../core/geometry.ts';
import { storedLayout, type FileFrame, type StoredLayout } from '../core/layout.ts';
import { checkChunkBytes, checkOption, resolveOption, type Endian, type ResolvedConvertOptions } from '../ops/options.ts';

/** What to do where the chunk grid overhangs the volume. */
export type Edge = 'pad' | 'crop' | 'error';
export type { Endian };

/** Options of the Chunker; {@link planChunker} checks them without allocating anything. */
export interface ChunkerOptions {
  /** Volume shape `[X, Y, Z]`. */
  shape: Vec3;
  dtype: DType;
  /** Chunk shape `[cx, cy, cz]`. */
  chunk: Vec3;
  /** Byte order inside each emitted chunk, in the caller's `[X, Y, Z]` axes. Default `'F'`. */
  order?: Order;
  /** `'pad'` (default): full-size edge chunks padded with `fill`; `'crop'`: only the real voxels; `'error'`: chunk must divide shape. */
  edge?: Edge;
  /** Fill value of padded voxels. Default 0. */
  fill?: number | bigint;
  /** Layout of the input bytes: `'F'` (default, x fastest) or `'C'` (z fastest; a file slab is then an x-slice). */
  inputOrder?: Order;
  /** Byte order of the input's elements. Default `'little'`; chunks always come out little-endian. */
  endian?: Endian;
  /**
   * This stream carries only file slabs `[z0, z1)` (for partitioned jobs). Slabs are counted as they lie in the
   * file: z for F input, x for C input. Both ends on row boundaries (`z1` may be the volume's end); emitted
   * coords stay absolute. Default: the whole volume.
   */
  zRange?: readonly [number, number];
  /**
   * Shard shape `[sx, sy, sz]`, a multiple of `chunk` on every axis: the Chunker then buffers one shard-row
   * (the slabs of one shard z-row) and emits the chunks shard by shard — shards in Fortran order, each shard's
   * chunks in Fortran order — so a sink can finish one shard after another. Default: no sharding.
   */
  shard?: Vec3;
  /** Largest row allowed, in bytes. Default 4 GiB. Rows past the largest Buffer (4 GiB) are held in several. */
  maxRowBytes?: number;
  /**
   * Chunks the readable side buffers before extraction pauses. Default: as many as fit in 16 MiB, from 1 to 16
   * (Node's object-mode default), so large chunks do not multiply the memory bound.
   */
  readableHighWaterMark?: number;
}

/** The checked, resolved geometry of a Chunker. Axes are the caller's `[X, Y, Z]` unless named `file`. */
export interface ChunkerPlan {
  readonly shape: Vec3;
  readonly dtype: DType;
  readonly chunk: Vec3;
  readonly order: Order;
  readonly edge: Edge;
  /** One element of the fill value, little-endian. */
  readonly fill: Uint8Array;
  readonly inputOrder: Order;
  readonly endian: Endian;
  readonly elementSize: ElementSize;
  /** Chunk grid `ceil(shape / chunk)`. */
  readonly grid: Vec3;
  /** The stored layout: the file frame, rows and the order chunks leave in. */
  readonly layout: StoredLayout;
  /** The input as an F-layout volume (the layout's file frame). */
  readonly file: FileFrame;
  /** File slabs this stream carries. */
  readonly zRange: readonly [number, number];
  /** Shard shape in the caller's axes, when sharding. */
  readonly shard?: Vec3;
  /** Slabs per buffered row: the chunk depth, or the shard depth when sharding (file axes). */
  readonly rowDepth: number;
  /** Rows (chunk-rows, or shard-rows) `[first, end)` along the file's slowest axis that this stream carries. */
  readonly rows: readonly [number, number];
  readonly slabBytes: number;
  /** Capacity of the row buffer: the deepest row this stream carries. */
  readonly rowBytes: number;
  /** Exact number of input bytes this stream expects. */
  readonly inputBytes: number;
  readonly readableHighWaterMark: number;
}

/** The options every plan resolves to, before its geometry is worked out. */
interface ResolvedChunkerOptions {
  readonly shape: Vec3;
  readonly dtype: DType;
  readonly chunk: Vec3;
  readonly order: Order;
  readonly edge: Edge;
  readonly fill: number | bigint;
  readonly inputOrder: Order;
  readonly endian: Endian;
  readonly shard: Vec3 | undefined;
  readonly maxRowBytes: number;
  readonly zRange: unknown;
  readonly readableHighWaterMark: number | undefined;
  /** The layout, when the caller already built it for these options. */
  readonly layout?: StoredLayout;
}

/** The largest Buffer: a slab must fit in one. */
const MAX_BUFFER = bufferConstants.MAX_LENGTH;
/** Bytes of chunks the readable side holds by default. */
const READABLE_BUDGET = 16 * 2 ** 20;

const PLANS = new WeakSet<ChunkerPlan>();

/** True for plans {@link planChunker} (or convert) made: the Chunker takes them as they are. */
export function isChunkerPlan(value: object): value is ChunkerPlan {
  return PLANS.has(value as ChunkerPlan);
}

/** Checks every option and resolves the geometry; throws `SlabchunkError('EINVALID')` naming the problem and the fix. */
export function planChunker(options: ChunkerOptions): ChunkerPlan {
  if (options === null || typeof options !== 'object') throw invalid('Chunker options must be an object with shape, dtype and chunk');
  const shape = checkOption('shape', options.shape);
  const chunk = checkOption('chunk', options.chunk);
  const dtype = checkOption('dtype', options.dtype);
  const order = parseOrder(options.order ?? 'F', 'order');
  const inputOrder = resolveOption('inputOrder', options.inputOrder, {}, 'inputOrder')!;
  const edge = options.edge ?? 'pad';
  if (edge !== 'pad' && edge !== 'crop' && edge !== 'error') throw invalid(`edge must be 'pad', 'crop' or 'error'. Got: ${String(edge)}`);
  return buildPlan({
    shape, dtype, chunk, order, edge, inputOrder,
    endian: resolveOption('endian', options.endian, {}, 'endian')!,
    fill: resolveOption('fill', options.fill, {}, 'fill')!,
    shard: options.shard === undefined ? undefined : checkShard(checkOption('shard', options.shard), chunk),
    maxRowBytes: resolveOption('maxRowBytes', options.maxRowBytes, {}, 'maxRowBytes')!,
    zRange: options.zRange,
    readableHighWaterMark: options.readableHighWaterMark,
  });
}

/**
 * The plan of `convert`'s Chunkers, projected from its resolved options (nothing parsed again): chunks in the
 * input's own order are C-order chunks of the stored axes, so no transposition; edges padded.
 */
export function chunkerPlanOf(o: ResolvedConvertOptions, layout: StoredLayout, zRange?: readonly [number, number]): ChunkerPlan {
  return buildPlan({
    shape: o.shape, dtype: o.dtype, chunk: o.chunk, order: o.inputOrder, edge: 'pad', fill: o.fill, inputOrder: o.inputOrder,
    endian: o.endian, shard: o.shard, maxRowBytes: o.maxRowBytes, zRange, readableHighWaterMark: undefined, layout,
  });
}

function buildPlan(o: ResolvedChunkerOptions): ChunkerPlan {
  const { shape, chunk, dtype, shard, inputOrder } = o;
  const fill = fillBytes(dtype, o.fill);
  const elementSize = bytesPerElement(dtype);
  if (o.edge === 'error' && !divides(shape, chunk)) {
    throw invalid(`chunk ${formatVec3(chunk)} does not divide shape ${formatVec3(shape)} and edge is 'error'; `
      + `use a chunk that divides the shape, or edge 'pad' or 'crop'`);
  }
  if (!Number.isSafeInteger(product(shape) * elementSize)) throw invalid(`shape ${formatShape(shape)} of ${dtype} is too large (over 2^53 bytes)`);
  checkChunkBytes(chunk, dtype);
  const chunkBytes = product(chunk) * elementSize;
  const layout = o.layout ?? storedLayout({ shape, chunk, shard, inputOrder });
  const { file, slabAxis, rowDepth } = layout;
  const rowName = shard ? 'shard-row' : 'chunk-row';
  const zRange = checkZRange(o.zRange, file.shape[2], rowDepth, slabAxis, rowName);
  const slab = slabBytes(file.shape, elementSize);
  const depth = Math.min(rowDepth, zRange[1] - zRange[0]);
  const rowBytes = slab * depth;
  if (slab > MAX_BUFFER) {
    throw invalid(`one ${slabAxis}-slab of ${file.shape[0]}×${file.shape[1]} ${dtype} is ${slab} bytes, more than the largest Buffer (${MAX_BUFFER}); `
      + 'slabchunk holds whole slabs, so such a volume cannot be converted');
  }
  if (rowBytes > o.maxRowBytes) {
    // A shard depth must stay a multiple of the chunk depth, so the hint rounds down to one.
    const step = shard ? file.chunk[2] : 1;
    const fits = Math.floor(o.maxRowBytes / (slab * step)) * step;
    const fix = fits >= 1
      ? `use a ${shard ? 'shard' : 'chunk'} ${slabAxis}-size of at most ${fits}, or raise maxRowBytes (--max-row-memory) if the machine has the memory`
      : `even one slab (${slab} bytes) does not fit; raise maxRowBytes (--max-row-memory) to at least ${slab}`;
    throw invalid(`a ${rowName} of ${file.shape[0]}×${file.shape[1]}×${depth} ${dtype} is ${rowBytes} bytes, `
      + `more than the row limit of ${o.maxRowBytes} bytes; ${fix}`);
  }
  const hwm = o.readableHighWaterMark ?? Math.max(1, Math.min(16, Math.floor(READABLE_BUDGET / chunkBytes)));
  if (typeof hwm !== 'number' || !Number.isSafeInteger(hwm) || hwm < 1) {
    throw invalid(`readableHighWaterMark must be a positive integer (chunks). Got: ${String(hwm)}`);
  }
  const plan: ChunkerPlan = Object.freeze({
    shape, dtype, chunk, order: o.order, edge: o.edge, fill, inputOrder, endian: o.endian, elementSize,
    grid: layout.grid, layout, file,
    ...(shard ? { shard } : {}),
    rowDepth, zRange,
    rows: [Math.ceil(zRange[0] / rowDepth), Math.ceil(zRange[1] / rowDepth)] as const,
    slabBytes: slab, rowBytes,
    inputBytes: slab * (zRange[1] - zRange[0]),
    readableHighWaterMark: hwm,
  });
  PLANS.add(plan);
  return plan;
}

function checkZRange(value: unknown, Z: number, depth: number, axis: string, rowName: string): readonly [number, number] {
  if (value === undefined) return [0, Z];
  if (!Array.isArray(value) || value.length !== 2 || !value.every((v) => Number.isSafeInteger(v) && v >= 0)) {
    throw invalid(`zRange must be two non-negative integers [z0, z1). Got: ${JSON.stringify(value)}`);
  }
  const [z0, z1] = value as [number, number];
  if (z0 > z1 || z1 > Z) throw invalid(`zRange [${z0}, ${z1}) must satisfy 0 ≤ z0 ≤ z1 ≤ ${Z} (the input's ${axis} extent)`);
  const unit = `${rowName === 'shard-row' ? 'shard' : 'chunk'} ${axis}-size ${depth}`;
  const boundary = (z: number) => `${Math.floor(z / depth) * depth} or ${Math.min(Z, Math.ceil(z / depth) * depth)}`;
  if (z0 % depth !== 0 && z0 !== Z) {
    throw invalid(`zRange start ${z0} is not on a ${rowName} boundary; use a multiple of the ${unit} (e.g. ${boundary(z0)})`);
  }
  if (z1 % depth !== 0 && z1 !== Z) {
    throw invalid(`zRange end ${z1} is not on a ${rowName} boundary; use a multiple of the ${unit} or ${Z} (e.g. ${boundary(z1)})`);
  }
  return [z0, z1];
}

/**
 * ESIZE for a stream that carried `received` bytes where the plan needs exactly `inputBytes`: it ended early
 * (`received` short) or holds more (`received` past the end, at least).
 */
export function inputSizeError(plan: ChunkerPlan, received: number): SlabchunkError {
  const { shape, dtype, inputBytes, zRange, file } = plan;
  const whole = zRange[0] === 0 && zRange[1] === file.shape[2];
  const what = whole ? `shape ${formatShape(shape)}` : `slabs [${zRange[0]}, ${zRange[1]}) of shape ${formatShape(shape)}`;
  const needs = `${what} of ${dtype} needs ${inputBytes} bytes`;
  const sizes = { expected: inputBytes, actual: received };
  if (received < inputBytes) return new SlabchunkError('ESIZE', `input ended after ${received} bytes; ${needs}`, sizes);
  return new SlabchunkError('ESIZE', `input holds more than ${inputBytes} bytes (at least ${received}); ${needs}; check the shape, dtype and header size`, sizes);
}
