/**
 * Bench (issue 14): `slabchunk convert` of the bench volume (zstd:3, 64³ chunks in 256³ shards) into a bucket of a
 * real object store — a private OpenStack Swift with the S3 API started here (scripts/object-store/start.sh) and
 * stopped by its pids at the end, also on failure — against tensorstore writing the same store to the same endpoint
 * through its own `s3` kvstore (bench/peers/tensorstore_write.py), and against the same conversion onto local
 * disk, all in the same run, the order of the two S3 writers alternating between repetitions.
 *
 *   npm run build && flock /tmp/bench.lock npm run bench:s3              # 1 GiB uint16 1024×1024×512, median of 3
 *   ... -- --size 256                                                   # 256 MiB (1024×1024×128), for development: one partial
 *                                                                       # shard-row, so reading and encoding cannot overlap
 *   ... -- --repeat 1 --keep                                            # one run each; keep the server's directory
 *
 * Reported per writer: seconds (the tool's own; wall seconds of the process beside them), the ratios slabchunk-S3 ÷
 * tensorstore-S3 (target ≤ 1.0) and S3 ÷ local disk, CPU seconds per GiB and peak RSS (GNU time), the requests that
 * reached Swift's storage servers by kind (from the servers' access log: each S3 request is one Swift transaction;
 * a request refused before reaching them, such as a failed signature, is not counted), the objects and bytes
 * the bucket holds after the run (ListObjectsV2), Swift's own CPU seconds, and the mean number of requests in
 * progress at the object server (the sum of its request durations ÷ the run's wall time). slabchunk's S3 store is
 * read back by tensorstore through its `s3` kvstore (bench/peers/read_compare.py), once.
 *
 * The access log: start.sh points every daemon's syslog at DIR/run/nolog, which does not exist, so they log
 * nowhere. This bench binds a Unix datagram socket there before starting the server (a few lines of Python,
 * stopped by pid at the end), and the daemons log to it.
 *
 * Skips with a message where Swift cannot start; runs slabchunk alone where tensorstore is absent.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Vec3 } from '../src/core/geometry.ts';
import type { EngineReport } from '../src/ops/engine/engine.ts';
import { S3_MULTIPART_THRESHOLD, S3_PART_SIZE, S3_QUEUE_SIZE } from '../src/zarr/stores/s3.ts';
import { canMeasureChildRss, runChild, type ChildResult } from './lib/child.ts';
import { readServerEnv, serverClient } from './lib/object-store.ts';
import { BENCH_DATA, PEERS, ROOT, SETUP_HINT, tensorstorePython } from './lib/python.ts';
import { storeSize } from './lib/store-size.ts';
import { generateVolume } from './lib/volume.ts';

const MiB = 2 ** 20;
const GiB = 2 ** 30;
const DTYPE = 'uint16';
const CHUNK: Vec3 = [64, 64, 64];
const SHARD: Vec3 = [256, 256, 256];
const CODEC = 'zstd:3';
const CLI = join(ROOT, 'dist/cli/bin.cjs');
const SCRIPTS = join(ROOT, 'scripts/object-store');

const { values: opts } = parseArgs({
  options: {
    size: { type: 'string', default: '1024' },
    repeat: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
  },
});
const repeat = Number(opts.repeat);
if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat must be a positive integer; got ${opts.repeat}`);
const sizeMiB = Number(opts.size);
if (!Number.isInteger(sizeMiB) || sizeMiB < 2 || sizeMiB % 2 !== 0) throw new Error(`--size must be an even number of MiB (1024, 512, 256, ...); got ${opts.size}`);
/** 1024×1024 uint16 slabs of 2 MiB: the volume of bench/convert.ts (1024×1024×512 for 1 GiB). */
const shape: Vec3 = [1024, 1024, sizeMiB / 2];
const inputBytes = shape[0] * shape[1] * shape[2] * 2;
const inputGiB = inputBytes / GiB;
const GEOMETRY = ['--shape', shape.join(','), '--dtype', DTYPE, '--chunk', CHUNK.join(','), '--codec', CODEC, '--shard', SHARD.join(',')];

