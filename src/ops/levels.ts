/**
 * The arrays a conversion writes — one bare array, or the levels of an OME-Zarr pyramid — and which rows of each a
 * run makes. Pure: the engine, `convert`, `finish` and the partitioning share these rules.
 */
import { SlabchunkError } from '../core/errors.ts';
import type { Vec3 } from '../core/geometry.ts';
import { storedLayout, type StoredLayout } from '../core/layout.ts';
import { childRows, parentRow, planPyramid, type LevelRows } from '../core/pyramid.ts';
import type { ResolvedConvertOptions } from './options.ts';
import { partRows } from './partition.ts';

/** One array of the store, in the caller's axes. Structured-cloneable: workers get it with the job. */
export interface LevelSpec {
  readonly level: number;
  /** The array's folder in the store: `''` for a bare array (the store is the array), else the level number. */
  readonly path: string;
  readonly shape: Vec3;
  readonly chunk: Vec3;
  readonly shard?: Vec3;
  /** Reduction from the level above, 2 or 1 per axis (`[1, 1, 1]` for level 0). */
  readonly factor: Vec3;
  /** Voxel size in the pyramid's unit. */
  readonly voxelSize: Vec3;
}

/** The store's arrays: level 0 alone for a bare array, or the pyramid's levels with `--ome`; and a note when fewer levels than asked were made. */
export function levelSpecs(o: ResolvedConvertOptions): { levels: LevelSpec[]; note?: string } {
  if (!o.ome) return { levels: [{ level: 0, path: '', shape: o.shape, chunk: o.chunk, ...(o.shard ? { shard: o.shard } : {}), factor: [1, 1, 1], voxelSize: o.voxelSize }] };
  const plan = planPyramid({ shape: o.shape, chunk: o.chunk, ...(o.shard ? { shard: o.shard } : {}), voxelSize: o.voxelSize, levels: o.levels ?? 'auto' });
  const levels = plan.levels.map((l, level) => ({ level, path: String(level), shape: l.shape, chunk: l.chunk, ...(l.shard ? { shard: l.shard } : {}), factor: l.factor, voxelSize: l.voxelSize }));
  return plan.note ? { levels, note: plan.note } : { levels };
}

/** The options of level `spec`'s array: its shape and chunking; user attributes go on a pyramid's group, not its levels. */
export function levelOptions(o: ResolvedConvertOptions, spec: LevelSpec): ResolvedConvertOptions {
  const { shard: _shard, attributes, ...rest } = o;
  return {
    ...rest, shape: spec.shape, chunk: spec.chunk, ...(spec.shard ? { shard: spec.shard } : {}),
    ...(spec.path === '' && attributes ? { attributes } : {}),
  };
}

/** A level's rows as slab ranges along the file's slab axis. */
export function rowsOf(layout: StoredLayout, spec: LevelSpec): LevelRows {
  const fz = layout.toFile(spec.factor)[2] as 1 | 2;
  return { slabs: layout.file.shape[2], depth: layout.rowDepth, fz };
}

/** Every level's layout and rows. */
export function levelLayouts(o: ResolvedConvertOptions, levels: readonly LevelSpec[]): { layout: StoredLayout; rows: LevelRows }[] {
  return levels.map((spec) => {
    const layout = storedLayout(levelOptions(o, spec));
    return { layout, rows: rowsOf(layout, spec) };
  });
}

/**
 * The rows of each level above `from` that a run fed rows `fed` of level `from` makes: a row not `done` whose
 * every row of the level above is fed (or made) in the same run. Undefined for levels up to `from`.
 */
export function rowsToMake(rows: readonly LevelRows[], from: number, fed: Iterable<number>, done: readonly ReadonlySet<number>[]): (Set<number> | undefined)[] {
  const make: (Set<number> | undefined)[] = rows.map(() => undefined);
  let available = new Set(fed);
  for (let l = from + 1; l < rows.length; l++) {
    const made = new Set<number>();
    for (const r of available) {
      const p = parentRow(rows[l - 1]!, rows[l]!, r);
      if (made.has(p) || done[l]!.has(p)) continue;
      const [c0, c1] = childRows(rows[l - 1]!, rows[l]!, p);
      let all = true;
      for (let c = c0; c < c1 && all; c++) all = available.has(c);
      if (all) made.add(p);
    }
    make[l] = made;
    available = made;
  }
  return make;
}

/**
 * What a finishing pass reads: the rows of level `from` that the unmade rows of level `from + 1` are computed from
 * (all of them done, else ESTORE naming what is missing), or undefined when level `from + 1` is complete.
 */
export function rowsToRead(rows: readonly LevelRows[], from: number, done: readonly ReadonlySet<number>[], storePath: string): number[] | undefined {
  const upper = from + 1;
  const total = (l: number) => Math.ceil(rows[l]!.slabs / rows[l]!.depth);
  const read = new Set<number>();
  for (let p = 0; p < total(upper); p++) {
    if (done[upper]!.has(p)) continue;
    const [c0, c1] = childRows(rows[from]!, rows[upper]!, p);
    for (let c = c0; c < c1; c++) read.add(c);
  }
  if (read.size === 0) return undefined;
  const missing = [...read].filter((r) => !done[from]!.has(r));
  if (missing.length > 0) {
    const what = from === 0 ? `rows ${rangesOf(missing)} of level 0 are not converted yet: run (or --resume) the parts that own them` : `level ${from} is unfinished (rows ${rangesOf(missing)})`;
    throw new SlabchunkError('ESTORE', `cannot finish the pyramid of ${storePath}: ${what}, then run slabchunk finish again`);
  }
  return [...read].sort((a, b) => a - b);
}

/** `0-3,7,9-10`: sorted row numbers as ranges, for messages. */
export function rangesOf(rows: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < rows.length;) {
    let j = i;
    while (j + 1 < rows.length && rows[j + 1] === rows[j]! + 1) j++;
    out.push(i === j ? String(rows[i]) : `${rows[i]}-${rows[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/**
 * The level-0 rows part `index` of `count` owns: whole rows of the coarsest level that still gives every part one,
 * so that each part completes that level and all finer ones from its own rows, and `finish` has only the rest.
 */
export function alignedPartRows(rows: readonly LevelRows[], index: number, count: number): readonly [number, number] {
  const total0 = Math.ceil(rows[0]!.slabs / rows[0]!.depth);
  for (let l = rows.length - 1; l >= 0; l--) {
    const total = Math.ceil(rows[l]!.slabs / rows[l]!.depth);
    if (total < count && l > 0) continue;
    const [first, end] = partRows(total, index, count);
    const start = (p: number) => (p >= total ? total0 : level0Row(rows, l, p));
    return [start(first), start(end)];
  }
  return [0, total0];
}

/** The first level-0 row under row `row` of level `level`. */
function level0Row(rows: readonly LevelRows[], level: number, row: number): number {
  let r = row;
  for (let l = level; l > 0; l--) r = childRows(rows[l - 1]!, rows[l]!, r)[0];
  return r;
}
