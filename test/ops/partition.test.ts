import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { detectPart, parsePart, partRows } from '../../src/ops/partition.ts';

test('parts cover every row exactly once, contiguous, sizes within one', () => {
  fc.assert(fc.property(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 1, max: 64 }), (rows, count) => {
    const owner = new Array<number>(rows).fill(-1);
    const sizes: number[] = [];
    let next = 0;
    for (let i = 0; i < count; i++) {
      const [a, b] = partRows(rows, i, count);
      if (a !== next || b < a) return false;
      next = b;
      sizes.push(b - a);
      for (let r = a; r < b; r++) {
        if (owner[r] !== -1) return false;
        owner[r] = i;
      }
    }
    return next === rows && owner.every((o) => o >= 0) && Math.max(...sizes) - Math.min(...sizes) <= 1;
  }));
});

test('more parts than rows: the extra parts own nothing', () => {
  const owned = Array.from({ length: 5 }, (_, i) => partRows(2, i, 5)).map(([a, b]) => b - a);
  assert.equal(owned.reduce((x, y) => x + y, 0), 2);
  assert.ok(owned.filter((n) => n === 0).length === 3);
});

test('--part I/N, SLURM arrays and Kubernetes indexed jobs', () => {
  assert.equal(parsePart('2/8'), { index: 2, count: 8, source: '--part' });
  assert.throws(() => parsePart('8/8'), /outside 0…7/);
  assert.throws(() => parsePart('1-4'), /--part must be I\/N/);
  assert.is(detectPart({}), undefined);
  assert.is(detectPart({ SLURM_ARRAY_TASK_ID: '5', SLURM_ARRAY_TASK_MIN: '4', SLURM_ARRAY_TASK_COUNT: '4' })?.index, 1);
  assert.is(detectPart({ SLURM_ARRAY_TASK_ID: '6', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_STEP: '2' })?.index, 3);
  assert.throws(() => detectPart({ SLURM_ARRAY_TASK_ID: '1' }), /pass --parts N/);
  assert.equal(detectPart({ JOB_COMPLETION_INDEX: '3' }, undefined, 4)?.count, 4);
  assert.throws(() => detectPart({ JOB_COMPLETION_INDEX: '3' }), /pass --parts N/);
  assert.throws(() => detectPart({ JOB_COMPLETION_INDEX: '4' }, undefined, 4), /outside 0…3/);
  assert.throws(() => detectPart({}, undefined, 4), /needs JOB_COMPLETION_INDEX/);
  // An explicit --part wins over the environment.
  assert.is(detectPart({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '4' }, '0/2')?.index, 0);
});

test.run();
