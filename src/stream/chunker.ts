/**
 * The streaming heart of slabchunk: raw Z-slabs in, one {@link ChunkRecord} per chunk out, holding one
 * chunk-row of slabs in memory whatever the volume's depth.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { constants as bufferConstants } from 'node:buffer';
import { copyBlock, fillElements } from '../core/copy.ts';
import { bytesPerElement, fillBytes, parseDType, type DType, type ElementSize } from '../core/dtype.ts';
import { invalid, SlabchunkError } from '../core/errors.ts';
import {
  checkShard, checkVec3, slabBytes, denseStrides, divides, formatShape, formatVec3, fortranIndex, gridShape, parseOrder, product, reverse,
  type Order, type Vec3,
} from '../core/geometry.ts';
import type { ChunkRecord } from './record.ts';

/** What to do where the chunk grid overhangs the volume. */
export type Edge = 'pad' | 'crop' | 'error';
export type Endian = 'little' | 'big';

/** Options of {@link Chunker}; {@link planChunker} checks them without allocating anything. */
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
   * file: z for F input, x for C input. Both ends on chunk-row boundaries (`z1` may be the volume's end);
   * emitted coords stay absolute. Default: the whole volume.
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
  /** Largest single Buffer the row is held in; larger rows take several. Default Node's limit (4 GiB). */
  maxBufferBytes?: number;
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
  /** The input as an F-layout volume: `shape`/`chunk`/`grid` as given for F input, reversed for C input. */
  readonly file: { readonly shape: Vec3; readonly chunk: Vec3; readonly grid: Vec3 };
  /** File slabs this stream carries. */
  readonly zRange: readonly [number, number];
  /** Shard shape in the caller's axes, when sharding. */
  readonly shard?: Vec3;
  /** Slabs per buffered row: the chunk depth, or the shard depth when sharding (file axes). */
  readonly rowDepth: number;
  /** Slabs per row buffer: the row depth, or fewer when a row is larger than the largest Buffer (then several). */
  readonly bandSlabs: number;
  /** Rows (chunk-rows, or shard-rows) `[first, end)` along the file's slowest axis that this stream carries. */
  readonly rows: readonly [number, number];
  readonly slabBytes: number;
  /** Capacity of the row buffer: the deepest row this stream carries. */
  readonly rowBytes: number;
  /** Exact number of input bytes this stream expects. */
  readonly inputBytes: number;
  readonly readableHighWaterMark: number;
}

const GiB = 2 ** 30;
const DEFAULT_MAX_ROW_BYTES = 4 * GiB;
const READABLE_BUDGET = 16 * 2 ** 20;

