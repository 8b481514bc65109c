/**
 * Opening an OME-Zarr pyramid — 0.5 in a Zarr v3 group (`attributes.ome`), 0.4 in a v2 group (`.zattrs`) — as
 * its levels, each an array {@link openStore} opens. The levels are checked against the multiscale as slabchunk
 * writes it: every level is the previous one reduced by 2 or 1 per axis, its scale that factor times the
 * previous scale and its shape `ceil(previous / factor)`, so `info`, `verify` and `export --level` can rely on
 * the factors.
 */
import { SlabchunkError, invalid } from '../core/errors.ts';
import type { Vec3 } from '../core/geometry.ts';
import type { ZarrFormat } from '../core/layout.ts';
import { readRowMarkers } from './markers.ts';
import { joinLocation, locate, openArray, readJson, type LocatedStore, type OpenedStore, type ReadSettings, type StoreSource } from './reader.ts';
import { SLABCHUNK_DIR } from './stores/lock.ts';
import type { Store } from './stores/types.ts';

/** One level of an opened pyramid. Vectors are in the stored order of the multiscale's axes, slowest first. */
export interface OpenedLevel {
  /** 0 for full resolution. */
  readonly level: number;
  /** The dataset's path in the group, as the multiscale gives it (`0`, `1`, …). */
  readonly datasetPath: string;
  readonly store: OpenedStore;
  readonly scale: Vec3;
  readonly translation?: Vec3;
  /** Reduction from the previous level, 2 or 1 per axis (`[1, 1, 1]` for level 0). */
  readonly factor: Vec3;
}

/** An OME-Zarr multiscale image: its levels, largest first, and what the multiscale says of them. */
export interface OpenedPyramid {
  /** The group's location: its folder, or its `s3://` URL. */
  readonly path: string;
  /** The group's store; each level's array has the store of its own keys. */
  readonly store: Store;
  readonly format: ZarrFormat;
  /** The OME-Zarr version the metadata states (`0.5` for v3, `0.4` for v2 as slabchunk writes them). */
  readonly version?: string;
  /** Axis names, slowest first (`z, y, x` for F input, `x, y, z` for C input). */
  readonly axes: readonly string[];
  /** The axes' unit, when they share one. */
  readonly unit?: string;
  /** The multiscale's `type`: the downsampling method (`mean`, `mode`, `min`, `max`, `stride` from slabchunk). */
  readonly method?: string;
  readonly name?: string;
  readonly levels: readonly OpenedLevel[];
}

/**
 * True when `source` (a location, with `settings` for `s3://` ones, or a {@link Store}) holds a Zarr group (v3
 * `node_type: group`, or a v2 `.zgroup` without `.zarray`).
 */
export async function isGroup(source: StoreSource, settings: ReadSettings = {}): Promise<boolean> {
  return isGroupAt(locate(source, settings));
}

/** {@link isGroup} on a store already located. */
export async function isGroupAt({ store, at }: LocatedStore): Promise<boolean> {
  const v3 = await readJson(store, 'zarr.json', at);
  if (v3) return v3.node_type === 'group';
  return (await readJson(store, '.zgroup', at)) !== undefined && (await readJson(store, '.zarray', at)) === undefined;
}

/**
 * Opens the OME-Zarr pyramid at `source` (a location, with `settings` for `s3://` ones, or a {@link Store}).
 * ESTORE naming the problem for a group without multiscales, a level listed but missing, and a level whose scale
 * or shape is not the previous one reduced by 2 or 1 per axis.
 */
export async function openPyramid(source: StoreSource, settings: ReadSettings = {}): Promise<OpenedPyramid> {
  return openPyramidAt(locate(source, settings));
}