type Tool = 'slabchunk S3' | 'tensorstore S3' | 'slabchunk local disk';

/** S3 requests of one run, by kind, as Swift's storage servers saw them. */
interface Requests {
  total: number;
  put: number;
  createMultipart: number;
  part: number;
  complete: number;
  get: number;
  head: number;
  list: number;
  delete: number;
  other: number;
  /** Mean object-server requests in progress over the run: Σ their durations ÷ the run's wall seconds. */
  inFlight: number;
}

interface Row {
  tool: Tool;
  /** The tool's own seconds (process start-up excluded). */
  seconds: number;
  wallSeconds: number;
  peakRssBytes: number | null;
  cpuSeconds: number | null;
  engine?: EngineReport;
  requests?: Requests;
  objects: number;
  storedBytes: number;
  swiftCpuSeconds?: number;
  note: string;
}

const fmtMiB = (bytes: number | null | undefined): string => (bytes == null ? 'n/a' : (bytes / MiB).toFixed(0));

function failure(tool: string, result: ChildResult): string {
  const tail = (result.stderr || result.stdout).trim().split('\n').slice(-6).join('\n    ');
  return `${tool} failed (exit ${result.code}):\n    ${tail}`;
}

async function ensureVolume(): Promise<string> {
  const path = join(BENCH_DATA, `volume-${shape.join('x')}-${DTYPE}-s1.raw`);
  if ((await stat(path).catch(() => null))?.size === inputBytes) return path;
  console.error(`generating ${path} (${fmtMiB(inputBytes)} MiB) ...`);
  await mkdir(BENCH_DATA, { recursive: true });
  await generateVolume(`${path}.tmp`, shape, DTYPE, 1);
  await rename(`${path}.tmp`, path);
  return path;
}

// ---- the server ---------------------------------------------------------------------------------------------------

/** Receives the daemons' syslog datagrams on argv[1] and appends them, one per line, to argv[2]. */
const SYSLOG_SINK = `
import os, socket, sys
path, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(path)
with open(out, "ab", buffering=0) as f:
    while True:
        f.write(s.recv(65536).rstrip(b"\\0") + b"\\n")
`;

interface Server {
  dir: string;
  env: Record<string, string>;
  client: S3Client;
  log: string;
  /** Pids start.sh recorded (each Swift server leads its own process group). */
  pids: number[];
}

let serverDir: string | null = null;
let sink: ChildProcess | null = null;

/** Stops the server and the log sink by their pids; removes the directory unless --keep. Safe to call twice. */
function stopServer(): void {
  if (serverDir) {
    spawnSync('bash', [join(SCRIPTS, 'stop.sh'), serverDir], { stdio: 'ignore' });
    if (!opts.keep) rmSync(serverDir, { recursive: true, force: true });
    else console.error(`kept the server's directory ${serverDir} (stopped)`);
    serverDir = null;
  }
  if (sink?.pid !== undefined && sink.exitCode === null) sink.kill('SIGTERM');
  sink = null;
}
process.once('exit', stopServer);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.exitCode = signal === 'SIGINT' ? 130 : 143;
    process.exit();
  });
}

async function startServer(): Promise<Server | string> {
  const dir = await mkdtemp(join(BENCH_DATA, 's3-swift-'));
  serverDir = dir;
  await mkdir(join(dir, 'run'), { recursive: true });
  await mkdir(join(dir, 'log'), { recursive: true });
  const socket = join(dir, 'run/nolog');
  const log = join(dir, 'log/requests.log');
  sink = spawn('python3', ['-c', SYSLOG_SINK, socket, log], { stdio: 'ignore' });
  for (let i = 0; i < 50 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 100));
  if (!existsSync(socket)) console.log('note: the log socket did not appear; request counts will be missing');
  const started = await runChild('bash', [join(SCRIPTS, 'start.sh'), dir]);
  if (started.code !== 0) return `Swift did not start: ${(started.stderr || started.stdout).trim().split('\n').slice(-3).join(' | ')}`;
  const env = readServerEnv(join(dir, 'env'));
  const client = serverClient(env);
  const pids = readdirSync(dir).filter((f) => f.endsWith('.pid')).map((f) => Number(readFileSync(join(dir, f), 'utf8').trim()));
  return { dir, env, client, log, pids };
}