/** Checks every option and resolves the geometry; throws `SlabchunkError('EINVALID')` naming the problem and the fix. */
export function planChunker(options: ChunkerOptions): ChunkerPlan {
  if (options === null || typeof options !== 'object') throw invalid('Chunker options must be an object with shape, dtype and chunk');
  const shape = checkVec3('shape', options.shape, 1);
  const chunk = checkVec3('chunk', options.chunk, 1);
  const dtype = parseDType(options.dtype);
  const order = parseOrder(options.order ?? 'F', 'order');
  const inputOrder = parseOrder(options.inputOrder ?? 'F', 'inputOrder');
  const edge = options.edge ?? 'pad';
  if (edge !== 'pad' && edge !== 'crop' && edge !== 'error') {
    throw invalid(`edge must be 'pad', 'crop' or 'error'. Got: ${String(edge)}`);
  }
  const endian = options.endian ?? 'little';
  if (endian !== 'little' && endian !== 'big') throw invalid(`endian must be 'little' or 'big'. Got: ${String(endian)}`);
  const fill = fillBytes(dtype, options.fill ?? 0);
  const elementSize = bytesPerElement(dtype);

  if (edge === 'error' && !divides(shape, chunk)) {
    throw invalid(`chunk ${formatVec3(chunk)} does not divide shape ${formatVec3(shape)} and edge is 'error'; `
      + `use a chunk that divides the shape, or edge 'pad' or 'crop'`);
  }
  const total = product(shape) * elementSize;
  if (!Number.isSafeInteger(total)) throw invalid(`shape ${formatShape(shape)} of ${dtype} is too large (over 2^53 bytes)`);
  const maxBuffer = options.maxBufferBytes ?? bufferConstants.MAX_LENGTH;
  if (!Number.isSafeInteger(maxBuffer) || maxBuffer < 1 || maxBuffer > bufferConstants.MAX_LENGTH) {
    throw invalid(`maxBufferBytes must be an integer from 1 to ${bufferConstants.MAX_LENGTH}. Got: ${String(maxBuffer)}`);
  }
  const chunkBytes = product(chunk) * elementSize;
  if (chunkBytes > maxBuffer) {
    throw invalid(`a chunk of ${formatShape(chunk)} ${dtype} is ${chunkBytes} bytes, more than the largest Buffer (${maxBuffer}); use a smaller chunk`);
  }

  const fileShape = inputOrder === 'F' ? shape : reverse(shape);
  const fileChunk = inputOrder === 'F' ? chunk : reverse(chunk);
  const fileGrid = gridShape(fileShape, fileChunk);
  const depthAxis = inputOrder === 'F' ? 'z' : 'x';
  const shard = options.shard === undefined ? undefined : checkShard(options.shard, chunk);
  const rowName = shard ? 'shard-row' : 'chunk-row';
  const Z = fileShape[2];
  const cz = shard ? (inputOrder === 'F' ? shard : reverse(shard))[2] : fileChunk[2];

  const zRange = checkZRange(options.zRange, Z, cz, depthAxis, rowName);
  const rows: [number, number] = [Math.ceil(zRange[0] / cz), Math.ceil(zRange[1] / cz)];
  const slab = slabBytes(fileShape, elementSize);
  const rowBytes = slab * Math.min(cz, zRange[1] - zRange[0]);

  const maxRowBytes = options.maxRowBytes ?? DEFAULT_MAX_ROW_BYTES;
  if (typeof maxRowBytes !== 'number' || !Number.isSafeInteger(maxRowBytes) || maxRowBytes < 1) {
    throw invalid(`maxRowBytes must be a positive integer. Got: ${String(maxRowBytes)}`);
  }
  if (slab > maxBuffer) {
    throw invalid(`one ${depthAxis}-slab of ${fileShape[0]}×${fileShape[1]} ${dtype} is ${slab} bytes, more than the largest Buffer (${maxBuffer}); `
      + 'slabchunk holds whole slabs, so such a volume cannot be converted');
  }
  if (rowBytes > maxRowBytes) {
    // A shard depth must stay a multiple of the chunk depth, so the hint rounds down to one.
    const step = shard ? fileChunk[2] : 1;
    const fits = Math.floor(maxRowBytes / (slab * step)) * step;
    const fix = fits >= 1
      ? `use a ${shard ? 'shard' : 'chunk'} ${depthAxis}-size of at most ${fits}, or raise maxRowBytes (--max-row-memory) if the machine has the memory`
      : `even one slab (${slab} bytes) does not fit; raise maxRowBytes (--max-row-memory) to at least ${slab}`;
    throw invalid(`a ${rowName} of ${fileShape[0]}×${fileShape[1]}×${Math.min(cz, zRange[1] - zRange[0])} ${dtype} is ${rowBytes} bytes, `
      + `more than the row limit of ${maxRowBytes} bytes; ${fix}`);
  }
  // A row may exceed the largest Buffer: it is then held as bands of whole slabs, each one Buffer.
  const bandSlabs = Math.min(cz, Math.floor(maxBuffer / slab));

  const hwm = options.readableHighWaterMark ?? Math.max(1, Math.min(16, Math.floor(READABLE_BUDGET / chunkBytes)));
  if (typeof hwm !== 'number' || !Number.isSafeInteger(hwm) || hwm < 1) {
    throw invalid(`readableHighWaterMark must be a positive integer (chunks). Got: ${String(hwm)}`);
  }

  return {
    shape, dtype, chunk, order, edge, fill, inputOrder, endian, elementSize,
    grid: gridShape(shape, chunk),
    file: { shape: fileShape, chunk: fileChunk, grid: fileGrid },
    ...(shard ? { shard } : {}),
    rowDepth: cz, bandSlabs, zRange, rows, slabBytes: slab, rowBytes,
    inputBytes: slab * (zRange[1] - zRange[0]),
    readableHighWaterMark: hwm,
  };
}

