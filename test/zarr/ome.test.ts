/**
 * OME-Zarr multiscale metadata, checked by a validator written here from the NGFF 0.4/0.5 texts (the JSON schemas
 * check structure only): axis names, types and order, UDUNITS units, one scale per dataset with one entry per
 * axis, a translation only after it, datasets largest first, the version where each format keeps it, and centred
 * voxels (translation (scale_L − scale_0) / 2).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SlabchunkError } from '../../src/core/errors.ts';
import type { Vec3 } from '../../src/core/geometry.ts';
import { planPyramid } from '../../src/core/pyramid.ts';
import { multiscale, omeAttributes, parseUnit, type MultiscaleRequest } from '../../src/zarr/ome.ts';
import { validate, type Multiscale } from '../lib/ome-validator.ts';

const lightSheet = planPyramid({ shape: [2048, 1024, 300], chunk: [64, 64, 64], voxelSize: [0.4, 0.4, 2], levels: 'auto' }).levels;

function request(over: Partial<MultiscaleRequest> = {}): MultiscaleRequest {
  return { levels: lightSheet, method: 'mean', unit: 'micrometer', axes: ['z', 'y', 'x'], version: '0.5', ...over };
}

test('0.5: attributes.ome with the version, axes z,y,x in micrometers, datasets largest first, centred voxels', () => {
  const attrs = omeAttributes(request()) as { ome: { version: string; multiscales: Multiscale[] } };
  assert.is(attrs.ome.version, '0.5');
  const [m] = attrs.ome.multiscales;
  assert.equal(validate(m!), []);
  assert.is(m!.version, undefined, '0.5 keeps the version beside multiscales, not in it');
  assert.equal(m!.axes, [{ name: 'z', type: 'space', unit: 'micrometer' }, { name: 'y', type: 'space', unit: 'micrometer' }, { name: 'x', type: 'space', unit: 'micrometer' }]);
  assert.equal(m!.datasets.map((d) => d.path), lightSheet.map((_, i) => String(i)));
  assert.is(m!.type, 'mean');
  m!.datasets.forEach((d, i) => {
    const [zs, ys, xs] = d.coordinateTransformations[0]!.scale!;
    const v = lightSheet[i]!.voxelSize;
    assert.equal([zs, ys, xs], [v[2], v[1], v[0]], `level ${i} scale in z,y,x`);
    if (i === 0) assert.is(d.coordinateTransformations.length, 1, 'level 0 has no translation');
    else assert.equal(d.coordinateTransformations[1]!.translation, [(v[2] - 2) / 2, (v[1] - 0.4) / 2, (v[0] - 0.4) / 2]);
  });
});

test('0.4: the version inside the multiscale, for v2 .zattrs; C input stores axes x,y,z; stride has no translation', () => {
  const attrs = omeAttributes(request({ version: '0.4', axes: ['x', 'y', 'z'], method: 'stride', unit: parseUnit('nm') })) as { multiscales: Multiscale[] };
  const [m] = attrs.multiscales;
  assert.equal(validate(m!), []);
  assert.is(m!.version, '0.4');
  assert.equal(m!.axes.map((a) => `${a.name}:${a.unit}`), ['x:nanometer', 'y:nanometer', 'z:nanometer']);
  const last = lightSheet.at(-1)!.voxelSize;
  assert.equal(m!.datasets.at(-1)!.coordinateTransformations, [{ type: 'scale', scale: [last[0], last[1], last[2]] }]);
});

test('the validator catches what it checks (it can fail)', () => {
  const m = multiscale(request()) as unknown as Multiscale;
  assert.equal(validate({ ...m, datasets: [...m.datasets].reverse() }).filter((p) => p.includes('largest')).length > 0, true);
  assert.ok(validate({ ...m, axes: [{ name: 'z', type: 'space', unit: 'um' }, ...m.axes.slice(1)] }).includes('unit um'));
  assert.ok(validate({ ...m, datasets: [{ path: '0', coordinateTransformations: [{ type: 'translation', translation: [0, 0, 0] }, { type: 'scale', scale: [1, 1, 1] }] }] }).includes('0: one scale, first'));
});

test('parseUnit: long names as they are, short ones written long, anything else refused naming the choices', () => {
  assert.is(parseUnit('micrometer'), 'micrometer');
  for (const short of ['um', 'µm', 'μm']) assert.is(parseUnit(short), 'micrometer');
  assert.is(parseUnit('nm'), 'nanometer');
  assert.is(parseUnit('Millimeter'), 'millimeter');
  assert.throws(() => parseUnit('furlong'), (e: SlabchunkError) => e.code === 'EINVALID' && /unknown unit "furlong"; use a UDUNITS-2 length/.test(e.message));
});

test('translations follow (scale_L − scale_0) / 2 on every level of any pyramid', () => {
  for (const voxelSize of [[1, 1, 1], [0.25, 0.25, 1], [5, 5, 30]] as Vec3[]) {
    const { levels } = planPyramid({ shape: [700, 500, 90], chunk: [32, 32, 32], voxelSize, levels: 'auto' });
    const m = multiscale(request({ levels })) as unknown as Multiscale;
    assert.equal(validate(m), []);
    m.datasets.slice(1).forEach((d, i) => {
      const [scale, translation] = [d.coordinateTransformations[0]!.scale!, d.coordinateTransformations[1]!.translation!];
      const scale0 = m.datasets[0]!.coordinateTransformations[0]!.scale!;
      // Voxel 0 of level L sits (centred) where the mean of the centres of the level-0 voxels it covers is.
      scale.forEach((s, a) => {
        const k = Math.round(s / scale0[a]!);
        const centres = Array.from({ length: k }, (_, j) => j * scale0[a]!);
        const mean = centres.reduce((x, y) => x + y, 0) / k;
        assert.ok(Math.abs(translation[a]! - mean) < 1e-9, `level ${i + 1} axis ${a}: ${translation[a]} vs ${mean}`);
      });
    });
  }
});

test.run();