/** CPU seconds (user + system) of Swift's processes: each recorded pid and every process in its group. */
function swiftCpuSeconds(server: Server): number {
  const tick = 100;
  let total = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let text: string;
    try {
      text = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // After the command: state ppid pgrp session ... utime (11th) stime (12th).
    const pgrp = Number(fields[2]);
    if (server.pids.includes(Number(name)) || server.pids.includes(pgrp)) total += (Number(fields[11]) + Number(fields[12])) / tick;
  }
  return total;
}

/** Bytes of the log file so far: a run's requests are the lines written after it. */
async function logSize(server: Server): Promise<number> {
  return (await stat(server.log).catch(() => null))?.size ?? 0;
}

/** One storage server's access-log line: `server: ip - - [date] "METHOD /dev/part/path" status bytes "METHOD url" "txid" "caller pid" seconds ...`. */
const ACCESS = /^<\d+>(object|container|account)-server: \S+ - - \[[^\]]*\] "(\w+) [^"]*" (\d+) \S+ "\w+ https?:\/\/[^/]+\/v1\/[^/]+\/([^"?]*)(\?[^"]*)?" "(tx[^"]+)" "(\w+-server) \d+" ([\d.]+)/;

/** The S3 requests made on `bucket` between byte `from` of the log and its end, by kind. */
async function countRequests(server: Server, bucket: string, from: number, wallSeconds: number): Promise<Requests | undefined> {
  const all = await readFile(server.log).catch(() => null);
  if (!all) return undefined;
  const byTx = new Map<string, { server: string; method: string; path: string; query: string }[]>();
  let objectSeconds = 0;
  for (const line of all.subarray(from).toString('utf8').split('\n')) {
    const m = ACCESS.exec(line);
    // Only what the proxy asked of a storage server (not the object server's container updates).
    if (!m || m[7] !== 'proxy-server') continue;
    const [, kind, method, , path, query = '', tx] = m;
    const container = decodeURIComponent(path!.split('/')[0] ?? '');
    if (container !== bucket && container !== `${bucket}+segments`) continue;
    if (kind === 'object') objectSeconds += Number(m[8]);
    const list = byTx.get(tx!) ?? [];
    list.push({ server: kind!, method: method!, path: decodeURIComponent(path!), query });
    byTx.set(tx!, list);
  }
  const r: Requests = { total: byTx.size, put: 0, createMultipart: 0, part: 0, complete: 0, get: 0, head: 0, list: 0, delete: 0, other: 0, inFlight: objectSeconds / wallSeconds };
  for (const ops of byTx.values()) {
    const objects = ops.filter((o) => o.server === 'object');
    const puts = objects.filter((o) => o.method === 'PUT');
    const segment = (o: { path: string }) => o.path.startsWith(`${bucket}+segments/`);
    if (puts.some((o) => /multipart-manifest=put/.test(o.query))) r.complete++;
    else if (puts.some((o) => segment(o) && /\/\d+$/.test(o.path))) r.part++;
    else if (puts.some(segment)) r.createMultipart++;
    else if (puts.length > 0) r.put++;
    else if (objects.some((o) => o.method === 'DELETE')) r.delete++;
    else if (objects.some((o) => o.method === 'GET')) r.get++;
    else if (ops.some((o) => o.server === 'container' && o.method === 'GET')) r.list++;
    else if (objects.some((o) => o.method === 'HEAD')) r.head++;
    else r.other++;
  }
  return r;
}

/** Objects and bytes in the bucket (every key), read with ListObjectsV2. */
async function bucketSize(client: S3Client, bucket: string): Promise<{ objects: number; bytes: number }> {
  let objects = 0;
  let bytes = 0;
  let ContinuationToken: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken }));
    for (const o of page.Contents ?? []) {
      objects++;
      bytes += o.Size ?? 0;
    }
    ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (ContinuationToken);
  return { objects, bytes };
}

