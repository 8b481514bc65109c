import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SlabchunkError } from '../../../src/core/errors.ts';
import { FileSystemStore } from '../../../src/zarr/stores/filesystem.ts';
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
}, { atomicCreate: true });

conformance('FileSystemStore with fsync', () => {
  const dir = tempDir();
  return { store: new FileSystemStore(dir, { fsync: true }), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}, { atomicCreate: true });

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

test.run();