/** {@link openPyramid} on a store already located. */
export async function openPyramidAt(located: LocatedStore): Promise<OpenedPyramid> {
  const { at: storePath } = located;
  const { format, entry, version } = await readMultiscale(located);
  const where = `the multiscale of ${storePath}`;
  const axes = checkAxes(entry.axes, where);
  const datasets = entry.datasets;
  if (!Array.isArray(datasets) || datasets.length === 0) throw new SlabchunkError('ESTORE', `${where} lists no datasets; the store is damaged or not an image`);
  const levels: OpenedLevel[] = [];
  for (const [level, dataset] of (datasets as Record<string, unknown>[]).entries()) {
    const datasetPath = String(dataset.path);
    const { scale, translation } = transformsOf(dataset, `dataset ${datasetPath} of ${where}`);
    const store = await openLevelArray(located, datasetPath, level);
    const previous = levels[level - 1];
    const factor = previous ? checkReduction(previous, store, scale, level, storePath) : ([1, 1, 1] as const);
    checkLevel(store, axes, levels[0]?.store, level, storePath);
    levels.push({ level, datasetPath, store, scale, ...(translation ? { translation } : {}), factor });
  }
  const units = new Set((entry.axes as { unit?: unknown }[]).map((a) => a.unit));
  const [unit] = units;
  return {
    path: storePath,
    store: located.store,
    format,
    ...(typeof version === 'string' ? { version } : {}),
    axes,
    ...(units.size === 1 && typeof unit === 'string' ? { unit } : {}),
    ...(typeof entry.type === 'string' ? { method: entry.type } : {}),
    ...(typeof entry.name === 'string' ? { name: entry.name } : {}),
    levels,
  };
}

/**
 * The array of level `level` of the store at `source`: of the pyramid when it is one, else the store's one
 * array, whose only level is 0. EINVALID naming the levels that exist.
 */
export async function openLevel(source: StoreSource, level = 0, settings: ReadSettings = {}): Promise<OpenedStore> {
  const located = locate(source, settings);
  const storePath = located.at;
  if (!(await isGroupAt(located))) {
    // Opened first: a path with no store at all is named as such, not as an array without levels.
    const store = await openArray(located);
    if (level !== 0) throw invalid(`${storePath} is a single array, not an OME-Zarr pyramid: its only level is 0; drop --level or convert again with --ome`);
    return store;
  }
  const pyramid = await openPyramidAt(located);
  const found = pyramid.levels[level];
  if (!found) throw invalid(`${storePath} has no level ${level}: its levels are ${levelRange(pyramid.levels.length)}; pick one of them with --level`);
  return found.store;
}

/**
 * Rows marked done of each level (level 0's markers under `.slabchunk/rows`, the others' under
 * `.slabchunk/levels/<L>/rows`); undefined for a pyramid without slabchunk's job record and markers, written
 * elsewhere, whose rows there is nothing to count of.
 */
export async function rowsDoneByLevel(pyramid: OpenedPyramid): Promise<number[] | undefined> {
  const done = await Promise.all(pyramid.levels.map(async (l) => (await readRowMarkers(pyramid.store, l.level)).size));
  if (done.some((n) => n > 0)) return done;
  return (await pyramid.store.has(`${SLABCHUNK_DIR}/job.json`)) ? done : undefined;
}

/** What finishes the unfinished levels `unfinished` (ascending, not empty) of the pyramid at `storePath`. */
export function finishHint(storePath: string, unfinished: readonly number[]): string {
  return unfinished[0] === 0
    ? 'rerun the same convert with --resume (a split job: rerun the parts that did not finish)'
    : `run slabchunk finish ${storePath} (a split job whose parts all finished), or rerun the same convert with --resume (an interrupted run)`;
}

/** `0` or `0 to N-1`, for messages. */
function levelRange(count: number): string {
  return count === 1 ? '0' : `0 to ${count - 1}`;
}

/** The group's first multiscale entry and the version it states. */
async function readMultiscale(located: LocatedStore): Promise<{ format: ZarrFormat; entry: Record<string, unknown>; version: unknown }> {
  const { store, at: storePath } = located;
  const v3 = await readJson(store, 'zarr.json', storePath);
  const format: ZarrFormat = v3 ? 3 : 2;
  if (v3 ? v3.node_type !== 'group' : !(await isGroupAt(located))) {
    throw new SlabchunkError('ESTORE', `${storePath} is not a Zarr group, so not an OME-Zarr pyramid; give the path of the image's root`);
  }
  const attributes = (v3 ? v3.attributes : await readJson(store, '.zattrs', storePath)) as Record<string, unknown> | undefined;
  const ome = attributes?.ome as Record<string, unknown> | undefined;
  const multiscales = v3 ? ome?.multiscales : attributes?.multiscales;
  const entry = Array.isArray(multiscales) ? (multiscales[0] as Record<string, unknown> | undefined) : undefined;
  if (!entry) {
    const where = v3 ? 'attributes.ome.multiscales in zarr.json' : 'multiscales in .zattrs';
    throw new SlabchunkError('ESTORE', `${storePath} is a Zarr group without ${where}: not an OME-Zarr image; give the path of an array, or of an image slabchunk wrote with --ome`);
  }
  return { format, entry, version: v3 ? ome!.version : entry.version };
}