function checkZRange(value: unknown, Z: number, cz: number, axis: string, rowName: string): readonly [number, number] {
  if (value === undefined) return [0, Z];
  if (!Array.isArray(value) || value.length !== 2 || !value.every((v) => Number.isSafeInteger(v) && v >= 0)) {
    throw invalid(`zRange must be two non-negative integers [z0, z1). Got: ${JSON.stringify(value)}`);
  }
  const [z0, z1] = value as [number, number];
  if (z0 > z1 || z1 > Z) throw invalid(`zRange [${z0}, ${z1}) must satisfy 0 ≤ z0 ≤ z1 ≤ ${Z} (the input's ${axis} extent)`);
  const boundary = (z: number) => `${Math.floor(z / cz) * cz} or ${Math.min(Z, Math.ceil(z / cz) * cz)}`;
  if (z0 % cz !== 0 && z0 !== Z) {
    throw invalid(`zRange start ${z0} is not on a ${rowName} boundary; use a multiple of the ${rowName === 'shard-row' ? 'shard' : 'chunk'} ${axis}-size ${cz} (e.g. ${boundary(z0)})`);
  }
  if (z1 % cz !== 0 && z1 !== Z) {
    throw invalid(`zRange end ${z1} is not on a ${rowName} boundary; use a multiple of the ${rowName === 'shard-row' ? 'shard' : 'chunk'} ${axis}-size ${cz} or ${Z} (e.g. ${boundary(z1)})`);
  }
  return [z0, z1];
}

/** One chunk to cut out of buffered slabs. */
export interface ChunkCut {
  /** Grid coordinates, Fortran index and real shape in the caller's axes (as the record carries them). */
  readonly coords: Vec3;
  readonly index: number;
  readonly shape: Vec3;
  /** First voxel and real extent in the file's F layout. */
  readonly start: Vec3;
  readonly size: Vec3;
}

/**
 * The chunks of file row `row` (a chunk-row, or a shard-row when sharding), in the order the Chunker emits
 * them: shards in Fortran order over the file's shard grid, each shard's chunks in Fortran order. Without
 * sharding a "shard" is one chunk, so this is Fortran order over the file's grid — the caller's Fortran order
 * for F input.
 */
export function rowCuts(plan: ChunkerPlan, row: number): ChunkCut[] {
  const { shape: fs, chunk: fc, grid: fg } = plan.file;
  const flip = plan.inputOrder === 'C';
  const fileShard = plan.shard ? (flip ? reverse(plan.shard) : plan.shard) : fc;
  const per: Vec3 = [fileShard[0] / fc[0], fileShard[1] / fc[1], fileShard[2] / fc[2]];
  const cuts: ChunkCut[] = [];
  const gz0 = row * per[2], gz1 = Math.min(fg[2], gz0 + per[2]);
  for (let sy = 0; sy * per[1] < fg[1]; sy++) {
    for (let sx = 0; sx * per[0] < fg[0]; sx++) {
      for (let gz = gz0; gz < gz1; gz++) {
        const z = gz * fc[2], dz = Math.min(fc[2], fs[2] - z);
        for (let gy = sy * per[1]; gy < Math.min(fg[1], (sy + 1) * per[1]); gy++) {
          const y = gy * fc[1], dy = Math.min(fc[1], fs[1] - y);
          for (let gx = sx * per[0]; gx < Math.min(fg[0], (sx + 1) * per[0]); gx++) {
            const x = gx * fc[0], dx = Math.min(fc[0], fs[0] - x);
            const fileCoords: Vec3 = [gx, gy, gz];
            const size: Vec3 = [dx, dy, dz];
            const coords = flip ? reverse(fileCoords) : fileCoords;
            cuts.push({
              coords, index: fortranIndex(coords, plan.grid), shape: flip ? reverse(size) : size, start: [x, y, z], size,
            });
          }
        }
      }
    }
  }
  return cuts;
}

/**
 * Copies chunk `cut` out of `bands`, F-layout buffers of whole file slabs (`plan.bandSlabs` each, the row's
 * first slab being `z0`), into a new Buffer of its own (safe to transfer to a worker) in the plan's chunk byte
 * order and edge mode.
 */
