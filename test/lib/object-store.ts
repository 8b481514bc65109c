/**
 * The real object store the S3 tests run against: a private OpenStack Swift with the S3 API
 * (scripts/object-store/start.sh). All test files run in one process, so one server serves them all: the one CI
 * started (`SLABCHUNK_TEST_S3_ENV` names its env file), else one started here on first use and stopped when the
 * process exits. Where none can start, {@link objectStore} says why once and resolves null; tests then return early.
 * Once started, this process's environment names the server (AWS_ENDPOINT_URL, the credentials, the region), as a
 * user's shell would, so stores opened the default way reach it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { readServerEnv, serverClient } from '../../bench/lib/object-store.ts';

const SCRIPTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../scripts/object-store');

export interface ObjectStore {
  /** The variables that reach the server (endpoint, credentials, region): the env of spawned CLI processes. */
  readonly env: Readonly<Record<string, string>>;
  /** The server's URL, e.g. `http://127.0.0.1:43121`. */
  readonly endpoint: string;
  /** A client with the server's credentials (and our Content-MD5 middleware), for assertions. */
  readonly client: S3Client;
  /** Creates a new, empty bucket with a unique name. */
  bucket(): Promise<string>;
  /** Every key below `prefix` (`''`: the whole bucket), sorted, read with the SDK (not our store). */
  listKeys(bucket: string, prefix?: string): Promise<string[]>;
  /** Stops the server (its data stays on disk): requests then fail to connect. */
  stop(): Promise<void>;
  /** Starts the stopped server again: the same endpoint and env, the same objects. */
  start(): Promise<void>;
}

let shared: Promise<ObjectStore | null> | undefined;

/** The process's object store, started on first call; null (after one `SKIP S3 tests: …` line) where none can run. */
export function objectStore(): Promise<ObjectStore | null> {
  shared ??= open().catch((error: unknown) => {
    console.log(`SKIP S3 tests: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  });
  return shared;
}

/** Runs one of the object-store scripts; rejects with the tail of its output when it fails. */
function script(name: 'start.sh' | 'stop.sh', dir: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    // The daemons start.sh leaves running write to their own logs; stdin is closed so they hold no pipe of ours.
    // A loaded machine (test files running side by side) can take well over start.sh's default 30 s to answer.
    const env = { ...process.env, OBJECT_STORE_START_TIMEOUT: process.env.OBJECT_STORE_START_TIMEOUT ?? '120' };
    const child = spawn('bash', [join(SCRIPTS, name), dir], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) return resolvePromise();
      const tail = output.trim().split('\n').slice(-3).join(' | ');
      reject(new Error(`${name} exited with ${code}${tail ? `: ${tail}` : ''}`));
    });
  });
}

async function open(): Promise<ObjectStore> {
  let dir: string;
  const given = process.env.SLABCHUNK_TEST_S3_ENV;
  if (given) {
    // CI's server: stopped by CI, not here; stop() and start() still work on its directory.
    dir = dirname(resolve(given));
  } else {
    dir = mkdtempSync(join(tmpdir(), 'slabchunk-swift-'));
    // 'exit' handlers must be synchronous: spawnSync stops the daemons before the process is gone.
    process.once('exit', () => {
      spawnSync('bash', [join(SCRIPTS, 'stop.sh'), dir], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    });
    await script('start.sh', dir);
  }
  let env: Record<string, string>;
  try {
    env = readServerEnv(given ? resolve(given) : join(dir, 'env'));
  } catch (error) {
    throw new Error(`cannot read the server's env file${given ? ` (SLABCHUNK_TEST_S3_ENV=${given})` : ''}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const endpoint = env.AWS_ENDPOINT_URL;
  if (!endpoint || !env.AWS_ACCESS_KEY_ID || !env.AWS_SECRET_ACCESS_KEY) throw new Error(`the env file in ${dir} names no endpoint or credentials`);
  // The test process is configured as a user's shell would be, so that stores opened the default way (storeAt,
  // convert() in process, its worker threads) reach this server: the SDK's chain reads these variables.
  for (const name of ['AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) if (env[name]) process.env[name] = env[name];
  const client = serverClient(env);
  let buckets = 0;
  const tag = `${Date.now().toString(36)}-${process.pid.toString(36)}`;
  return {
    env,
    endpoint,
    client,
    async bucket() {
      const name = `t-${tag}-${++buckets}`;
      await client.send(new CreateBucketCommand({ Bucket: name }));
      return name;
    },
    async listKeys(bucket, prefix = '') {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    },
    stop: () => script('stop.sh', dir),
    start: () => script('start.sh', dir),
  };
}