function checkAxes(value: unknown, where: string): readonly string[] {
  const names = Array.isArray(value) ? value.map((a) => (a as { name?: unknown } | null)?.name) : [];
  if (names.length !== 3 || !names.every((n): n is string => typeof n === 'string')) {
    throw new SlabchunkError('ESTORE', `${where} has axes ${JSON.stringify(value)}; slabchunk reads 3-D images with three named space axes`);
  }
  return names;
}

/** A dataset's scale and translation: three finite numbers each, the scale positive. */
function transformsOf(dataset: Record<string, unknown>, where: string): { scale: Vec3; translation?: Vec3 } {
  const transforms = Array.isArray(dataset.coordinateTransformations) ? (dataset.coordinateTransformations as Record<string, unknown>[]) : [];
  const vector = (type: string): Vec3 | undefined => {
    const found = transforms.find((t) => t?.type === type)?.[type];
    if (found === undefined) return undefined;
    if (!Array.isArray(found) || found.length !== 3 || !found.every((n) => typeof n === 'number' && Number.isFinite(n))) {
      throw new SlabchunkError('ESTORE', `${where} has ${type} ${JSON.stringify(found)}, not three numbers (one per axis)`);
    }
    return found as unknown as Vec3;
  };
  const scale = vector('scale');
  if (!scale || scale.some((s) => s <= 0)) throw new SlabchunkError('ESTORE', `${where} has no positive scale per axis; every dataset needs one`);
  const translation = vector('translation');
  return translation ? { scale, translation } : { scale };
}

async function openLevelArray({ store, at: storePath }: LocatedStore, datasetPath: string, level: number): Promise<OpenedStore> {
  try {
    return await openArray({ store: store.within(datasetPath), at: joinLocation(storePath, datasetPath) });
  } catch (cause) {
    throw new SlabchunkError('ESTORE', `level ${level} of ${storePath} (dataset ${datasetPath}) cannot be opened: ${(cause as Error).message}; `
      + 'the pyramid is incomplete or damaged: convert it again with --ome', { key: datasetPath, cause });
  }
}

/** Level `level`'s factor from the previous level: its scale ratio, 1 or 2 per axis, which its shape must follow. */
function checkReduction(previous: OpenedLevel, store: OpenedStore, scale: Vec3, level: number, storePath: string): Vec3 {
  const ratio = scale.map((s, a) => s / previous.scale[a]!);
  const factor = ratio.map((r) => (Math.abs(r - 1) < 1e-9 ? 1 : Math.abs(r - 2) < 1e-9 ? 2 : 0)) as unknown as Vec3;
  const fix = 'slabchunk reads pyramids whose every level halves or keeps each axis of the one before (as convert --ome writes them)';
  if (factor.includes(0)) {
    throw new SlabchunkError('ESTORE', `level ${level} of ${storePath} has scale ${list(scale)}, which is not level ${level - 1}'s ${list(previous.scale)} times 1 or 2 per axis; ${fix}`);
  }
  const above = previous.store.layout.stored.shape;
  const expected = above.map((s, a) => Math.ceil(s / factor[a]!)) as unknown as Vec3;
  const actual = store.layout.stored.shape;
  if (actual.some((s, a) => s !== expected[a])) {
    throw new SlabchunkError('ESTORE', `level ${level} of ${storePath} has shape ${list(actual)}, but its scale makes it level ${level - 1}'s ${list(above)} `
      + `reduced by ${list(factor)}, shape ${list(expected)}; the level was written for another pyramid: convert again with --ome`, { key: store.path });
  }
  return factor;
}

/** The level's array must name the multiscale's axes (its layout reads the input order from them) and share level 0's dtype. */
function checkLevel(store: OpenedStore, axes: readonly string[], first: OpenedStore | undefined, level: number, storePath: string): void {
  if (store.dimensionNames && store.dimensionNames.join(',') !== axes.join(',')) {
    throw new SlabchunkError('ESTORE', `level ${level} of ${storePath} names its dimensions ${store.dimensionNames.join(',')}, but the multiscale's axes are ${axes.join(',')}; the metadata is inconsistent: convert again with --ome`);
  }
  if (first && store.dtype !== first.dtype) {
    throw new SlabchunkError('ESTORE', `level ${level} of ${storePath} holds ${store.dtype}, level 0 ${first.dtype}; a pyramid's levels share one dtype: convert again with --ome`);
  }
}

const list = (v: readonly number[]): string => `[${v.join(', ')}]`;
