/**
 * `slabchunk view`: one HTTP server on 127.0.0.1 serving a Zarr store under `/store/` and the neuroglancer viewer
 * built into the package (`npm run build:viewer` → dist/viewer/) under `/viewer/`, and the URL that opens the
 * store in that viewer. Store files answer Range requests and CORS, which neuroglancer needs: for a sharded array
 * it HEADs each shard for its size, then reads the shard index and the chunks by byte range. A folder's files are
 * streamed from the disk; any other store (an `s3://` bucket the browser cannot reach, or has no CORS for) is
 * served through its {@link Store}, each Range request one ranged read.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pipeline } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { SlabchunkError, wrapError } from '../core/errors.ts';
import { joinLocation, locate, readJson, type LocatedStore, type ReadSettings, type StoreSource } from '../zarr/reader.ts';
import { FileSystemStore } from '../zarr/stores/filesystem.ts';
import type { Store } from '../zarr/stores/types.ts';

/** The built viewer: dist/viewer/ of the package, from the source tree and from dist/ alike. */
export const VIEWER_DIR = fileURLToPath(new URL('../../dist/viewer/', import.meta.url));

/** The command that builds {@link VIEWER_DIR}, named in the error when it is missing. */
export const BUILD_VIEWER_COMMAND = 'npm run build:viewer';

export interface ServeOptions extends ReadSettings {
  /** Port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** The built viewer to serve under `/viewer/`. Default {@link VIEWER_DIR}. */
  viewerDir?: string;
  /** How many of the latest requests {@link ViewServer.requests} keeps at least (and at most twice). Default 10 000. */
  logLimit?: number;
}

/** One answered request, as the server's log keeps it. */
export interface ServedRequest {
  method: string;
  /** The decoded URL path, e.g. `/store/0/c/1/2/3`. */
  path: string;
  /** The request's `Range` header, when it had one. */
  range?: string;
  status: number;
}

export interface ViewServer {
  /** The viewer with the store open in it: `http://127.0.0.1:PORT/viewer/#!{state}`. */
  url: string;
  /** The store's root: `http://127.0.0.1:PORT/store/`. */
  storeUrl: string;
  port: number;
  /** The latest answered requests, oldest first (at least the last `logLimit`, at most twice as many). */
  readonly requests: readonly ServedRequest[];
  /** Stops accepting requests and ends open connections. */
  close(): Promise<void>;
}

/** What `view` found at the store path. */
export interface ViewableStore {
  zarrFormat: 2 | 3;
  /** A group (an OME-Zarr image) or one bare array. */
  node: 'group' | 'array';
}

/**
 * What is at `source` (a folder, an `s3://` URL with `settings.s3Endpoint` for a custom service, or a
 * {@link Store}): a Zarr v3 node (`zarr.json`), a v2 group (`.zgroup`) or a v2 array (`.zarray`). ESTORE naming
 * the location when it is none of them.
 */
export async function viewableStore(source: StoreSource, settings: ReadSettings = {}): Promise<ViewableStore> {
  return viewableAt(locate(source, settings));
}

async function viewableAt({ store, at }: LocatedStore): Promise<ViewableStore> {
  const has = (name: string) => store.has(name).catch((error: unknown) => {
    throw wrapError(error, 'EREAD', `could not read ${joinLocation(at, name)}`, { key: name });
  });
  if (await has('zarr.json')) {
    let node: unknown;
    try {
      node = (await readJson(store, 'zarr.json', at))?.node_type;
    } catch (cause) {
      throw new SlabchunkError('ESTORE', `${joinLocation(at, 'zarr.json')} is not valid JSON; is ${at} a Zarr store?`, { cause });
    }
    if (node === 'group' || node === 'array') return { zarrFormat: 3, node };
    throw new SlabchunkError('ESTORE', `${joinLocation(at, 'zarr.json')} has node_type ${JSON.stringify(node)}, not "group" or "array"`);
  }
  if (await has('.zgroup')) return { zarrFormat: 2, node: 'group' };
  if (await has('.zarray')) return { zarrFormat: 2, node: 'array' };
  if (!(store instanceof FileSystemStore)) {
    throw new SlabchunkError('ESTORE', `${at} is not a Zarr store: it has no zarr.json, .zgroup or .zarray; give the location that slabchunk convert wrote`, { key: at });
  }
  const exists = await fs.promises.stat(store.root).then((s) => s.isDirectory(), () => false);
  throw new SlabchunkError('ESTORE', exists
    ? `${at} is not a Zarr store: it has no zarr.json, .zgroup or .zarray; give the folder that slabchunk convert wrote`
    : `${at} does not exist; give the folder that slabchunk convert wrote`, { key: at });
}

/**
 * The neuroglancer state that shows the store at `storeUrl` as one image layer, as a URL fragment (`#!` and
 * the URI-encoded JSON). neuroglancer reads the levels and their placement from the OME metadata itself and
 * picks the level to fetch from the zoom, so the state names only the source.
 */
