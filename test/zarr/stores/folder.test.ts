/**
 * The output checks and the lock, on every backend (a folder, and a bucket prefix when a local S3 server can start):
 * a new store needs an empty location, `--overwrite` clears only a Zarr store, joining refuses foreign files, and
 * one run at a time holds the lock, a stale one taken over by exactly one run.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SlabchunkError } from '../../../src/core/errors.ts';
import { FileSystemStore } from '../../../src/zarr/stores/filesystem.ts';
import { checkJoinDir, checkStoreDir, prepareStoreDir } from '../../../src/zarr/stores/folder.ts';
import { checkLock, readLock, takeLock } from '../../../src/zarr/stores/lock.ts';
import { S3Store } from '../../../src/zarr/stores/s3.ts';
import type { Store } from '../../../src/zarr/stores/types.ts';
import { objectStore } from '../../lib/object-store.ts';
import { withOverrides } from '../../lib/stores.ts';

/** A fresh empty location of each backend; null where the backend is unavailable. */
const BACKENDS: Record<string, (name: string) => Promise<{ store: Store; cleanup: () => void } | null>> = {
  folder: async (name) => {
    const dir = mkdtempSync(join(tmpdir(), 'slabchunk-folder-'));
    return { store: new FileSystemStore(join(dir, name)), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  },
  s3: async (name) => {
    const s3 = await objectStore();
    if (!s3) return null;
    return { store: new S3Store(`s3://${await s3.bucket()}/${name}`, { endpoint: s3.endpoint }), cleanup: () => undefined };
  },
};

const refusal = (work: Promise<unknown>): Promise<SlabchunkError | null> => work.then(() => null, (e: SlabchunkError) => e);
const bytes = (text: string) => Buffer.from(text);

for (const [backend, make] of Object.entries(BACKENDS)) {
  test(`${backend}: a missing or empty location takes a new store; a non-empty one only with --overwrite, and only a Zarr store`, async () => {
    const made = await make('store.zarr');
    if (!made) return;
    const { store, cleanup } = made;
    try {
      assert.equal(await checkStoreDir(store, false), { keys: [], folders: [] });
      await store.set('zarr.json', bytes('{}'));
      await store.set('c/0/0', bytes('x'));
      await store.set('.slabchunk/rows/0', new Uint8Array(0));
      await store.set('.slabchunk/lock', bytes('{}'));
      const refused = await refusal(prepareStoreDir(store, false));
      assert.is(refused?.code, 'ESTORE');
      assert.ok(refused!.message.includes(store.location) && refused!.message.includes('--overwrite'), refused!.message);
      await prepareStoreDir(store, true);
      assert.equal(await store.list(''), []);
      assert.equal(await store.folders(''), ['.slabchunk'], 'only our folder is left');
      assert.equal(await store.list('.slabchunk'), ['lock'], 'the lock of the run clearing the store stays; markers go');
      assert.equal(await store.folders('.slabchunk'), []);
    } finally {
      cleanup();
    }
  });

  test(`${backend}: --overwrite never deletes a location of other files`, async () => {
    const made = await make('photos');
    if (!made) return;
    const { store, cleanup } = made;
    try {
      await store.set('cat.jpg', bytes('meow'));
      await store.set('album/dog.jpg', bytes('woof'));
      const kept = await refusal(prepareStoreDir(store, true));
      assert.is(kept?.code, 'ESTORE');
      assert.match(kept!.message, /refusing to delete/);
      assert.is(Buffer.from((await store.get('cat.jpg'))!).toString(), 'meow');
      assert.is(Buffer.from((await store.get('album/dog.jpg'))!).toString(), 'woof');
      const joined = await refusal(checkJoinDir(store));
      assert.is(joined?.code, 'ESTORE');
      assert.match(joined!.message, /not part of a Zarr store/);
    } finally {
      cleanup();
    }
  });

  test(`${backend}: one lock at a time; released, it can be taken again; a stale one is taken over by one run of several`, async () => {
    const made = await make('locked.zarr');
    if (!made) return;
    const { store, cleanup } = made;
    try {
      const lock = await takeLock(store);
      assert.is((await readLock(store)).kind, 'live');
      assert.is((await refusal(takeLock(store)))?.code, 'ESTORE');
      assert.is((await refusal(checkLock(store, true)))?.code, 'ESTORE', 'a live lock is never taken over');
      await lock.release();
      assert.is((await readLock(store)).kind, 'none');
      // A lock left by a process that is gone: pid 2^22 + 1 is above Linux's pid_max.
      const stale = { host: hostname(), boot: '', pid: 4194305, started: '2026-01-01T00:00:00Z', token: 'gone' };
      await store.set('.slabchunk/lock', bytes(JSON.stringify(stale)));
      assert.is((await refusal(checkLock(store, false)))?.code, 'ESTORE');
      assert.match((await checkLock(store, true))!, /taking over/);
      const tries = await Promise.allSettled([takeLock(store), takeLock(store), takeLock(store)]);
      assert.is(tries.filter((t) => t.status === 'fulfilled').length, 1, 'exactly one run took the stale lock over');
      for (const t of tries) if (t.status === 'rejected') assert.is((t.reason as SlabchunkError).code, 'ESTORE');
      assert.is((await readLock(store)).kind, 'live');
      await (tries.find((t) => t.status === 'fulfilled') as PromiseFulfilledResult<{ release(): Promise<void> }>).value.release();
      assert.equal(await store.list('.slabchunk'), [], 'no lock or claim left behind');

      // A run that died while taking over left its claim beside the stale lock: the claim is stale too, and removed.
      await store.set('.slabchunk/lock', bytes(JSON.stringify(stale)));
      await store.set('.slabchunk/lock.gone.claim', bytes(JSON.stringify({ ...stale, token: 'dead-claimer' })));
      const after = await takeLock(store);
      assert.is((await readLock(store)).kind, 'live');
      await after.release();
      assert.equal(await store.list('.slabchunk'), [], 'the dead claim is gone');
    } finally {
      cleanup();
    }
  });
}

test('folder: a run that saw the stale lock claims it only after another run took over: refused, the lock stays the other\'s', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slabchunk-folder-'));
  try {
    const base = new FileSystemStore(join(dir, 'race.zarr'));
    await base.set('.slabchunk/lock', bytes(JSON.stringify({ host: hostname(), boot: '', pid: 4194305, started: '2026-01-01T00:00:00Z', token: 'gone' })));
    let atClaim!: () => void;
    const reached = new Promise<void>((resolve) => { atClaim = resolve; });
    let go!: () => void;
    const proceed = new Promise<void>((resolve) => { go = resolve; });
    const late = withOverrides(base, {
      async create(key, value) {
        if (key.endsWith('.claim')) {
          atClaim();
          await proceed;
        }
        return base.create(key, value);
      },
    });
    const b = takeLock(late).then(() => null, (e: SlabchunkError) => e);
    await reached;
    const a = await takeLock(base);
    go();
    const refused = await b;
    assert.is(refused?.code, 'ESTORE', 'the late run took the lock too');
    const state = await readLock(base);
    assert.is(state.kind, 'live');
    await a.release();
    assert.equal(await base.list('.slabchunk'), [], 'no lock or claim left behind');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('folder: a file where the store should be is refused, naming it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'slabchunk-folder-'));
  try {
    writeFileSync(join(dir, 'file'), 'x');
    const notDir = await refusal(prepareStoreDir(new FileSystemStore(join(dir, 'file')), true));
    assert.is(notDir?.code, 'ESTORE');
    assert.match(notDir!.message, /not a directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
