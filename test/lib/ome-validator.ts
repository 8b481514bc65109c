/**
 * An OME-Zarr multiscales validator written from the NGFF 0.4/0.5 texts (the JSON schemas check structure only):
 * axis names, types and order, UDUNITS units, one scale per dataset with one entry per axis, a translation only
 * after it, datasets largest first; and, for a store, the version where each format keeps it and every level's
 * dimension names equal to the axes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { SPACE_UNITS } from '../../src/zarr/ome.ts';

export interface Transform { type: string; scale?: number[]; translation?: number[] }
export interface Multiscale { version?: string; axes: { name: string; type: string; unit?: string }[]; datasets: { path: string; coordinateTransformations: Transform[] }[]; type?: string }

/** Every rule of the spec this metadata falls under; returns the problems found. */
export function validate(m: Multiscale): string[] {
  const problems: string[] = [];
  const names = m.axes.map((a) => a.name);
  if (new Set(names).size !== names.length) problems.push('axis names repeat');
  if (m.axes.length < 2 || m.axes.length > 5) problems.push('2 to 5 axes');
  const space = m.axes.filter((a) => a.type === 'space');
  if (space.length < 2 || space.length > 3) problems.push('2 or 3 space axes');
  // time first, then channel, then space
  const rank = (t: string) => (t === 'time' ? 0 : t === 'channel' ? 1 : 2);
  if (m.axes.some((a, i) => i > 0 && rank(a.type) < rank(m.axes[i - 1]!.type))) problems.push('axis order');
  for (const a of space) if (a.unit !== undefined && !(SPACE_UNITS as readonly string[]).includes(a.unit)) problems.push(`unit ${a.unit}`);
  if (m.datasets.length === 0) problems.push('no datasets');
  let previous: number[] | undefined;
  for (const d of m.datasets) {
    const t = d.coordinateTransformations;
    if (t.filter((x) => x.type === 'scale').length !== 1 || t[0]?.type !== 'scale') problems.push(`${d.path}: one scale, first`);
    if (t.filter((x) => x.type === 'translation').length > 1 || t.length > 2) problems.push(`${d.path}: at most one translation, after the scale`);
    const scale = t[0]?.scale ?? [];
    if (scale.length !== m.axes.length) problems.push(`${d.path}: scale length`);
    if (t[1] && t[1].translation?.length !== m.axes.length) problems.push(`${d.path}: translation length`);
    if (previous && scale.some((s, i) => s < previous![i]!)) problems.push(`${d.path}: datasets must go from largest to smallest`);
    previous = scale;
  }
  return problems;
}


/** Every rule for the OME-Zarr image at `store` (v3 → 0.5, v2 → 0.4); the problems found. */
export function checkOmeStore(store: string): string[] {
  const v3 = fs.existsSync(path.join(store, 'zarr.json'));
  const read = (rel: string) => JSON.parse(fs.readFileSync(path.join(store, rel), 'utf8')) as Record<string, any>;
  const problems: string[] = [];
  let m: Multiscale;
  if (v3) {
    const group = read('zarr.json');
    if (group.node_type !== 'group') problems.push('the root is not a group');
    if (group.attributes?.ome?.version !== '0.5') problems.push('0.5: attributes.ome.version');
    m = group.attributes.ome.multiscales[0];
    if (m.version !== undefined) problems.push('0.5: no version inside the multiscale');
  } else {
    if (read('.zgroup').zarr_format !== 2) problems.push('.zgroup');
    m = read('.zattrs').multiscales[0];
    if (m.version !== '0.4') problems.push('0.4: the version inside the multiscale');
  }
  problems.push(...validate(m));
  const names = m.axes.map((a) => a.name);
  for (const d of m.datasets) {
    const dims = v3 ? read(`${d.path}/zarr.json`).dimension_names : read(`${d.path}/.zattrs`)._ARRAY_DIMENSIONS;
    if (JSON.stringify(dims) !== JSON.stringify(names)) problems.push(`${d.path}: dimension names ${JSON.stringify(dims)} are not the axes ${JSON.stringify(names)}`);
  }
  return problems;
}
