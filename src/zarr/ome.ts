/**
 * OME-Zarr multiscale metadata for a pyramid: 0.5 in a Zarr v3 group's `attributes.ome`, 0.4 in a v2 group's
 * `.zattrs`. Axes are the stored axes, slowest first (`z, y, x` for F input, `x, y, z` for C input), all of type
 * `space` with one UDUNITS-2 length unit. Voxels are centred: every level after 0 is translated by
 * `(scale_L − scale_0) / 2` per axis, except for `stride`, whose voxels are level 0's voxels at the block's corner.
 */
import { invalid } from '../core/errors.ts';
import type { Vec3 } from '../core/geometry.ts';
import type { DownsampleMethod } from '../core/downsample.ts';
import type { PyramidLevel } from '../core/pyramid.ts';

/** The length units of UDUNITS-2 that OME-Zarr accepts for space axes. */
export const SPACE_UNITS = [
  'angstrom', 'attometer', 'centimeter', 'decimeter', 'dekameter', 'exameter', 'femtometer', 'foot', 'gigameter',
  'hectometer', 'inch', 'kilometer', 'megameter', 'meter', 'micrometer', 'mile', 'millimeter', 'nanometer',
  'parsec', 'petameter', 'picometer', 'terameter', 'yard', 'yoctometer', 'yottameter', 'zeptometer', 'zettameter',
] as const;

export type SpaceUnit = (typeof SPACE_UNITS)[number];

/** Short names users type, written long (viewers such as neuroglancer reject `um`). */
const ALIASES: Readonly<Record<string, SpaceUnit>> = {
  um: 'micrometer', 'µm': 'micrometer', 'μm': 'micrometer', micron: 'micrometer', nm: 'nanometer', mm: 'millimeter',
  cm: 'centimeter', m: 'meter', pm: 'picometer', 'Å': 'angstrom', A: 'angstrom',
};

/** `--unit`: a UDUNITS-2 long name, or a short one written long. EINVALID naming the choices. */
export function parseUnit(text: string, name = 'unit'): SpaceUnit {
  const unit = ALIASES[text] ?? text.toLowerCase();
  if ((SPACE_UNITS as readonly string[]).includes(unit)) return unit as SpaceUnit;
  throw invalid(`${name}: unknown unit ${JSON.stringify(text)}; use a UDUNITS-2 length such as micrometer, nanometer or millimeter (um, µm, nm, mm are accepted)`);
}

export type OmeVersion = '0.4' | '0.5';

export interface MultiscaleRequest {
  readonly levels: readonly PyramidLevel[];
  readonly method: DownsampleMethod;
  readonly unit: SpaceUnit;
  /** The stored axes, slowest first. */
  readonly axes: readonly ['z', 'y', 'x'] | readonly ['x', 'y', 'z'];
  readonly version: OmeVersion;
  readonly name?: string;
}

/** One `multiscales` entry: axes, datasets `0`, `1`, … largest first, each with a scale (and a translation). */
export function multiscale(request: MultiscaleRequest): Record<string, unknown> {
  const { levels, method, unit, axes, version } = request;
  // Volume axes [x, y, z] to the stored order.
  const stored = (v: Vec3): number[] => axes.map((a) => v['xyz'.indexOf(a)]!);
  const scale0 = levels[0]!.voxelSize;
  const datasets = levels.map((level, i) => {
    const transforms: object[] = [{ type: 'scale', scale: stored(level.voxelSize) }];
    if (i > 0 && method !== 'stride') {
      const shift = level.voxelSize.map((s, a) => (s - scale0[a]!) / 2) as unknown as Vec3;
      transforms.push({ type: 'translation', translation: stored(shift) });
    }
    return { path: String(i), coordinateTransformations: transforms };
  });
  return {
    ...(version === '0.4' ? { version } : {}),
    ...(request.name ? { name: request.name } : {}),
    axes: axes.map((name) => ({ name, type: 'space', unit })),
    datasets,
    type: method,
    metadata: { method: `slabchunk ${method}` },
  };
}

/**
 * The group's attributes: `{ ome: { version: '0.5', multiscales } }` for Zarr v3 (to go in `zarr.json`), or
 * `{ multiscales }` with the version inside it for v2 (to go in `.zattrs`).
 */
export function omeAttributes(request: MultiscaleRequest): Record<string, unknown> {
  const entry = multiscale(request);
  return request.version === '0.5' ? { ome: { version: '0.5', multiscales: [entry] } } : { multiscales: [entry] };
}
