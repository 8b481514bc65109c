/**
 * Real faults, not mocks: processes killed at random moments, write errors at random chunks, a disk that fills,
 * a folder that turns read-only, a second writer. After each, what is on disk is checked against a clean run of
 * the same conversion: no file under a final name differs from it (nothing torn), and `--resume` ends
 * byte-identical. The filesystem faults mount a small tmpfs (root only; skipped with a message elsewhere).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { slabchunk as cli, spawnSlabchunk } from '../lib/cli.ts';
import { assertSameTree as sameTree, fileTree, markedRows as marked } from '../lib/trees.ts';
import { generateVolume, mulberry32 } from '../../bench/lib/volume.ts';

const faults = suite('faults');
let dir = '';
faults.before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slabchunk-faults-'));
});
faults.after(() => fs.rmSync(dir, { recursive: true, force: true }));

const slabchunk = (args: string[]) => cli(args);

const SHAPE = [160, 128, 192] as const;
const BASE = ['--shape', SHAPE.join(','), '--dtype', 'uint16'];
/** Three kinds of run: unsharded (12 rows), sharded (6 shard-rows), and part 1 of 2 of the unsharded one. */
const CASES = {
  unsharded: { geometry: [...BASE, '--chunk', '32,32,16', '--codec', 'gzip:6'], part: undefined },
  sharded: { geometry: [...BASE, '--chunk', '16,16,16', '--shard', '64,64,32', '--codec', 'zstd:3+crc32c'], part: undefined },
  part: { geometry: [...BASE, '--chunk', '32,32,16', '--codec', 'gzip:6'], part: '1/2' },
} as const;
type CaseName = keyof typeof CASES;

let input = '';
const references = new Map<string, string>();

const isTemp = (rel: string): boolean => path.basename(rel).endsWith('.partial');

/** Temporaries are left out of compared trees: readers never see them. */
const final = (rel: string): boolean => !isTemp(rel);

function temps(root: string): string[] {
  return fs.existsSync(root) ? (fs.readdirSync(root, { recursive: true }) as string[]).filter(isTemp) : [];
}

/** Every file under a final name in `store` is the reference's file of that name, byte for byte: nothing torn. */
function assertNothingTorn(store: string, reference: string, label: string): void {
  const expected = fileTree(reference, final);
  for (const [name, bytes] of fileTree(store, final)) {
    if (name.startsWith('.slabchunk')) continue;
    const want = expected.get(name);
    assert.ok(want, `${label}: ${name} is not a file of the store`);
    assert.ok(bytes.equals(want), `${label}: ${name} is torn or wrong (${bytes.length} bytes, ${want.length} expected)`);
  }
}

/** A `convert` child; one a failed check leaves waiting on its input is killed within a minute. */
const spawnConvert = (args: string[], stdin: 'ignore' | 'pipe' = 'ignore') => spawnSlabchunk(['convert', ...args], { stdin, killAfterMs: 60_000 });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(5)) if (check()) return;
  throw new Error(`timed out waiting for ${what}`);
}

faults('clean single-process references', async () => {
  input = path.join(dir, 'vol.raw');
  await generateVolume(input, SHAPE, 'uint16', 5);
  for (const name of ['unsharded', 'sharded'] as const) {
    const reference = path.join(dir, `reference-${name}.zarr`);
    const r = await slabchunk(['convert', input, reference, ...CASES[name].geometry]);
    assert.is(r.code, 0, r.stderr);
    references.set(name, reference);
  }
  references.set('part', references.get('unsharded')!);
});

