/** The contract every Store meets (DESIGN.md: one conformance suite); each store's test file runs it. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Store } from '../../../src/zarr/stores/types.ts';

/** The contract every Store meets; run for each implementation. */
export function conformance(name: string, make: () => { store: Store; cleanup: () => void }): void {
  test(`${name}: a missing key is undefined / false`, async () => {
    const { store, cleanup } = make();
    try {
      assert.is(await store.get('c/0/0/0'), undefined);
      assert.is(await store.has('c/0/0/0'), false);
    } finally {
      cleanup();
    }
  });

  test(`${name}: set then get returns the same bytes; nested keys; replacing a value`, async () => {
    const { store, cleanup } = make();
    try {
      const a = Uint8Array.from({ length: 1000 }, (_, i) => i * 7);
      await store.set('zarr.json', Buffer.from('{}'));
      await store.set('c/1/2/3', a);
      assert.ok(await store.has('c/1/2/3'));
      assert.equal([...(await store.get('c/1/2/3'))!], [...a]);
      await store.set('c/1/2/3', Uint8Array.of(1, 2, 3));
      assert.equal([...(await store.get('c/1/2/3'))!], [1, 2, 3]);
      assert.is(Buffer.from((await store.get('zarr.json'))!).toString(), '{}');
    } finally {
      cleanup();
    }
  });

  test(`${name}: a subarray of a larger buffer stores only its own bytes`, async () => {
    const { store, cleanup } = make();
    try {
      const big = Uint8Array.from({ length: 64 }, (_, i) => i);
      await store.set('k', big.subarray(10, 20));
      assert.equal([...(await store.get('k'))!], [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    } finally {
      cleanup();
    }
  });

  test(`${name}: concurrent sets of many keys in the same new directory`, async () => {
    const { store, cleanup } = make();
    try {
      await Promise.all(Array.from({ length: 50 }, (_, i) => store.set(`c/0/${i % 3}/${i}`, Uint8Array.of(i))));
      for (let i = 0; i < 50; i++) assert.equal([...(await store.get(`c/0/${i % 3}/${i}`))!], [i]);
    } finally {
      cleanup();
    }
  });

  test(`${name}: list names the keys directly below a prefix, none for a missing one`, async () => {
    const { store, cleanup } = make();
    try {
      assert.equal(await store.list('.slabchunk/rows'), []);
      await Promise.all(['0', '1', '12'].map((r) => store.set(`.slabchunk/rows/${r}`, new Uint8Array(0))));
      await store.set('.slabchunk/job.json', Buffer.from('{}'));
      assert.equal((await store.list('.slabchunk/rows')).sort(), ['0', '1', '12']);
      assert.equal(await store.list('.slabchunk'), ['job.json'], 'only keys, not deeper prefixes');
      assert.ok(typeof store.location === 'string' && store.location.length > 0);
    } finally {
      cleanup();
    }
  });
}
