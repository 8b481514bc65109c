import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  checkVec3, chunkBounds, denseStrides, fortranCoords, fortranIndex, gridShape, parseOrder, slabBytes, volumeBytes,
} from '../../src/core/geometry.ts';
import { SlabchunkError } from '../../src/core/errors.ts';

test('grid is ceil(shape / chunk)', () => {
  assert.equal(gridShape([10, 8, 5], [4, 8, 2]), [3, 1, 3]);
  assert.equal(gridShape([0, 8, 5], [4, 8, 2]), [0, 1, 3]);
});

test('fortran index enumerates x fastest and inverts', () => {
  fc.assert(fc.property(
    fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 })),
    (grid) => {
      let expected = 0;
      for (let z = 0; z < grid[2]; z++) for (let y = 0; y < grid[1]; y++) for (let x = 0; x < grid[0]; x++) {
        if (fortranIndex([x, y, z], grid) !== expected) return false;
        const back = fortranCoords(expected, grid);
        if (back[0] !== x || back[1] !== y || back[2] !== z) return false;
        expected++;
      }
      return true;
    },
  ));
});

test('chunk bounds clip at the far edge', () => {
  assert.equal(chunkBounds([2, 0, 1], [10, 8, 5], [4, 8, 3]), { start: [8, 0, 3], size: [2, 8, 2] });
});

test('dense strides and byte counts follow the documented formulas', () => {
  const shape = [3, 4, 5] as const;
  assert.equal(denseStrides(shape, 'F'), [1, 3, 12]);
  assert.equal(denseStrides(shape, 'C'), [20, 5, 1]);
  assert.equal([slabBytes(shape, 2), volumeBytes(shape, 2)], [3 * 4 * 2, 3 * 4 * 5 * 2]);
});

test('bad vectors and orders name the problem', () => {
  const cases: [unknown, RegExp][] = [
    [[1, 2], /3 entries/], [[1, 0, 2], /positive integers/], [[1, -2, 2], /positive/],
    [[1, 2.5, 2], /positive/], ['1,2,3', /3 entries/], [[1, NaN, 1], /positive/],
  ];
  for (const [value, re] of cases) {
    try { checkVec3('chunk', value); assert.unreachable(`accepted ${String(value)}`); }
    catch (e) { assert.instance(e, SlabchunkError); assert.match((e as Error).message, re); }
  }
  assert.equal(checkVec3('shape', [0, 2, 3], 0), [0, 2, 3]);
  assert.throws(() => parseOrder('c'), /order must be C or F\. Got: c/);
});

test.run();
