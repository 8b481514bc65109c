import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { taskPool } from '../../src/stream/task-pool.ts';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('at most `concurrency` tasks run at once; drain waits for all of them', async () => {
  const pool = taskPool(3);
  let active = 0, most = 0, done = 0;
  for (let i = 0; i < 20; i++) {
    pool.run(async () => {
      active++;
      most = Math.max(most, active);
      await tick(1 + (i % 3));
      active--;
      done++;
    });
  }
  await pool.drain();
  assert.is(done, 20);
  assert.is(most, 3);
  assert.is(pool.error, undefined);
});

test('the first failure is reported once, even when two fail together, and the tasks still queued are skipped', async () => {
  const heard: unknown[] = [];
  const pool = taskPool(2, (error) => heard.push(error));
  const ran: number[] = [];
  for (let i = 0; i < 6; i++) {
    pool.run(async () => {
      ran.push(i);
      await tick(1);
      throw new Error(`task ${i}`);
    });
  }
  await pool.drain();
  assert.equal(ran, [0, 1], 'the two running when the first failed; none after');
  assert.is((pool.error as Error).message, 'task 0');
  assert.equal(heard.map((e) => (e as Error).message), ['task 0']);
});

test('drain also waits for tasks run while it waits', async () => {
  const pool = taskPool(2);
  let done = 0;
  pool.run(async () => {
    await tick(2);
    pool.run(async () => { await tick(2); done++; });
    done++;
  });
  await pool.drain();
  assert.is(done, 2);
});

test.run();
