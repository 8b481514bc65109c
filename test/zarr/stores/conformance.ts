/** The contract every Store meets (DESIGN.md: one conformance suite); each store's test file runs it. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SlabchunkError } from '../../../src/core/errors.ts';
import type { Store } from '../../../src/zarr/stores/types.ts';

/** A fresh, empty store for one test, and how to dispose of it. */
export interface StoreFixture {
  readonly store: Store;
  readonly cleanup: () => void | Promise<void>;
}

export interface ConformanceOptions {
  /**
   * `create` is atomic: of creators racing on one key exactly one gets true. Where it is not (S3 on a service
   * without conditional PUTs) the race is only checked to store one of the values.
   */
  readonly atomicCreate?: boolean;
}

const text = (bytes: Uint8Array | undefined): string | undefined => (bytes === undefined ? undefined : Buffer.from(bytes).toString());

/**
 * The contract every Store meets; run for each implementation. `make` resolves null where the backend is not
 * available (no object store could start): each test then passes without checking anything.
 */
export function conformance(name: string, make: () => StoreFixture | null | Promise<StoreFixture | null>, options: ConformanceOptions = {}): void {
  /** Runs `body` on a fresh store and disposes of it after. */
  const withStore = (title: string, body: (store: Store) => Promise<void>): void => {
    test(`${name}: ${title}`, async () => {
      const fixture = await make();
      if (!fixture) return;
      try {
        await body(fixture.store);
      } finally {
        await fixture.cleanup();
      }
    });
  };

  withStore('a missing key is undefined / false', async (store) => {
    assert.is(await store.get('c/0/0/0'), undefined);
    assert.is(await store.has('c/0/0/0'), false);
    assert.is(await store.getRange('c/0/0/0', { offset: 0, length: 4 }), undefined);
    assert.is(await store.getRange('c/0/0/0', { suffixLength: 4 }), undefined);
  });

  withStore('set then get returns the same bytes; nested keys; replacing a value', async (store) => {
    const a = Uint8Array.from({ length: 1000 }, (_, i) => i * 7);
    await store.set('zarr.json', Buffer.from('{}'));
    await store.set('c/1/2/3', a);
    assert.ok(await store.has('c/1/2/3'));
    assert.equal([...(await store.get('c/1/2/3'))!], [...a]);
    await store.set('c/1/2/3', Uint8Array.of(1, 2, 3));
    assert.equal([...(await store.get('c/1/2/3'))!], [1, 2, 3]);
    assert.is(text(await store.get('zarr.json')), '{}');
  });

  withStore('a subarray of a larger buffer stores only its own bytes', async (store) => {
    const big = Uint8Array.from({ length: 64 }, (_, i) => i);
    await store.set('k', big.subarray(10, 20));
    assert.equal([...(await store.get('k'))!], [10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  });

  withStore('a list of parts (subarrays, empty ones) is stored as their concatenation; an empty value is a value', async (store) => {
    const big = Uint8Array.from({ length: 64 }, (_, i) => i);
    await store.set('c/0/0/0', [Uint8Array.of(1, 2), new Uint8Array(0), big.subarray(60), Uint8Array.of(3)]);
    assert.equal([...(await store.get('c/0/0/0'))!], [1, 2, 60, 61, 62, 63, 3]);
    await store.set('empty', []);
    assert.equal([...(await store.get('empty'))!], []);
    assert.ok(await store.has('empty'));
  });

  withStore('concurrent sets of many keys in the same new directory', async (store) => {
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.set(`c/0/${i % 3}/${i}`, Uint8Array.of(i))));
    for (let i = 0; i < 50; i++) assert.equal([...(await store.get(`c/0/${i % 3}/${i}`))!], [i]);
  });

  withStore('getRange: a range, a range past the end (fewer bytes or none), a suffix, an empty value', async (store) => {
    const value = Uint8Array.from({ length: 100 }, (_, i) => i);
    await store.set('shard', value);
    assert.equal([...(await store.getRange('shard', { offset: 10, length: 5 }))!], [10, 11, 12, 13, 14]);
    assert.equal([...(await store.getRange('shard', { offset: 0, length: 100 }))!], [...value]);
    assert.equal([...(await store.getRange('shard', { offset: 97, length: 10 }))!], [97, 98, 99], 'cut at the end');
    assert.equal([...(await store.getRange('shard', { offset: 100, length: 4 }))!], [], 'starting at the end: empty, not missing');
    assert.equal([...(await store.getRange('shard', { offset: 500, length: 4 }))!], [], 'starting past the end');
    assert.equal([...(await store.getRange('shard', { offset: 5, length: 0 }))!], [], 'an empty range of a value');
    assert.equal([...(await store.getRange('shard', { suffixLength: 3 }))!], [97, 98, 99]);
    assert.equal([...(await store.getRange('shard', { suffixLength: 1000 }))!], [...value], 'a suffix longer than the value: all of it');
    await store.set('empty', new Uint8Array(0));
    assert.equal([...(await store.getRange('empty', { offset: 0, length: 4 }))!], [], 'an empty value: empty, not missing');
    assert.equal([...(await store.getRange('empty', { suffixLength: 4 }))!], []);
    for (const range of [{ offset: -1, length: 2 }, { offset: 0, length: 1.5 }, { suffixLength: -3 }]) {
      const error = await store.getRange('shard', range).then(() => null, (e: SlabchunkError) => e);
      assert.is(error?.code, 'EINVALID', JSON.stringify(range));
    }
  });

  withStore('create: true and stored when absent; false and nothing written when present', async (store) => {
    assert.is(await store.create('.slabchunk/lock', Buffer.from('first')), true);
    assert.is(text(await store.get('.slabchunk/lock')), 'first');
    assert.is(await store.create('.slabchunk/lock', Buffer.from('second')), false);
    assert.is(text(await store.get('.slabchunk/lock')), 'first');
    await store.delete('.slabchunk/lock');
    assert.is(await store.create('.slabchunk/lock', Buffer.from('third')), true, 'free again once deleted');
    assert.is(text(await store.get('.slabchunk/lock')), 'third');
    assert.equal(await store.list('.slabchunk'), ['lock'], 'no temporaries left beside it');
  });

  withStore(options.atomicCreate ? 'concurrent creates of one key: exactly one wins, and its value is stored' : 'concurrent creates of one key: one of the values is stored', async (store) => {
    for (let round = 0; round < 3; round++) {
      const key = `locks/${round}`;
      const values = Array.from({ length: 8 }, (_, i) => `owner ${i}`);
      const won = await Promise.all(values.map((v) => store.create(key, Buffer.from(v))));
      const stored = text(await store.get(key));
      assert.ok(values.includes(stored!), `stored: ${stored}`);
      if (options.atomicCreate) {
        assert.is(won.filter(Boolean).length, 1, `round ${round}: ${won}`);
        assert.is(stored, values[won.indexOf(true)]);
      }
    }
  });

  withStore('list names the keys directly below a prefix, none for a missing one', async (store) => {
    assert.equal(await store.list('.slabchunk/rows'), []);
    await Promise.all(['0', '1', '12'].map((r) => store.set(`.slabchunk/rows/${r}`, new Uint8Array(0))));
    await store.set('.slabchunk/job.json', Buffer.from('{}'));
    assert.equal((await store.list('.slabchunk/rows')).sort(), ['0', '1', '12']);
    assert.equal(await store.list('.slabchunk'), ['job.json'], 'only keys, not deeper prefixes');
    assert.ok(typeof store.location === 'string' && store.location.length > 0);
  });

  withStore('list vs folders: keys directly below, folders holding keys further down; the root is ""', async (store) => {
    assert.equal(await store.list(''), []);
    assert.equal(await store.folders(''), []);
    assert.equal(await store.folders('nothing/here'), []);
    await Promise.all([
      store.set('zarr.json', Buffer.from('{}')),
      store.set('0/zarr.json', Buffer.from('{}')),
      store.set('0/c/0/0/0', Uint8Array.of(1)),
      store.set('0/c/1/0/0', Uint8Array.of(1)),
      store.set('1/c/0/0/0', Uint8Array.of(1)),
      store.set('.slabchunk/job.json', Buffer.from('{}')),
    ]);
    assert.equal(await store.list(''), ['zarr.json']);
    assert.equal((await store.folders('')).sort(), ['.slabchunk', '0', '1']);
    assert.equal(await store.list('0'), ['zarr.json']);
    assert.equal(await store.folders('0'), ['c']);
    assert.equal((await store.folders('0/c')).sort(), ['0', '1']);
    assert.equal(await store.list('0/c'), []);
    assert.equal(await store.folders('0/c/0/0'), [], 'a folder of keys only');
  });

  withStore('listAll: every key below a prefix at any depth, with its size; size tells one key\'s without reading it', async (store) => {
    const values: Record<string, number> = { 'zarr.json': 2, 'c/0/0/0': 100, 'c/0/1/2': 0, 'c/9/0/0': 7, '.slabchunk/rows/3': 0, 'cx/keep': 5 };
    await Promise.all(Object.entries(values).map(([key, size]) => store.set(key, new Uint8Array(size).fill(1))));
    const all = async (prefix: string) => {
      const found: [string, number][] = [];
      for await (const { key, size } of store.listAll(prefix)) found.push([key, size]);
      return found.sort(([a], [b]) => (a < b ? -1 : 1));
    };
    const expected = Object.entries(values).sort(([a], [b]) => (a < b ? -1 : 1));
    assert.equal(await all(''), expected);
    assert.equal(await all('c'), [['0/0/0', 100], ['0/1/2', 0], ['9/0/0', 7]], 'relative to the prefix; not cx/');
    assert.equal(await all('none'), []);
    assert.equal(await all('c/0/0/0/deeper'), []);
    assert.is(await store.size('c/0/0/0'), 100);
    assert.is(await store.size('c/0/1/2'), 0);
    assert.is(await store.size('c/0'), undefined, 'a folder-like prefix has no size');
    assert.is(await store.size('missing'), undefined);
  });

  withStore('delete removes one key; a missing key is no error', async (store) => {
    await store.set('c/0/0/0', Uint8Array.of(1));
    await store.set('c/0/0/1', Uint8Array.of(2));
    await store.delete('c/0/0/0');
    assert.is(await store.has('c/0/0/0'), false);
    assert.is(await store.get('c/0/0/0'), undefined);
    assert.equal([...(await store.get('c/0/0/1'))!], [2], 'its sibling stays');
    await store.delete('c/0/0/0');
    await store.delete('never/was');
  });

  withStore('deleteAll removes everything below a prefix and nothing beside it (not even a longer name)', async (store) => {
    await Promise.all([
      store.set('c/0/0/0', Uint8Array.of(1)),
      store.set('c/0/1/0', Uint8Array.of(1)),
      store.set('c/0/2', Uint8Array.of(1)),
      store.set('c/0x/0', Uint8Array.of(2)),
      store.set('c/00', Uint8Array.of(3)),
      store.set('c/1/0/0', Uint8Array.of(4)),
      store.set('zarr.json', Buffer.from('{}')),
    ]);
    await store.deleteAll('c/0');
    assert.is(await store.has('c/0/0/0'), false);
    assert.is(await store.has('c/0/2'), false);
    assert.equal(await store.list('c/0'), []);
    assert.equal(await store.folders('c/0'), []);
    assert.equal((await store.folders('c')).sort(), ['0x', '1']);
    assert.equal(await store.list('c'), ['00']);
    assert.ok(await store.has('c/0x/0'));
    assert.ok(await store.has('c/1/0/0'));
    assert.ok(await store.has('zarr.json'));
    await store.deleteAll('c/0');
    await store.deleteAll('not/there');
    await store.set('c/0/0/0', Uint8Array.of(9));
    assert.equal([...(await store.get('c/0/0/0'))!], [9], 'writable again after');
  });

  withStore('deleteAll("") empties the store, which stays usable', async (store) => {
    await Promise.all([store.set('zarr.json', Buffer.from('{}')), store.set('c/0/0/0', Uint8Array.of(1)), store.set('.slabchunk/rows/0', Uint8Array.of(1))]);
    await store.deleteAll('');
    assert.equal(await store.list(''), []);
    assert.equal(await store.folders(''), []);
    assert.is(await store.has('c/0/0/0'), false);
    await store.set('c/0/0/0', Uint8Array.of(2));
    assert.equal([...(await store.get('c/0/0/0'))!], [2]);
    await store.deleteAll('');
    await store.deleteAll('');
  });

  withStore('within: the keys below a prefix, as a store of its own', async (store) => {
    const level = store.within('0');
    assert.ok(level.location.includes(store.location) && level.location.endsWith('0'), level.location);
    await level.set('zarr.json', Buffer.from('{"level":0}'));
    await level.set('c/0/0/0', Uint8Array.of(5));
    assert.is(text(await store.get('0/zarr.json')), '{"level":0}');
    assert.equal([...(await store.getRange('0/c/0/0/0', { offset: 0, length: 1 }))!], [5]);
    await store.set('0/c/1/0/0', Uint8Array.of(6));
    assert.equal([...(await level.get('c/1/0/0'))!], [6]);
    assert.equal(await level.list(''), ['zarr.json']);
    assert.equal(await level.folders(''), ['c']);
    const deeper = level.within('c/1');
    assert.equal(await deeper.folders(''), ['0']);
    assert.equal([...(await store.within('0/c').get('1/0/0'))!], [6], 'a nested prefix at once');
    await store.set('1/zarr.json', Buffer.from('{}'));
    await level.deleteAll('');
    assert.equal(await level.list(''), []);
    assert.equal(await level.folders(''), []);
    assert.equal(await store.folders('0'), []);
    assert.ok(await store.has('1/zarr.json'), 'its deleteAll("") stays inside it');
  });

  withStore('removeTemporaries removes no value', async (store) => {
    await Promise.all([store.set('zarr.json', Buffer.from('{}')), store.set('c/0/0/0', Uint8Array.of(1)), store.set('.slabchunk/rows/0', new Uint8Array(0))]);
    assert.is(await store.removeTemporaries(), 0);
    assert.ok(await store.has('zarr.json'));
    assert.ok(await store.has('c/0/0/0'));
    assert.ok(await store.has('.slabchunk/rows/0'));
    assert.is(await store.within('c').removeTemporaries(), 0);
  });

  withStore('keys that would leave the store are refused by every method; "" is a prefix, never a key', async (store) => {
    const refused = async (what: string, run: () => Promise<unknown> | unknown): Promise<void> => {
      const error = await (async () => run())().then(() => null, (e: SlabchunkError) => e);
      assert.is(error?.code, 'ESTORE', what);
    };
    for (const key of ['../x', '/etc/x', 'a//b', 'a/./b', '']) {
      await refused(`get ${key}`, () => store.get(key));
      await refused(`getRange ${key}`, () => store.getRange(key, { offset: 0, length: 1 }));
      await refused(`has ${key}`, () => store.has(key));
      await refused(`set ${key}`, () => store.set(key, Uint8Array.of(1)));
      await refused(`create ${key}`, () => store.create(key, Uint8Array.of(1)));
      await refused(`delete ${key}`, () => store.delete(key));
      await refused(`size ${key}`, () => store.size(key));
      await refused(`within ${key}`, () => store.within(key));
    }
    for (const prefix of ['../x', '/etc', 'a//b', 'a/..']) {
      await refused(`list ${prefix}`, () => store.list(prefix));
      await refused(`folders ${prefix}`, () => store.folders(prefix));
      await refused(`deleteAll ${prefix}`, () => store.deleteAll(prefix));
      await refused(`listAll ${prefix}`, async () => {
        for await (const entry of store.listAll(prefix)) return entry;
        return undefined;
      });
    }
  });
}