export function viewerFragment(storeUrl: string, store: ViewableStore, name: string): string {
  const state = { layers: [{ type: 'image', source: `zarr${store.zarrFormat}://${storeUrl}`, name }], layout: '4panel' };
  // Encoded as neuroglancer encodes its own URLs, so the state reads the same after it rewrites the fragment.
  return `#!${encodeURI(JSON.stringify(state)).replace(/[!'()*;,]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}

/**
 * Serves the store at `source` (a folder, an `s3://` URL with `options.s3Endpoint` for a custom service, or a
 * {@link Store}) and the viewer on 127.0.0.1 until `close()`. ESTORE when it is not a Zarr store, EINVALID when
 * the viewer is not built (naming the command that builds it) or the port is taken.
 */
export async function serveStore(source: StoreSource, options: ServeOptions = {}): Promise<ViewServer> {
  const located = locate(source, options);
  const store = await viewableAt(located);
  // A folder's files are streamed from the disk; any other store's keys are read through it.
  const disk = located.store instanceof FileSystemStore ? located.store.root : undefined;
  const viewerDir = options.viewerDir ?? VIEWER_DIR;
  if (!fs.existsSync(path.join(viewerDir, 'index.html'))) {
    throw new SlabchunkError('EINVALID', `the neuroglancer viewer is not built (no ${path.join(viewerDir, 'index.html')}); run ${BUILD_VIEWER_COMMAND} in the slabchunk package`);
  }
  const logLimit = options.logLimit ?? 10_000;
  const requests: ServedRequest[] = [];
  const log = (entry: ServedRequest) => {
    requests.push(entry);
    // Trimmed in halves, so a long session keeps its memory bounded without shifting the array on every request.
    if (requests.length >= 2 * logLimit) requests.splice(0, requests.length - logLimit);
  };
  const viewerRoot = path.resolve(viewerDir);
  let fragment = '';

  const server = http.createServer((req, res) => {
    const pathname = requestPath(req.url ?? '');
    const range = req.headers.range;
    res.on('close', () => log({ method: req.method ?? '', path: pathname ?? req.url ?? '', ...(range !== undefined ? { range } : {}), status: res.statusCode }));
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', 'Content-Range, Content-Length, Accept-Ranges');
    if (pathname === undefined) return end(res, 400);
    if (req.method === 'OPTIONS') return preflight(req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') return end(res, 405, { Allow: 'GET, HEAD, OPTIONS' });
    if (pathname === '/' || pathname === '/viewer') return end(res, 302, { Location: `/viewer/${fragment}` });
    const prefix = pathname.startsWith('/store/') ? '/store/' : pathname.startsWith('/viewer/') ? '/viewer/' : undefined;
    if (prefix === undefined) return end(res, 404);
    const rest = pathname.slice(prefix.length) || (prefix === '/viewer/' ? 'index.html' : '');
    const segments = rest.split('/');
    if (segments.some((s) => s === '..' || s.includes('\\') || s.includes('\0'))) return end(res, 403);
    // slabchunk's own records (job, markers, lock) are not the store's data: no viewer needs them.
    if (prefix === '/store/' && segments[0] === '.slabchunk') return end(res, 404);
    if (prefix === '/store/' && disk === undefined) return void sendKey(req, res, located.store, segments);
    const file = path.join(prefix === '/store/' ? disk! : viewerRoot, ...segments);
    void sendFile(req, res, file, { cache: prefix === '/viewer/' && rest.startsWith('assets/') });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(new SlabchunkError('EINVALID',
      error.code === 'EADDRINUSE' ? `port ${options.port} on 127.0.0.1 is in use; give another --port, or 0 for any free one` : `could not serve on 127.0.0.1:${options.port ?? 0}: ${error.message}`,
      { cause: error })));
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  const storeUrl = `${origin}/store/`;
  fragment = viewerFragment(storeUrl, store, disk === undefined ? located.at.replace(/\/+$/, '').split('/').pop() ?? located.at : path.basename(disk));
  return {
    url: `${origin}/viewer/${fragment}`,
    storeUrl,
    port,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

/**
 * The decoded path of a request target, its `..` segments kept (a URL parser would resolve them, and the server
 * refuses them instead); undefined for a target that is not a path or does not decode.
 */
function requestPath(target: string): string | undefined {
  if (!target.startsWith('/')) return undefined;
  try {
    return decodeURIComponent(target.replace(/[?#].*$/s, ''));
  } catch {
    return undefined;
  }
}

/** CORS preflight: a suffix `Range` is not a CORS-safelisted header, so a viewer on another origin asks first. */
function preflight(req: http.IncomingMessage, res: http.ServerResponse): void {
  const headers: http.OutgoingHttpHeaders = {
    'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
    'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? 'Range',
    'Access-Control-Max-Age': '86400',
  };
  // Chrome asks before a public page (e.g. a hosted neuroglancer) may read from 127.0.0.1.
  if (req.headers['access-control-request-private-network'] === 'true') headers['Access-Control-Allow-Private-Network'] = 'true';
  end(res, 204, headers);
}

function end(res: http.ServerResponse, status: number, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, headers);
  res.end();
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.zarray': 'application/json',
  '.zattrs': 'application/json',
  '.zgroup': 'application/json',
};

/** A file, whole or the one byte range asked for, streamed from an open handle (so a stat and the bytes agree). */
async function sendFile(req: http.IncomingMessage, res: http.ServerResponse, file: string, { cache }: { cache: boolean }): Promise<void> {
  let handle: fs.promises.FileHandle;
  let size: number;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch {
    return end(res, 404);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) {
      await handle.close();
      return end(res, 404);
    }
    size = stat.size;
  } catch {
    await handle.close().catch(() => {});
    return end(res, 404);
  }
  const span = byteRange(req.headers.range, size);
  const headers: http.OutgoingHttpHeaders = {
    'Accept-Ranges': 'bytes',
    'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream',
    // A store can be rewritten while it is viewed; the viewer's hashed assets cannot change.
    'Cache-Control': cache ? 'public, max-age=31536000, immutable' : 'no-store',
  };
  if (span === 'unsatisfiable') {
    await handle.close();
    return end(res, 416, { ...headers, 'Content-Range': `bytes */${size}` });
  }
  const [start, last] = span ?? [0, size - 1];
  res.writeHead(span ? 206 : 200, {
    ...headers,
    'Content-Length': String(last - start + 1),
    ...(span ? { 'Content-Range': `bytes ${start}-${last}/${size}` } : {}),
  });
  if (req.method === 'HEAD' || last < start) {
    await handle.close();
    res.end();
    return;
  }
  pipeline(handle.createReadStream({ start, end: last }), res, () => {});
}

/**
 * The value at the key `segments` name, whole or the one byte range asked for, read through `store`: the range
 * with one ranged read once the size is known. 404 for a key the store lacks (or cannot name), 502 when the store
 * fails.
 */
async function sendKey(req: http.IncomingMessage, res: http.ServerResponse, store: Store, segments: readonly string[]): Promise<void> {
  const key = segments.join('/');
  if (segments.some((s) => s === '' || s === '.')) return end(res, 404);
  let size: number | undefined;
  try {
    size = await store.size(key);
  } catch (error) {
    return failed(res, error);
  }
  if (size === undefined) return end(res, 404);
  const span = byteRange(req.headers.range, size);
  const headers: http.OutgoingHttpHeaders = {
    'Accept-Ranges': 'bytes',
    'Content-Type': TYPES[path.extname(key)] ?? 'application/octet-stream',
    'Cache-Control': 'no-store',
  };
  if (span === 'unsatisfiable') return end(res, 416, { ...headers, 'Content-Range': `bytes */${size}` });
  const [start, last] = span ?? [0, size - 1];
  let body: Uint8Array | undefined;
  if (req.method !== 'HEAD' && last >= start) {
    try {
      body = span ? await store.getRange(key, { offset: start, length: last - start + 1 }) : await store.get(key);
    } catch (error) {
      return failed(res, error);
    }
    // Deleted, or rewritten shorter, since its size was asked: what the client would have got a moment later.
    if (body === undefined || body.length !== last - start + 1) return end(res, 404);
  }
  res.writeHead(span ? 206 : 200, {
    ...headers,
    'Content-Length': String(last - start + 1),
    ...(span ? { 'Content-Range': `bytes ${start}-${last}/${size}` } : {}),
  });
  res.end(body);
}

/** A store that failed a read: 404 for a key it cannot name, else 502 with the reason. */
function failed(res: http.ServerResponse, error: unknown): void {
  if (error instanceof SlabchunkError && error.code === 'ESTORE') return end(res, 404);
  res.writeHead(502, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(`the store could not be read: ${error instanceof Error ? error.message : String(error)}\n`);
}

/**
 * The one byte range `header` asks of a `size`-byte file, `[first, last]` inclusive; undefined for the whole file
 * (no header, a malformed one, or several ranges, which a server may ignore); 'unsatisfiable' for 416.
 */
export function byteRange(header: string | undefined, size: number): [number, number] | 'unsatisfiable' | undefined {
  const match = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined;
  const [, first, last] = match as unknown as [string, string, string];
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0) return 'unsatisfiable';
    // Every non-empty suffix of an empty file is satisfiable: the whole (empty) file.
    return size === 0 ? undefined : [Math.max(0, size - suffix), size - 1];
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return [start, last === '' ? size - 1 : Math.min(Number(last), size - 1)];
}
