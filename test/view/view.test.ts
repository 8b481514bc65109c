/**
 * `slabchunk view` end to end: a real neuroglancer (the bundle in dist/viewer/, built here when missing) in
 * Debian's headless chromium, driven by playwright-core, opens the URL the server gives for a store written by
 * `slabchunk convert --ome`. The server's request log shows which level's chunks the viewer fetched: zoomed out,
 * the coarsest level's and never level 0's; zoomed in, level 0's. The zoomed-in view is kept as
 * test-artifacts/view.png. Also the command itself: URL on stdout, a browser opened unless --no-open, SIGINT
 * ends it with 130, a folder that is not a store exits 2. Without chromium (scripts/browser.sh installs it) the
 * browser tests skip with a message.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { byteRange, serveStore, VIEWER_DIR, type ServedRequest, type ViewServer } from '../../src/ops/view.ts';
import { MAIN, slabchunk } from '../lib/cli.ts';
import { omeStore } from '../lib/ome-store.ts';

const ARTIFACTS = resolve('test-artifacts');
const CHROMIUM = ['chromium', 'chromium-browser']
  .flatMap((name) => (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, name)))
  .find((file) => existsSync(file));
const SKIP = 'SKIP browser test: no chromium on PATH (bash scripts/browser.sh installs Debian\'s chromium)';

/** Level 0 is 256×256×128 at 0.5,0.5,1 µm in 32³ chunks: levels 0–3, level 3 one chunk. */
const SHAPE = [256, 256, 128] as const;
const COARSEST = 3;
/**
 * The view's frame, given with every zoom: without `dimensions` neuroglancer reads `crossSectionScale` in metres
 * a pixel, and a state without `position` resets it (here to outside the volume).
 */
const FRAME = { dimensions: { x: [5e-7, 'm'], y: [5e-7, 'm'], z: [1e-6, 'm'] }, position: SHAPE.map((s) => s / 2), layout: 'xy' };

let dir: string;
let browser: Browser | undefined;

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'slabchunk-viewer-'));
  if (!existsSync(join(VIEWER_DIR, 'index.html'))) {
    console.log('building the viewer bundle (npm run build:viewer) for the view tests');
    await promisify(execFile)('npm', ['run', 'build:viewer'], { maxBuffer: 16 << 20 });
  }
  if (CHROMIUM) browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  else console.log(SKIP);
});
test.after(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The pyramid level a request read chunk bytes of (a shard, a shard index or a chunk), if it did. */
function chunkLevel(r: ServedRequest): number | undefined {
  const match = /^\/store\/(\d+)\/(.+)$/.exec(r.path);
  if (!match || /(^|\/)(zarr\.json|\.zarray|\.zattrs|\.zgroup)$/.test(match[2]!) || match[2]!.startsWith('.slabchunk/')) return undefined;
  return r.status === 200 || r.status === 206 ? Number(match[1]) : undefined;
}

const levelsFetched = (requests: readonly ServedRequest[]) => new Set(requests.map(chunkLevel).filter((l) => l !== undefined));

/** Resolves once `check` holds for the log, or fails naming `what` and the levels fetched so far. */
async function waitFor(server: ViewServer, what: string, check: (levels: Set<number>) => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check(levelsFetched(server.requests))) {
    if (Date.now() > deadline) assert.unreachable(`${what}: after ${timeoutMs} ms the viewer fetched chunks of levels [${[...levelsFetched(server.requests)]}]`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Resolves once no request has arrived for `quietMs` (the viewer has what the view needs), at most `timeoutMs`. */
async function settle(server: ViewServer, quietMs = 500, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let seen = -1;
  while (Date.now() < deadline && seen !== server.requests.length) {
    seen = server.requests.length;
    await new Promise((r) => setTimeout(r, quietMs));
  }
}

/** The server's URL with `changes` merged into its state: the view, as a user would zoom it. */
function withState(url: string, changes: Record<string, unknown>): string {
  const [page, fragment] = url.split('#!') as [string, string];
  const state = { ...(JSON.parse(decodeURIComponent(fragment)) as object), ...changes };
  return `${page}#!${encodeURIComponent(JSON.stringify(state))}`;
}

/** Opens the URL zoomed out (8 level-0 voxels a pixel), then zooms in (2 pixels a voxel): the levels fetched at each. */
async function zoomOutThenIn(page: Page, server: ViewServer): Promise<{ out: Set<number>; in: Set<number> }> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(withState(server.url, { ...FRAME, crossSectionScale: 8 }));
  await waitFor(server, 'zoomed out, the coarsest level', (levels) => levels.has(COARSEST));
  await settle(server);
  const out = levelsFetched(server.requests);
  const before = server.requests.length;
  await page.evaluate((hash) => { window.location.hash = hash; }, new URL(withState(server.url, { ...FRAME, crossSectionScale: 0.5 })).hash);
  await waitFor(server, 'zoomed in, level 0', (levels) => levels.has(0));
  await settle(server);
  assert.equal(errors, [], 'no errors in the page');
  return { out, in: levelsFetched(server.requests.slice(before)) };
}

test('chromium + neuroglancer on a sharded OME-Zarr 0.5 store: coarsest level zoomed out, level 0 zoomed in', async () => {
  if (!browser) return;
  const store = await omeStore(dir, 'shells.ome.zarr', { format: 3, shape: [...SHAPE], chunk: [32, 32, 32], shard: [64, 64, 64], codec: 'zstd+crc32c' });
  assert.ok(existsSync(join(store, String(COARSEST), 'zarr.json')) && !existsSync(join(store, String(COARSEST + 1))), `levels 0–${COARSEST}`);
  const server = await serveStore(store, { port: 0 });
  const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
  try {
    const levels = await zoomOutThenIn(page, server);
    assert.ok(levels.out.has(COARSEST), 'zoomed out: the coarsest level');
    assert.not.ok(levels.out.has(0), `zoomed out: no level-0 chunk (fetched levels [${[...levels.out]}])`);
    assert.ok(levels.in.has(0), 'zoomed in: level 0');
    // neuroglancer reads a shard by HEAD (its size), its index by byte range (8 chunks × 16 bytes + crc32c at the
    // end), then chunks by range: a server without ranges shows nothing.
    const shards = server.requests.filter((r) => r.path.startsWith('/store/0/c/'));
    const shard = shards.find((r) => r.method === 'HEAD' && r.status === 200);
    assert.ok(shard, 'HEAD of a level-0 shard');
    const size = (await stat(join(store, shard.path.slice('/store/'.length)))).size;
    const index = shards.find((r) => r.path === shard.path && r.status === 206 && r.range !== undefined && byteRange(r.range, size)?.toString() === [size - 132, size - 1].toString());
    assert.ok(index, `the index of ${shard.path} read by range: ${JSON.stringify(shards.filter((r) => r.path === shard.path))}`);
    assert.ok(shards.filter((r) => r.status === 206).length > shards.filter((r) => r.method === 'HEAD').length, 'chunks read by range');
    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'view.png') });
  } finally {
    await page.close();
    await server.close();
  }
});

