/**
 * The stored layout: the one mapping between the caller's axes and the store (DESIGN.md). Three frames:
 * - **caller**: `[x, y, z]` as given — shape, chunk, shard, and the coords a ChunkRecord carries;
 * - **file**: the input seen as an F-layout volume whose slabs run along axis 2 — the caller's axes for F input,
 *   reversed for C input (whose slabs are x-slices);
 * - **stored**: Zarr's axes, slowest first — always the file's axes reversed, so an F-order chunk cut from the file
 *   is a C-order Zarr chunk with no transposition.
 * Every axis reversal and every piece of shard arithmetic lives here. Pure; no I/O.
 */
import { invalid } from './errors.ts';
import { fortranIndex, gridShape, product, type Order, type Vec3 } from './geometry.ts';

export type ZarrFormat = 2 | 3;
export type AxisNames = readonly [string, string, string];

/** What a layout is built from (caller axes). */
export interface LayoutSpec {
  readonly shape: Vec3;
  readonly chunk: Vec3;
  /** Shard shape, a multiple of `chunk`; absent when unsharded. */
  readonly shard?: Vec3 | undefined;
  readonly inputOrder: Order;
}

/** The input as an F-layout volume: slabs along axis 2, rows of `shard[2]` slabs. */
export interface FileFrame {
  readonly shape: Vec3;
  readonly chunk: Vec3;
  /** Shard shape; the chunk itself when unsharded (every file then holds one chunk). */
  readonly shard: Vec3;
  /** Chunk grid. */
  readonly grid: Vec3;
  /** Chunks per shard along each axis (1s when unsharded). */
  readonly perShard: Vec3;
  /** Grid of files (shards, or chunks when unsharded). */
  readonly fileGrid: Vec3;
}

/** The array as Zarr sees it: axes slowest first. */
export interface StoredFrame {
  readonly shape: Vec3;
  /** Chunk shape (the inner chunk when sharded). */
  readonly chunks: Vec3;
  readonly shard?: Vec3;
  readonly dimensionNames: AxisNames;
}

/** One chunk to cut out of a buffered row. */
export interface ChunkCut {
  /** Grid coordinates, Fortran grid index and real (edge-clipped) shape in the caller's axes: what a record carries. */
  readonly coords: Vec3;
  readonly index: number;
  readonly shape: Vec3;
  /** First voxel and real extent in the file frame. */
  readonly start: Vec3;
  readonly size: Vec3;
}

export interface StoredLayout extends LayoutSpec {
  /** Chunk grid in the caller's axes. */
  readonly grid: Vec3;
  readonly file: FileFrame;
  readonly stored: StoredFrame;
  /** The caller's name of the file's slab axis: `z` for F input, `x` for C input. */
  readonly slabAxis: 'z' | 'x';
  /** Slabs per row: the chunk depth, or the shard depth when sharding. */
  readonly rowDepth: number;
  /** Rows (chunk-rows, or shard-rows) along the slab axis. */
  readonly rowsTotal: number;
  /** File slabs `[z0, z1)` of rows `[first, end)`, clipped to the volume. */
  slabsOf(first: number, end: number): readonly [number, number];
  /** Files (chunks, or shards) per row. */
  readonly filesPerRow: number;
  /** Chunks a whole shard holds (1 when unsharded). */
  readonly chunksPerShard: number;
  /** A caller vector (coords, shape or strides) in the file frame, and back: the same swap both ways. */
  toFile(v: Vec3): Vec3;
  /** Caller coords (or a shape) in stored axes, slowest first. */
  toStored(v: Vec3): Vec3;
  /** Stored coords (or a shape) in the caller's axes. */
  fromStored(v: Vec3): Vec3;
  /** Caller grid coords of the file holding chunk `coords`: its shard when sharding, else the chunk itself. */
  fileOf(coords: Vec3): Vec3;
  /** The store key of the file at caller grid coords `file` (a chunk, or a shard when sharding). */
  key(file: Vec3, format: ZarrFormat): string;
  /** Position of chunk `coords` in its shard's index: C order over the stored inner grid. */
  slot(coords: Vec3): number;
  /** Inner chunks of shard `file` that lie inside the grid (fewer than {@link chunksPerShard} at the far edges). */
  chunksIn(file: Vec3): number;
  /** The row of the file at caller grid coords `file`. */
  rowOf(file: Vec3): number;
  /** A chunk's place for messages: its key, and with sharding its shard's key and the inner chunk (stored axes). */
  describe(coords: Vec3, format: ZarrFormat): string;
  /**
   * The chunks of `row` in emission order: files in Fortran order over the file grid, each file's chunks in Fortran
   * order (without sharding, Fortran order over the file's grid — the caller's Fortran order for F input).
   */
  rowCuts(row: number): ChunkCut[];
}

function reverse(v: Vec3): Vec3 {
  return [v[2], v[1], v[0]];
}

const div = (a: Vec3, b: Vec3): Vec3 => [a[0] / b[0], a[1] / b[1], a[2] / b[2]];
const floorDiv = (a: Vec3, b: Vec3): Vec3 => [Math.floor(a[0] / b[0]), Math.floor(a[1] / b[1]), Math.floor(a[2] / b[2])];