export function cutChunk(plan: ChunkerPlan, bands: readonly Uint8Array[], z0: number, cut: ChunkCut): ChunkRecord {
  const es = plan.elementSize;
  const dims = plan.edge === 'crop' ? cut.shape : plan.chunk;
  const callerStrides = denseStrides(dims, plan.order);
  // The destination is described in the file's axes, so a C input reverses the caller's strides.
  const strides = plan.inputOrder === 'C' ? reverse(callerStrides) : callerStrides;
  const count = product(dims);
  const data = Buffer.allocUnsafeSlow(count * es);
  const full = cut.shape[0] === dims[0] && cut.shape[1] === dims[1] && cut.shape[2] === dims[2];
  if (!full) fillElements(data, 0, count, plan.fill);
  const [X, Y] = plan.file.shape;
  const [x, y, z] = cut.start;
  const per = plan.bandSlabs;
  // One copy per band the chunk's slabs fall in: one in all unless the row is held in several bands.
  for (let at = z - z0, end = at + cut.size[2]; at < end;) {
    const band = Math.floor(at / per);
    const depth = Math.min(end, (band + 1) * per) - at;
    copyBlock(
      { data, offset: (at - (z - z0)) * strides[2] * es, strides },
      { data: bands[band]!, offset: (((at - band * per) * Y + y) * X + x) * es, strides: [1, X, X * Y] },
      [cut.size[0], cut.size[1], depth], es,
    );
    at += depth;
  }
  return { coords: cut.coords, index: cut.index, shape: cut.shape, data };
}

/**
 * A Transform from raw volume bytes (pieces of any size) to {@link ChunkRecord}s: Fortran grid order for F input,
 * Fortran order over the file's grid for C input (the caller's z fastest), shard by shard with `shard`.
 *
 * Memory: one row buffer of {@link ChunkerPlan.rowBytes}, the readable side's chunks and the one input piece it
 * is working on. Extraction stops when `push()` returns false and resumes in `_read`; the write callback of a
 * piece is held until every chunk that piece completed has been pushed, so upstream pauses too.
 *
 * @example
 * fs.createReadStream('brain.raw').pipe(new Chunker({ shape: [2048, 2048, 1024], dtype: 'uint16', chunk: [64, 64, 64] }))
 */
export class Chunker extends Transform {
  readonly plan: ChunkerPlan;
  /** The row buffer: one Buffer, or bands of `plan.bandSlabs` slabs when the row is larger than a Buffer may be. */
  #row: Buffer[] | null = null;
  #gz: number;
  #rowLen = 0;
  #filled = 0;
  #received = 0;
  #cuts: ChunkCut[] | null = null;
  #next = 0;
  #piece: Uint8Array | null = null;
  #pieceOff = 0;
  #callback: TransformCallback | null = null;
  #full = false;
  #pumping = false;

  constructor(options: ChunkerOptions) {
    const plan = planChunker(options);
    // A writable high-water mark of one byte: write() returns false after every piece, so a pipe pauses
    // instead of queueing pieces here, and the chunker holds one input piece at a time.
    super({ readableObjectMode: true, readableHighWaterMark: plan.readableHighWaterMark, writableHighWaterMark: 1 });
    this.plan = plan;
    this.#gz = plan.rows[0];
    this.#rowLen = this.#lengthOfRow(this.#gz);
  }

