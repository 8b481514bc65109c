/**
 * Runs a command in a child process and measures what benches compare: wall time and the child's
 * peak RSS. Peak RSS comes from GNU time (`/usr/bin/time -v`) when it is installed, since a
 * parent's `resourceUsage()` only sees itself; otherwise it is left to the child to report.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const GNU_TIME = '/usr/bin/time';

export interface ChildResult {
  /** Exit code, or null when killed by a signal. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall-clock seconds from spawn to exit, as seen by the parent. */
  wallSeconds: number;
  /** Peak RSS of the child in bytes from GNU time, or null when GNU time is absent. */
  peakRssBytes: number | null;
  /** CPU seconds (user + system) of the child from GNU time, or null when GNU time is absent. */
  cpuSeconds: number | null;
}

/** True when peak RSS of children can be measured from outside. */
export const canMeasureChildRss = existsSync(GNU_TIME);

/** Parses GNU time's `-v` report ("Maximum resident set size (kbytes): N") into bytes. */
export function parseGnuTimeRss(report: string): number | null {
  const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(report);
  return m ? Number(m[1]) * 1024 : null;
}

/** User plus system seconds from GNU time's `-v` report. */
export function parseGnuTimeCpu(report: string): number | null {
  const user = /User time \(seconds\): ([\d.]+)/.exec(report);
  const system = /System time \(seconds\): ([\d.]+)/.exec(report);
  return user && system ? Number(user[1]) + Number(system[1]) : null;
}

/** Runs `cmd args` to completion, capturing stdout and stderr. Never rejects on a non-zero exit. */
export async function runChild(cmd: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ChildResult> {
  const dir = canMeasureChildRss ? await mkdtemp(join(tmpdir(), 'slabchunk-bench-')) : null;
  const report = dir ? join(dir, 'time.txt') : null;
  const [file, argv] = report ? [GNU_TIME, ['-v', '-o', report, cmd, ...args]] : [cmd, [...args]];
  const start = performance.now();
  try {
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(file, argv, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    });
    const wallSeconds = (performance.now() - start) / 1000;
    const text = report ? await readFile(report, 'utf8').catch(() => '') : '';
    return { code, stdout, stderr, wallSeconds, peakRssBytes: report ? parseGnuTimeRss(text) : null, cpuSeconds: report ? parseGnuTimeCpu(text) : null };
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}
