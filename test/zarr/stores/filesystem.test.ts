import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SlabchunkError } from '../../../src/core/errors.ts';
import { FileSystemStore } from '../../../src/zarr/stores/filesystem.ts';
import { prepareStoreDir } from '../../../src/zarr/stores/folder.ts';
import { halfThenFull } from '../../lib/stores.ts';
import { conformance } from './conformance.ts';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'slabchunk-store-'));
}

function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name).sort();
}

conformance('FileSystemStore', () => {
  const dir = tempDir();
  return { store: new FileSystemStore(dir), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
});

conformance('FileSystemStore with fsync', () => {
  const dir = tempDir();
  return { store: new FileSystemStore(dir, { fsync: true }), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
});

test('FileSystemStore: a list of parts is stored as their concatenation', async () => {
  const dir = tempDir();
  try {
    const store = new FileSystemStore(dir);
    await store.set('c/0/0/0', [Uint8Array.of(1, 2), new Uint8Array(0), Uint8Array.of(3)]);
    assert.equal([...readFileSync(join(dir, 'c/0/0/0'))], [1, 2, 3]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('FileSystemStore: keys that would leave the root are refused', async () => {
  const dir = tempDir();
  try {
    const store = new FileSystemStore(join(dir, 'root'));
    for (const key of ['../x', '/etc/x', 'a//b', 'a/./b', '']) {
      await store.set(key, Uint8Array.of(1)).then(() => assert.unreachable(key), (e: SlabchunkError) => assert.is(e.code, 'ESTORE', key));
    }
    assert.not.ok(existsSync(join(dir, 'x')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('FileSystemStore: a write that fails after a partial write leaves the old value and no temp file', async () => {
  const dir = tempDir();
  try {
    const store = new FileSystemStore(dir);
    await store.set('c/0/0/0', Uint8Array.of(1, 1, 1, 1));
    await store.set('c/0/0/1', Uint8Array.of(2, 2, 2, 2));
    const err = await store.set('c/0/0/0', halfThenFull(new Uint8Array(4096).fill(9), 'disk full')).then(() => null, (e: NodeJS.ErrnoException) => e);
    assert.is(err?.code, 'ENOSPC');
    assert.equal([...(await store.get('c/0/0/0'))!], [1, 1, 1, 1], 'old value kept whole');
    await store.set('c/0/0/2', Uint8Array.of(3));
    assert.equal(allFiles(dir), ['0', '1', '2'], 'no temporary files');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('prepareStoreDir: creates a missing path, accepts an empty one', async () => {
  const dir = tempDir();
  try {
    await prepareStoreDir(join(dir, 'a/b/store.zarr'), false);
    assert.ok(existsSync(join(dir, 'a/b/store.zarr')));
    await prepareStoreDir(join(dir, 'a/b/store.zarr'), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('prepareStoreDir: refuses non-empty paths and files; overwrite empties only Zarr stores', async () => {
  const dir = tempDir();
  try {
    const store = join(dir, 'store.zarr');
    mkdirSync(join(store, 'c/0'), { recursive: true });
    writeFileSync(join(store, 'zarr.json'), '{}');
    writeFileSync(join(store, 'c/0/0'), 'x');
    const refusal = await prepareStoreDir(store, false).then(() => null, (e: SlabchunkError) => e);
    assert.is(refusal?.code, 'ESTORE');
    assert.ok(refusal!.message.includes(store) && refusal!.message.includes('--overwrite'), refusal!.message);
    await prepareStoreDir(store, true);
    assert.equal(readdirSync(store), []);

    const other = join(dir, 'photos');
    mkdirSync(other);
    writeFileSync(join(other, 'cat.jpg'), 'meow');
    const kept = await prepareStoreDir(other, true).then(() => null, (e: SlabchunkError) => e);
    assert.is(kept?.code, 'ESTORE');
    assert.match(kept!.message, /refusing to delete/);
    assert.is(readFileSync(join(other, 'cat.jpg'), 'utf8'), 'meow');

    writeFileSync(join(dir, 'file'), 'x');
    const notDir = await prepareStoreDir(join(dir, 'file'), true).then(() => null, (e: SlabchunkError) => e);
    assert.is(notDir?.code, 'ESTORE');
    assert.match(notDir!.message, /not a directory/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