faults('SIGKILL at 21 random moments (unsharded, sharded, --part), then --resume: nothing torn, every store byte-identical', async () => {
  // Seeded: the same moments on every run, printed when a check fails.
  const next = mulberry32(11);
  let killed = 0;
  let takenOver = 0;
  for (const name of Object.keys(CASES) as CaseName[]) {
    const { geometry, part } = CASES[name];
    const partArgs = part ? ['--part', part] : [];
    const reference = references.get(name)!;
    // The kill lands anywhere from start-up to the end of a clean run's time.
    const started = Date.now();
    const timing = spawnConvert([input, path.join(dir, `timing-${name}.zarr`), ...geometry, ...partArgs]);
    assert.is((await timing.exited).code, 0);
    const span = Date.now() - started;
    for (let trial = 0; trial < 7; trial++) {
      const delay = Math.round(next() * span);
      const label = `${name}, kill after ${delay} ms of ${span}`;
      const store = path.join(dir, `killed-${name}-${trial}.zarr`);
      const { child, exited } = spawnConvert([input, store, ...geometry, ...partArgs]);
      await sleep(delay);
      child.kill('SIGKILL');
      const end = await exited;
      if (end.signal === 'SIGKILL') killed++;
      assertNothingTorn(store, reference, label);
      // Parts take no lock; a killed whole-volume run leaves one that --resume takes over.
      if (part) assert.not.ok(fs.existsSync(path.join(store, '.slabchunk', 'lock')), `${label}: a part took the lock`);
      const resumed = await slabchunk(['convert', input, store, ...geometry, ...partArgs, '--resume']);
      assert.is(resumed.code, 0, `${label}: ${resumed.stderr}`);
      if (/note: taking over the lock of .* from a run that no longer runs \(pid \d+/.test(resumed.stderr)) takenOver++;
      if (part) assert.is((await slabchunk(['convert', input, store, ...geometry, '--part', '0/2'])).code, 0);
      sameTree(store, reference, final, label);
      if (!part) assert.equal(temps(store), [], `${label}: temporaries left after --resume`);
    }
  }
  // Moments are spread over a clean run's time, so most land before the end; how many is the machine's business.
  assert.ok(killed >= 10, `only ${killed} of 21 runs were killed before they finished`);
  assert.ok(takenOver >= 2, `a stale lock was taken over only ${takenOver} times`);
});

faults('write errors at random chunks: the run fails naming the key, nothing torn, no temporaries; --resume completes it', async () => {
  const next = mulberry32(23);
  for (const name of ['unsharded', 'sharded'] as const) {
    const { geometry } = CASES[name];
    const reference = references.get(name)!;
    // Final names of the chunk (shard) files the clean run wrote.
    const files = [...fileTree(reference, final).keys()].filter((f) => f.startsWith(`c${path.sep}`));
    for (let trial = 0; trial < 3; trial++) {
      const store = path.join(dir, `blocked-${name}-${trial}.zarr`);
      // A non-empty folder where a chunk file must go: renaming the chunk into place fails (EISDIR) as a real
      // write error, at a random chunk in the middle of the run.
      const blocked = Array.from({ length: 2 }, () => files[Math.floor(next() * files.length)]!);
      for (const key of blocked) fs.mkdirSync(path.join(store, key, 'in-the-way'), { recursive: true });
      const label = `${name}: blocked ${blocked.join(', ')}`;
      const r = await slabchunk(['convert', input, store, ...geometry, '--resume']);
      assert.is(r.code, 1, `${label}: ${r.stderr}`);
      assert.match(r.stderr, /could not write c\/\d+\/\d+\/\d+ in /);
      assert.match(r.stderr, /\d+ of \d+ rows of .* are finished and kept; once the cause is fixed, rerun with --resume to continue:\n {2}slabchunk convert --resume .*\n/);
      for (const key of blocked) fs.rmSync(path.join(store, key), { recursive: true });
      assertNothingTorn(store, reference, label);
      assert.equal(temps(store), [], `${label}: temporaries left`);
      const resumed = await slabchunk(['convert', input, store, ...geometry, '--resume']);
      assert.is(resumed.code, 0, `${label}: ${resumed.stderr}`);
      sameTree(store, reference, final, label);
    }
  }
});

faults('a second writer is refused while a run holds the lock; the lock goes when the run ends', async () => {
  const { geometry } = CASES.unsharded;
  const store = path.join(dir, 'locked.zarr');
  // A run that waits on its input holds the lock for as long as the test needs.
  const { child, exited } = spawnConvert(['-', store, ...geometry], 'pipe');
  const lock = path.join(store, '.slabchunk', 'lock');
  // The lock comes first, then the store's documents: the run is waiting on its input once both are there.
  await until('the lock and the store', () => fs.existsSync(lock) && fs.existsSync(path.join(store, 'zarr.json')) && fs.existsSync(path.join(store, '.slabchunk', 'job.json')));
  const holder = JSON.parse(fs.readFileSync(lock, 'utf8')) as { pid: number; host: string };
  assert.is(holder.pid, child.pid);
  assert.is(holder.host, os.hostname());
  const before = fileTree(store, final);
  for (const extra of [['--overwrite'], ['--resume'], ['--part', '0/2']]) {
    const r = await slabchunk(['convert', input, store, ...geometry, ...extra]);
    assert.is(r.code, 2, `${extra.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`is being written by another slabchunk run \\(pid ${child.pid} on ${os.hostname()}, since .*\\); wait for it to end`));
  }
  assert.equal([...fileTree(store, final).keys()], [...before.keys()], 'a refused run changed the store');
  child.kill('SIGINT');
  const end = await exited;
  assert.is(end.code, 130, end.stderr);
  assert.not.ok(fs.existsSync(lock), 'the lock outlived its run');
});

faults('a stale lock: refused without --resume, named when on another machine, taken over by --resume', async () => {
  const { geometry } = CASES.unsharded;
  const store = path.join(dir, 'stale.zarr');
  assert.is((await slabchunk(['convert', input, store, ...geometry, '--part', '0/2'])).code, 0);
  const lock = path.join(store, '.slabchunk', 'lock');
  // A pid that is certainly not running: a child that has exited.
  const gone = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => gone.on('exit', r));
  fs.writeFileSync(lock, JSON.stringify({ host: os.hostname(), pid: gone.pid, started: '2026-11-30T00:00:00.000Z', token: 'x' }));
  const plain = await slabchunk(['convert', input, store, ...geometry]);
  assert.is(plain.code, 2);
  assert.match(plain.stderr, new RegExp(`was left by a run that no longer runs \\(pid ${gone.pid} on .*\\); rerun with --resume to continue it, or --overwrite`));
  fs.writeFileSync(lock, JSON.stringify({ host: 'elsewhere.example', pid: 1, started: '2026-11-30T00:00:00.000Z', token: 'y' }));
  const remote = await slabchunk(['convert', input, store, ...geometry, '--resume']);
  assert.is(remote.code, 2, remote.stderr);
  assert.match(remote.stderr, /locked by a slabchunk run on another machine \(pid 1 on elsewhere\.example.*\), which cannot be checked from here; if that run has ended, delete .*lock and rerun with --resume/);
  fs.writeFileSync(lock, JSON.stringify({ host: os.hostname(), pid: gone.pid, started: '2026-11-30T00:00:00.000Z', token: 'z' }));
  const resumed = await slabchunk(['convert', input, store, ...geometry, '--resume']);
  assert.is(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`note: taking over the lock of .*stale\\.zarr from a run that no longer runs \\(pid ${gone.pid}`));
  assert.not.ok(fs.existsSync(lock));
  sameTree(store, references.get('unsharded')!, final, 'stale lock');
});

// ---- a real small filesystem: tmpfs, full or read-only mid-run ----

interface Tmpfs {
  readonly at: string;
  remount(options: string): void;
}

/**
 * Runs `body` on a tmpfs of `size` mounted at a new folder, unmounted after; where mounting is not allowed (not
 * root), `test` is skipped with a message.
 */
async function withTmpfs(name: string, size: string, test: string, body: (fsys: Tmpfs) => Promise<void>): Promise<void> {
  const at = path.join(dir, name);
  fs.mkdirSync(at);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', at], { stdio: 'pipe' });
  } catch (error) {
    console.log(`faults: skipping ${test}: cannot mount a tmpfs here (${String((error as { stderr?: Buffer }).stderr ?? error).trim()}); `
      + 'run as root to test full and read-only disks');
    return;
  }
  try {
    await body({ at, remount: (options) => execFileSync('mount', ['-o', `remount,${options}`, at]) });
  } finally {
    // Lazily: a child killed by its deadline may still be closing its files.
    execFileSync('umount', ['--lazy', at]);
  }
}

const SMALL = ['--shape', '256,256,64', '--dtype', 'uint16', '--chunk', '64,64,16', '--codec', 'raw'];

faults('a disk that fills mid-run keeps the finished rows and names the command; a bigger disk and --resume complete the store', () => withTmpfs('full', '5m', 'the full-disk test', async (fsys) => {
  const small = path.join(dir, 'small.raw');
  await generateVolume(small, [256, 256, 64], 'uint16', 9);
  const reference = path.join(dir, 'reference-small.zarr');
  assert.is((await slabchunk(['convert', small, reference, ...SMALL])).code, 0);
  // 4 rows of 2 MiB, stored raw: two fit in 5 MiB, the third fills the disk.
  const store = path.join(fsys.at, 'scan.zarr');
  const r = await slabchunk(['convert', small, store, ...SMALL, '--threads', '1', '--concurrency', '2']);
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /ENOSPC/);
  const kept = Number(/(\d) of 4 rows of \S+ are finished and kept; once the cause is fixed, rerun with --resume to continue:/.exec(r.stderr)?.[1]);
  assert.ok(kept >= 1, r.stderr);
  assert.is(marked(store).length, kept);
  assertNothingTorn(store, reference, 'full disk');
  assert.equal(temps(store), []);
  const command = /\n {2}slabchunk (convert .*)\n?$/.exec(r.stderr)![1]!.split(' ');
  assert.equal(command.slice(0, 2), ['convert', '--resume']);
  fsys.remount('size=32m');
  const resumed = await slabchunk(command);
  assert.is(resumed.code, 0, resumed.stderr);
  sameTree(store, reference, final, 'full disk, resumed');
  assert.is((await slabchunk(['verify', small, store])).code, 0);
}));

faults('a folder that turns read-only mid-run: the run fails cleanly, finished rows stay; writable again, --resume completes it', () => withTmpfs('readonly', '64m', 'the read-only test', async (fsys) => {
  const small = path.join(dir, 'small.raw');
  const reference = path.join(dir, 'reference-small.zarr');
  const store = path.join(fsys.at, 'scan.zarr');
  const bytes = fs.readFileSync(small);
  const row = bytes.length / 4;
  // The input comes through a pipe the test feeds: one row, then (once it is marked, and no file is open for
  // writing, which a remount to read-only would refuse) read-only, then the rest.
  const { child, exited } = spawnConvert(['-', store, ...SMALL, '--threads', '1'], 'pipe');
  // The run may fail (as it should) before it has taken all of its input.
  child.stdin!.on('error', () => undefined);
  child.stdin!.write(bytes.subarray(0, row));
  await until('row 0 marked', () => marked(store).includes(0));
  fsys.remount('ro');
  child.stdin!.end(bytes.subarray(row));
  const end = await exited;
  assert.is(end.code, 1, end.stderr);
  assert.match(end.stderr, /EROFS|read-only file system/i, end.stderr);
  assert.match(end.stderr, /\d of 4 rows of \S+ are finished and kept/);
  assert.match(end.stderr, /\(with the input as a file in place of -/);
  assert.ok(marked(store).includes(0));
  assertNothingTorn(store, reference, 'read-only');
  fsys.remount('rw');
  // The lock could not be removed from a read-only folder: its process is gone, so --resume takes it over.
  const resumed = await slabchunk(['convert', small, store, ...SMALL, '--resume']);
  assert.is(resumed.code, 0, resumed.stderr);
  sameTree(store, reference, final, 'read-only, resumed');
}));

faults.run();