// ---- the writers --------------------------------------------------------------------------------------------------

/** Dirty pages of the previous run would otherwise be flushed on the next one's time. */
async function settle(): Promise<void> {
  await runChild('sync', []);
}

interface Summary { seconds: number; peakRssBytes: number; engine: EngineReport }

let buckets = 0;

/** One writer into a fresh bucket; the row, or why it failed. */
async function runS3(server: Server, tool: 'slabchunk S3' | 'tensorstore S3', input: string, python: string | null): Promise<Row | string> {
  const bucket = `bench-${process.pid}-${++buckets}`;
  await server.client.send(new CreateBucketCommand({ Bucket: bucket }));
  const url = `s3://${bucket}/bench/volume.zarr`;
  const env = { ...process.env, ...server.env };
  await settle();
  const from = await logSize(server);
  const cpuBefore = swiftCpuSeconds(server);
  const r = tool === 'slabchunk S3'
    ? await runChild(process.execPath, [CLI, 'convert', input, url, ...GEOMETRY, '--json'], { cwd: ROOT, env })
    : await runChild(python!, [join(PEERS, 'tensorstore_write.py'), input, url, '--shape', shape.join(','), '--dtype', DTYPE,
      '--chunk', CHUNK.join(','), '--codec', CODEC, '--shard', SHARD.join(',')], { cwd: PEERS, env });
  const swiftCpu = swiftCpuSeconds(server) - cpuBefore;
  if (r.code !== 0) return failure(tool, r);
  // The log sink writes what the daemons sent; give the last datagrams a moment.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const requests = await countRequests(server, bucket, from, r.wallSeconds);
  const size = await bucketSize(server.client, bucket);
  const report = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Summary;
  return {
    tool, seconds: report.seconds, wallSeconds: r.wallSeconds, peakRssBytes: r.peakRssBytes ?? report.peakRssBytes, cpuSeconds: r.cpuSeconds,
    ...(report.engine ? { engine: report.engine } : {}), ...(requests ? { requests } : {}),
    objects: size.objects, storedBytes: size.bytes, swiftCpuSeconds: swiftCpu, note: url,
  };
}

