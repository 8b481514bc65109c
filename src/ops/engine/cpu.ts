/**
 * CPU time of the calling thread, for the engine's per-stage accounting (what a 2-core machine can say about
 * 64 cores). Linux only (`/proc/thread-self/stat`); elsewhere NaN, and the stage figures are left out.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of `/proc` times: 100 on every Linux configuration Node supports. */
const TICKS = 100;

/** Seconds of CPU (user + system) the calling thread has used. */
export function threadCpuSeconds(): number {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'latin1');
    // The command name may hold spaces and parentheses: fields are counted after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return NaN;
  }
}