  override _transform(piece: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const { inputBytes } = this.plan;
    if (this.#received + piece.length > inputBytes) {
      callback(new SlabchunkError('ESIZE',
        `input holds more than ${inputBytes} bytes (at least ${this.#received + piece.length}); ${this.#needs()}; `
        + 'check the shape, dtype and header size', { expected: inputBytes, actual: this.#received + piece.length }));
      return;
    }
    if (this.#row === null) {
      try {
        const band = this.plan.bandSlabs * this.plan.slabBytes;
        this.#row = Array.from({ length: Math.ceil(this.plan.rowBytes / band) },
          (_, i) => Buffer.allocUnsafeSlow(Math.min(band, this.plan.rowBytes - i * band)));
      } catch (cause) {
        callback(new SlabchunkError('EINVALID', `cannot allocate a row buffer of ${this.plan.rowBytes} bytes; use a smaller chunk depth`, { cause }));
        return;
      }
    }
    this.#received += piece.length;
    this.#piece = piece;
    this.#pieceOff = 0;
    this.#callback = callback;
    this.#pump();
  }

  override _read(size: number): void {
    this.#full = false;
    if (this.#pumping) return;
    if (this.#callback !== null) this.#pump();
    // Node's Transform holds the write callback we gave while the readable side was full; this releases it.
    else super._read(size);
  }

  override _flush(callback: TransformCallback): void {
    const { inputBytes } = this.plan;
    if (this.#received < inputBytes) {
      callback(new SlabchunkError('ESIZE', `input ended after ${this.#received} bytes; ${this.#needs()}`,
        { expected: inputBytes, actual: this.#received }));
      return;
    }
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#row = null;
    this.#cuts = null;
    this.#piece = null;
    this.#callback = null;
    callback(error);
  }

  #needs(): string {
    const { shape, dtype, inputBytes, zRange, file } = this.plan;
    const whole = zRange[0] === 0 && zRange[1] === file.shape[2];
    const what = whole ? `shape ${formatShape(shape)}` : `slabs [${zRange[0]}, ${zRange[1]}) of shape ${formatShape(shape)}`;
    return `${what} of ${dtype} needs ${inputBytes} bytes`;
  }

  #lengthOfRow(gz: number): number {
    const depth = this.plan.rowDepth;
    const z0 = gz * depth;
    return Math.max(0, Math.min(depth, this.plan.zRange[1] - z0)) * this.plan.slabBytes;
  }

  /** Moves the current piece into the row buffer and cuts completed rows; calls back once the piece is used up. */
  #pump(): void {
    this.#pumping = true;
    let done = false;
    try {
      done = this.#advance();
    } catch (error) {
      // A bug in extraction must still end the stream through its error path, never escape from write().
      const callback = this.#callback;
      this.#callback = null;
      this.#piece = null;
      if (callback) callback(error as Error);
      else this.destroy(error as Error);
    } finally {
      this.#pumping = false;
    }
    if (done) {
      const callback = this.#callback;
      this.#piece = null;
      this.#callback = null;
      callback?.();
    }
  }

  /** True when the piece is used up and its rows are all pushed; false when the readable side filled up first. */
  #advance(): boolean {
    const piece = this.#piece;
    for (;;) {
      // A consumer may destroy us from inside push(): the row is gone then, and so is the work.
      if (this.destroyed) return false;
      if (this.#cuts !== null && !this.#emit()) return false;
      if (piece === null || this.#pieceOff === piece.length) return true;
      const bandBytes = this.plan.bandSlabs * this.plan.slabBytes;
      const band = Math.floor(this.#filled / bandBytes);
      const into = this.#filled - band * bandBytes;
      const n = Math.min(this.#rowLen - this.#filled, bandBytes - into, piece.length - this.#pieceOff);
      (this.#row as Buffer[])[band]!.set(piece.subarray(this.#pieceOff, this.#pieceOff + n), into);
      this.#filled += n;
      this.#pieceOff += n;
      if (this.#filled === this.#rowLen) this.#startRow();
    }
  }

  #startRow(): void {
    if (this.plan.endian === 'big') {
      let left = this.#rowLen;
      for (const band of this.#row as Buffer[]) {
        swapInPlace(band.subarray(0, Math.min(left, band.length)), this.plan.elementSize);
        left -= band.length;
        if (left <= 0) break;
      }
    }
    this.#cuts = rowCuts(this.plan, this.#gz);
    this.#next = 0;
  }

  /** Pushes the current row's chunks; false when the readable side filled up first. */
  #emit(): boolean {
    const cuts = this.#cuts as ChunkCut[];
    const row = this.#row as Buffer[];
    const z0 = this.#gz * this.plan.rowDepth;
    while (this.#next < cuts.length) {
      if (this.#full) return false;
      const record = cutChunk(this.plan, row, z0, cuts[this.#next]!);
      this.#next++;
      if (!this.push(record)) this.#full = true;
    }
    this.#cuts = null;
    this.#gz++;
    this.#filled = 0;
    this.#rowLen = this.#lengthOfRow(this.#gz);
    return true;
  }
}

function swapInPlace(bytes: Buffer, size: ElementSize): void {
  if (size === 2) bytes.swap16();
  else if (size === 4) bytes.swap32();
  else if (size === 8) bytes.swap64();
}