async function runLocal(input: string): Promise<Row | string> {
  const out = join(BENCH_DATA, 'out-s3bench-local.zarr');
  await rm(out, { recursive: true, force: true });
  await settle();
  const r = await runChild(process.execPath, [CLI, 'convert', input, out, ...GEOMETRY, '--json'], { cwd: ROOT });
  try {
    if (r.code !== 0) return failure('slabchunk (local disk)', r);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Summary;
    const { files: objects, bytes } = await storeSize(out);
    return { tool: 'slabchunk local disk', seconds: summary.seconds, wallSeconds: r.wallSeconds, peakRssBytes: r.peakRssBytes ?? summary.peakRssBytes,
      cpuSeconds: r.cpuSeconds, engine: summary.engine, objects, storedBytes: bytes, note: '' };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/** tensorstore reads slabchunk's S3 store through its s3 kvstore and compares it with the input. */
async function readBack(server: Server, python: string, url: string, input: string): Promise<string> {
  const batch = join(server.dir, 'readback.json');
  await writeFile(batch, JSON.stringify([{ store: url, raw: input, shape, dtype: DTYPE, order: 'F' }]));
  const r = await runChild(python, [join(PEERS, 'read_compare.py'), '--reader', 'tensorstore', '--batch', batch], { cwd: PEERS, env: { ...process.env, ...server.env } });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return r.code === 0 ? `tensorstore s3 read back ok (${r.wallSeconds.toFixed(0)} s)` : `READ-BACK MISMATCH ${line || r.stderr.trim().split('\n').pop()}`;
}

// ---- the report ---------------------------------------------------------------------------------------------------

function median(runs: Row[]): Row {
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds);
  const mid = sorted[(sorted.length - 1) >> 1]!;
  const note = runs.map((r) => r.note).find((n) => n.startsWith('tensorstore') || n.startsWith('READ')) ?? '';
  const times = runs.length > 1 ? `median of ${runs.map((r) => r.seconds.toFixed(2)).join(', ')} s` : '';
  return { ...mid, note: [note, times].filter(Boolean).join('; ') };
}

function table(rows: Row[]): string {
  const ts = rows.find((r) => r.tool === 'tensorstore S3');
  const local = rows.find((r) => r.tool === 'slabchunk local disk');
  const ratio = (a: number, b: Row | undefined) => (b ? `${(a / b.seconds).toFixed(2)}×` : '–');
  const lines = [
    '| writer | s | wall s | MB/s | ÷ tensorstore S3 | ÷ local disk | CPU s/GiB | peak RSS MiB | requests | PutObject | multipart uploads | parts | GET | HEAD | LIST | DELETE | other | in flight at object server | objects | stored MiB | Swift CPU s | note |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of rows) {
    const q = r.requests;
    const n = (v: number | undefined) => (v === undefined ? '' : String(v));
    lines.push(`| ${r.tool} | ${r.seconds.toFixed(2)} | ${r.wallSeconds.toFixed(2)} | ${(inputBytes / 1e6 / r.seconds).toFixed(0)} | ` +
      `${r.tool === 'tensorstore S3' ? '' : ratio(r.seconds, ts)} | ${r.tool === 'slabchunk local disk' ? '' : ratio(r.seconds, local)} | ` +
      `${r.cpuSeconds === null ? 'n/a' : (r.cpuSeconds / inputGiB).toFixed(2)} | ${fmtMiB(r.peakRssBytes)} | ` +
      `${n(q?.total)} | ${n(q?.put)} | ${q ? `${q.complete} of ${q.createMultipart} begun` : ''} | ${n(q?.part)} | ${n(q?.get)} | ${n(q?.head)} | ${n(q?.list)} | ${n(q?.delete)} | ${n(q?.other)} | ` +
      `${q ? q.inFlight.toFixed(1) : ''} | ${r.objects} | ${fmtMiB(r.storedBytes)} | ${r.swiftCpuSeconds === undefined ? '' : r.swiftCpuSeconds.toFixed(1)} | ${r.note} |`);
  }
  return lines.join('\n');
}

function findings(rows: Row[]): string[] {
  const out: string[] = [];
  const sc = rows.find((r) => r.tool === 'slabchunk S3');
  const ts = rows.find((r) => r.tool === 'tensorstore S3');
  const local = rows.find((r) => r.tool === 'slabchunk local disk');
  if (sc && ts) out.push(`${sc.seconds <= ts.seconds ? 'PASS' : 'FAIL'} slabchunk S3: time ${(sc.seconds / ts.seconds).toFixed(2)}× tensorstore's to the same endpoint (target ≤ 1.0×)`);
  if (sc && local) out.push(`slabchunk S3: time ${(sc.seconds / local.seconds).toFixed(2)}× the same conversion onto local disk`);
  if (sc && local && sc.peakRssBytes !== null && local.peakRssBytes !== null) {
    out.push(`slabchunk S3: peak RSS ${fmtMiB(sc.peakRssBytes)} MiB, ${fmtMiB(sc.peakRssBytes - local.peakRssBytes)} MiB over local disk ` +
      `(what the S3 store holds per shard being sent: one joined copy of a shard up to ${fmtMiB(S3_MULTIPART_THRESHOLD)} MiB, sent with one PutObject; ` +
      `above it ${S3_QUEUE_SIZE} parts of ${fmtMiB(S3_PART_SIZE)} MiB of a multipart upload)`);
  }
  for (const r of [sc, local]) {
    if (r?.engine) {
      const c = r.engine.cpuSeconds;
      out.push(`${r.tool}: CPU s/GiB ${(c.total / inputGiB).toFixed(2)} by the engine (main thread ${(c.main / inputGiB).toFixed(3)}, cut ${(c.cut / inputGiB).toFixed(2)}, ` +
        `encode + write + start-up ${(c.other / inputGiB).toFixed(2)}); ${r.cpuSeconds === null ? '' : `${(r.cpuSeconds / inputGiB).toFixed(2)} for the whole process; `}` +
        `${r.engine.threads} threads, ${r.engine.peakEncodes} encodes at once at most`);
    }
  }
  return out;
}

async function main(): Promise<void> {
  const input = await ensureVolume();
  const python = tensorstorePython();
  const build = await runChild('npm', ['run', 'build'], { cwd: ROOT });
  if (build.code !== 0 || !existsSync(CLI)) {
    console.log(failure('npm run build', build));
    process.exitCode = 1;
    return;
  }
  console.log(`s3 bench: ${shape.join('×')} ${DTYPE} (${fmtMiB(inputBytes)} MiB), chunk ${CHUNK.join(',')}, shard ${SHARD.join(',')}, ${CODEC}; ` +
    `node ${process.version}, ${os.cpus().length} cpus, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; ${repeat} run(s) per writer; ` +
    `peak RSS ${canMeasureChildRss ? 'from /usr/bin/time -v' : 'as each tool reports it'}`);
  if (!python) console.log(`skip tensorstore S3: tensorstore is not importable (${SETUP_HINT})`);
  const server = await startServer();
  if (typeof server === 'string') {
    console.log(`skip: ${server}`);
    return;
  }
  console.log(`Swift with s3api on ${server.env.AWS_ENDPOINT_URL} (${server.dir})`);

  const writers: [Tool, () => Promise<Row | string>][] = [
    ['slabchunk S3', () => runS3(server, 'slabchunk S3', input, python)],
    ...(python ? [['tensorstore S3', () => runS3(server, 'tensorstore S3', input, python)] as [Tool, () => Promise<Row | string>]] : []),
  ];
  const samples = new Map<Tool, Row[]>([['slabchunk S3', []], ['tensorstore S3', []], ['slabchunk local disk', []]]);
  const failed = new Set<Tool>();
  const record = (tool: Tool, row: Row | string) => {
    if (typeof row === 'string') {
      console.log(`  ${row}`);
      failed.add(tool);
    } else {
      samples.get(tool)!.push(row);
      const q = row.requests;
      console.error(`  ${tool}: ${row.seconds.toFixed(2)} s, ${fmtMiB(row.peakRssBytes)} MiB${q ? `, ${q.total} requests` : ''}`);
    }
  };
  for (let i = 0; i < repeat; i++) {
    // The S3 writers alternate which goes first; local disk last, where the server is idle.
    const order = i % 2 === 0 ? writers : [...writers].reverse();
    for (const [tool, run] of order) if (!failed.has(tool)) record(tool, await run());
    if (!failed.has('slabchunk local disk')) record('slabchunk local disk', await runLocal(input));
  }
  const first = samples.get('slabchunk S3')![0];
  if (first && python) first.note = await readBack(server, python, first.note, input);
  else if (first) first.note = '';
  for (const rows of samples.values()) for (const r of rows) if (r.note.startsWith('s3://')) r.note = '';
  const rows = [...samples.values()].filter((runs) => runs.length > 0).map(median);
  console.log();
  console.log(`load after: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log();
  console.log(table(rows));
  console.log();
  for (const line of findings(rows)) console.log(line);
  if (failed.size > 0 || rows.some((r) => r.note.startsWith('READ-BACK'))) process.exitCode = 1;
}

try {
  await main();
} finally {
  stopServer();
}