/** Builds the layout. The shard must already be checked to be a multiple of the chunk. */
export function storedLayout(spec: LayoutSpec): StoredLayout {
  const { shape, chunk, shard, inputOrder } = spec;
  const flip = inputOrder === 'C';
  const toFile = (v: Vec3): Vec3 => (flip ? reverse(v) : v);
  const fileShape = toFile(shape);
  const fileChunk = toFile(chunk);
  const fileShard = shard ? toFile(shard) : fileChunk;
  const grid = gridShape(shape, chunk);
  const fileGrid = gridShape(fileShape, fileChunk);
  const perShard = div(fileShard, fileChunk);
  if (!perShard.every(Number.isInteger)) throw invalid(`shard ${shard?.join(',')} is not a multiple of the chunk ${chunk.join(',')}`);
  const filesGrid = gridShape(fileGrid, perShard);
  const file: FileFrame = { shape: fileShape, chunk: fileChunk, shard: fileShard, grid: fileGrid, perShard, fileGrid: filesGrid };
  const stored: StoredFrame = {
    shape: reverse(fileShape),
    chunks: reverse(fileChunk),
    ...(shard ? { shard: reverse(fileShard) } : {}),
    dimensionNames: flip ? ['x', 'y', 'z'] : ['z', 'y', 'x'],
  };
  const fileOfFile = (f: Vec3): Vec3 => floorDiv(f, perShard);
  const key = (coords: Vec3, format: ZarrFormat): string => {
    const [a, b, c] = reverse(toFile(coords));
    return format === 3 ? `c/${a}/${b}/${c}` : `${a}/${b}/${c}`;
  };
  const inner = (coords: Vec3): Vec3 => {
    const f = toFile(coords);
    const s = fileOfFile(f);
    return [f[0] - s[0] * perShard[0], f[1] - s[1] * perShard[1], f[2] - s[2] * perShard[2]];
  };
  return {
    shape, chunk, shard, inputOrder, grid, file, stored,
    slabAxis: flip ? 'x' : 'z',
    rowDepth: fileShard[2],
    rowsTotal: filesGrid[2],
    slabsOf: (first, end) => [Math.min(first * fileShard[2], fileShape[2]), Math.min(end * fileShard[2], fileShape[2])],
    filesPerRow: filesGrid[0] * filesGrid[1],
    chunksPerShard: product(perShard),
    toFile,
    toStored: (v) => reverse(toFile(v)),
    fromStored: (v) => toFile(reverse(v)),
    fileOf: (coords) => toFile(fileOfFile(toFile(coords))),
    key,
    slot: (coords) => {
      const i = inner(coords);
      // F order over the file's inner grid is C order over the stored one.
      return i[0] + perShard[0] * (i[1] + perShard[1] * i[2]);
    },
    chunksIn: (fileCoords) => {
      const s = toFile(fileCoords);
      let n = 1;
      for (let a = 0; a < 3; a++) n *= Math.min(perShard[a]!, fileGrid[a]! - s[a]! * perShard[a]!);
      return n;
    },
    rowOf: (fileCoords) => toFile(fileCoords)[2],
    describe: (coords, format) => {
      if (!shard) return key(coords, format);
      return `${key(toFile(fileOfFile(toFile(coords))), format)} inner ${reverse(inner(coords)).join('/')}`;
    },
    rowCuts: (row) => cutsOfRow(file, grid, flip, row),
  };
}

function cutsOfRow(file: FileFrame, grid: Vec3, flip: boolean, row: number): ChunkCut[] {
  const { shape: fs, chunk: fc, grid: fg, perShard: per } = file;
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
            const size: Vec3 = [dx, dy, dz];
            const coords: Vec3 = flip ? [gz, gy, gx] : [gx, gy, gz];
            cuts.push({ coords, index: fortranIndex(coords, grid), shape: flip ? reverse(size) : size, start: [x, y, z], size });
          }
        }
      }
    }
  }
  return cuts;
}

/** What a Zarr array's metadata says, axes slowest first. */
export interface StoredSpec {
  readonly shape: Vec3;
  readonly chunks: Vec3;
  readonly shard?: Vec3 | undefined;
  readonly dimensionNames?: readonly string[] | undefined;
}

/**
 * The layout of an existing array. Its dimension names tell the input order slabchunk wrote it from: `x, y, z` is
 * a C input; anything else (`z, y, x`, other names, none) is read as F, the stored axes reversed.
 */
export function layoutOfStored(spec: StoredSpec): StoredLayout {
  const inputOrder: Order = spec.dimensionNames?.join(',') === 'x,y,z' ? 'C' : 'F';
  const toCaller = (v: Vec3): Vec3 => (inputOrder === 'F' ? reverse(v) : v);
  return storedLayout({
    shape: toCaller(spec.shape),
    chunk: toCaller(spec.chunks),
    ...(spec.shard ? { shard: toCaller(spec.shard) } : {}),
    inputOrder,
  });
}
