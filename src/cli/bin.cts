#!/usr/bin/env node
/**
 * The `slabchunk` command. CommonJS on purpose: it runs before any ES module is loaded, and the ES module loader's
 * first asynchronous file read starts libuv's thread pool at its default of 4 threads. Encodes run on that pool,
 * so it is sized here, before it starts, to the threads the conversion will use (`UV_THREADPOOL_SIZE` set by the
 * user wins).
 */
import { availableParallelism } from 'node:os';

/** libuv's own limit. */
const MAX_POOL = 1024;

/**
 * `--threads N` or `--threads=N` from the command line, the last one given (as the real parser takes it), options
 * only (not past `--`); anything else is left to the real parser's errors.
 */
function threadsArg(args: readonly string[]): number | undefined {
  let threads: number | undefined;
  for (let i = 0; i < args.length && args[i] !== '--'; i++) {
    const text = args[i] === '--threads' ? args[i + 1] : args[i]!.startsWith('--threads=') ? args[i]!.slice('--threads='.length) : undefined;
    if (text !== undefined && /^\d+$/.test(text.trim())) threads = Number(text.trim());
  }
  return threads;
}

const threads = threadsArg(process.argv.slice(2)) ?? availableParallelism();
process.env.UV_THREADPOOL_SIZE ??= String(Math.min(MAX_POOL, Math.max(4, threads)));
void import('./main.ts');