test('chromium + neuroglancer on an OME-Zarr 0.4 (Zarr v2) store: the same levels', async () => {
  if (!browser) return;
  const store = await omeStore(dir, 'shells-v2.ome.zarr', { format: 2, shape: [...SHAPE], chunk: [32, 32, 32] });
  const server = await serveStore(store, { port: 0 });
  const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
  try {
    const levels = await zoomOutThenIn(page, server);
    assert.ok(levels.out.has(COARSEST) && !levels.out.has(0), `zoomed out: the coarsest level, not level 0 ([${[...levels.out]}])`);
    assert.ok(levels.in.has(0), 'zoomed in: level 0');
  } finally {
    await page.close();
    await server.close();
  }
});

/** `slabchunk view ARGS` as a child process with `bin` first on PATH; resolves with the first stdout line. */
function startView(args: string[], bin: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'view', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` },
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const url = new Promise<string>((done, fail) => {
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      if (stdout.includes('\n')) done(stdout.split('\n')[0]!);
    });
    void exited.then((code) => fail(new Error(`slabchunk view exited ${code} before printing a URL: ${stderr}`)));
  });
  return { child, url, exited, stderr: () => stderr };
}

test('slabchunk view: prints the URL, opens it with xdg-open unless --no-open, serves the store, SIGINT exits 130', async () => {
  const store = join(dir, 'cli.zarr');
  await mkdir(store, { recursive: true });
  await writeFile(join(store, '.zgroup'), '{"zarr_format":2}');
  // A stand-in xdg-open that records the URL it was given.
  const bin = join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  await writeFile(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > "$0.$PPID.url"\n`);
  await chmod(join(bin, 'xdg-open'), 0o755);

  const opened = startView([store], bin);
  const quiet = startView([store, '--no-open', '--port', '0'], bin);
  const [url, quietUrl] = await Promise.all([opened.url, quiet.url]);
  for (const u of [url, quietUrl]) assert.match(u, /^http:\/\/127\.0\.0\.1:\d+\/viewer\/#!/);
  const origin = new URL(url).origin;
  const served = await fetch(`${origin}/store/.zgroup`);
  assert.is(served.status, 200);
  assert.is(await served.text(), '{"zarr_format":2}');
  assert.match(opened.stderr(), /serving .*cli\.zarr at http:\/\/127\.0\.0\.1:\d+\/store\//);

  const recorded = async (pid: number | undefined) => readFile(join(bin, `xdg-open.${pid}.url`), 'utf8').catch(() => undefined);
  const deadline = Date.now() + 5000;
  while ((await recorded(opened.child.pid)) === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.is(await recorded(opened.child.pid), url, 'xdg-open got the URL');
  assert.is(await recorded(quiet.child.pid), undefined, '--no-open opens nothing');

  opened.child.kill('SIGINT');
  quiet.child.kill('SIGTERM');
  assert.equal(await Promise.all([opened.exited, quiet.exited]), [130, 130]);
  const closed = await fetch(`${origin}/store/.zgroup`).then(() => 'open', () => 'closed');
  assert.is(closed, 'closed', 'the server stopped with the command');
});

test('slabchunk view: a folder that is not a Zarr store exits 2 and says what to give', async () => {
  const ran = await slabchunk(['view', dir, '--no-open']);
  assert.is(ran.code, 2);
  assert.match(ran.stderr, /is not a Zarr store: it has no zarr\.json, \.zgroup or \.zarray; give the folder that slabchunk convert wrote/);
});

test.run();
