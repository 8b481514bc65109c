/**
 * What a conversion's store holds besides chunks: one bare array's documents, or an OME-Zarr pyramid's (the group
 * with its multiscales, each level's array, the job record); and the pyramid's record of the options that made it,
 * from which `finish` makes the same documents again.
 */
import type { DType } from '../core/dtype.ts';
import type { Vec3 } from '../core/geometry.ts';
import type { ZarrFormat } from '../core/layout.ts';
import type { DownsampleMethod } from '../core/downsample.ts';
import type { Order } from '../core/geometry.ts';
import { pyramidDocs, storeDocs } from '../zarr/join.ts';
import { omeAttributes, type SpaceUnit } from '../zarr/ome.ts';
import { sinkOptionsOf } from '../zarr/sink-options.ts';
import type { IndexLocation } from '../zarr/shard.ts';
import { levelLayouts, levelOptions, levelSpecs, type LevelSpec } from './levels.ts';
import type { ResolvedConvertOptions } from './options.ts';

/** The options that decide a pyramid's bytes, as its job record keeps them (`fill` as text: NaN and 64-bit values survive JSON). */
export interface PyramidRecord {
  readonly shape: Vec3;
  readonly dtype: DType;
  readonly chunk: Vec3;
  readonly shard?: Vec3;
  readonly shardIndex?: IndexLocation;
  readonly codec: string;
  readonly zarrFormat: ZarrFormat;
  readonly inputOrder: Order;
  readonly fill: string;
  readonly writeEmptyChunks: boolean;
  readonly ome: true;
  /** The levels made, not the `--levels` asked: `auto` and the number it comes to are the same pyramid. */
  readonly levels: number;
  readonly downsample: DownsampleMethod;
  readonly voxelSize: Vec3;
  readonly unit: SpaceUnit;
  readonly attributes?: Readonly<Record<string, unknown>>;
}

/** The record of `o`'s pyramid. */
export function pyramidRecord(o: ResolvedConvertOptions): PyramidRecord {
  return {
    shape: o.shape, dtype: o.dtype, chunk: o.chunk, ...(o.shard ? { shard: o.shard, shardIndex: o.shardIndex } : {}), codec: o.codec,
    zarrFormat: o.zarrFormat, inputOrder: o.inputOrder, fill: String(o.fill), writeEmptyChunks: o.writeEmptyChunks, ome: true,
    levels: levelSpecs(o).levels.length, downsample: o.downsample, voxelSize: o.voxelSize, unit: o.unit, ...(o.attributes ? { attributes: o.attributes } : {}),
  };
}

/** The store's arrays and documents for options `o` and job record `job`; a note when fewer levels than asked fit. */
export function storeTarget(o: ResolvedConvertOptions, job: Readonly<Record<string, unknown>>): { levels: LevelSpec[]; docs: Record<string, string>; note?: string } {
  const { levels, note } = levelSpecs(o);
  const layouts = levelLayouts(o, levels);
  const configs = levels.map((spec, l) => ({ path: spec.path, config: sinkOptionsOf(levelOptions(o, spec), layouts[l]!.layout, job) }));
  if (!o.ome) return { levels, docs: storeDocs(configs[0]!.config, job) };
  const axes = layouts[0]!.layout.stored.dimensionNames as readonly ['z', 'y', 'x'] | readonly ['x', 'y', 'z'];
  const ome = omeAttributes({ levels, method: o.downsample, unit: o.unit, axes, version: o.zarrFormat === 3 ? '0.5' : '0.4' });
  const docs = pyramidDocs(o.zarrFormat, { ...o.attributes, ...ome }, configs, job);
  return note ? { levels, docs, note } : { levels, docs };
}
