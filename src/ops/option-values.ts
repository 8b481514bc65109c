/** The parsers of the option table's values: each takes an API value or the CLI's string and the name to blame. */
import { invalid } from '../core/errors.ts';
import { checkVec3, type Vec3 } from '../core/geometry.ts';
import { formatCodec, parseCodec } from '../zarr/codecs/index.ts';
import { checkPart, parsePart, type Part } from './partition.ts';

export const int = (min: number, max = Number.MAX_SAFE_INTEGER) => (value: unknown, name: string): number => {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) {
    throw invalid(`${name} must be an integer ${max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`}. Got: ${String(value)}`);
  }
  return n;
};

export const vec3 = (value: unknown, name: string): Vec3 =>
  checkVec3(name, typeof value === 'string' ? value.split(',').map((s) => (s.trim() === '' ? NaN : Number(s))) : value);

/** Three positive finite numbers X,Y,Z (a voxel size): unlike shapes, not whole numbers. */
export const positiveVec3 = (value: unknown, name: string): Vec3 => {
  const v = typeof value === 'string' ? value.split(',').map((s) => (s.trim() === '' ? NaN : Number(s))) : value;
  if (!Array.isArray(v) || v.length !== 3 || v.some((n) => typeof n !== 'number' || !Number.isFinite(n) || n <= 0)) {
    throw invalid(`${name} must be three positive numbers X,Y,Z (e.g. 0.4,0.4,2). Got: ${Array.isArray(value) ? value.join(',') : String(value)}`);
  }
  return [v[0], v[1], v[2]] as Vec3;
};

/** `auto` or a whole number of levels from 1 up. */
export const levelCount = (value: unknown, name: string): 'auto' | number => (value === 'auto' ? 'auto' : int(1)(value, name));

export const bool = (value: unknown, name: string): boolean => {
  if (typeof value === 'boolean') return value;
  throw invalid(`${name} must be true or false. Got: ${String(value)}`);
};

export const oneOf = <T extends string>(values: readonly T[]) => (value: unknown, name: string): T => {
  if (values.includes(value as T)) return value as T;
  throw invalid(`${name} must be ${values.map((v) => `'${v}'`).join(' or ')}. Got: ${String(value)}`);
};

/** Parses a fill value: an integer (kept exact as a bigint beyond 2^53), a float, NaN, ±Infinity. */
export function parseFill(value: unknown, name = 'fill'): number | bigint {
  if (typeof value === 'number' || typeof value === 'bigint') return value;
  if (typeof value === 'string') {
    const s = value.trim();
    if (/^-?\d+$/.test(s)) {
      const big = BigInt(s);
      return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    }
    if (/^(-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?|NaN|-?Infinity)$/i.test(s)) return Number(s);
  }
  throw invalid(`${name} must be a number (e.g. 0, 255, -1.5, NaN). Got: ${String(value)}`);
}

const UNITS: Record<string, number> = { '': 1, k: 1e3, kb: 1e3, kib: 2 ** 10, m: 1e6, mb: 1e6, mib: 2 ** 20, g: 1e9, gb: 1e9, gib: 2 ** 30, t: 1e12, tb: 1e12, tib: 2 ** 40 };

/** Parses a byte size: a number of bytes, or with a unit (`512MiB`, `12GiB`, `8G`, `1.5TB`). */
export function parseSize(value: unknown, name = 'size'): number {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value > 0) return value;
    throw invalid(`${name} must be a positive integer (bytes). Got: ${String(value)}`);
  }
  const match = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value) : null;
  const unit = match ? UNITS[match[2]!.toLowerCase()] : undefined;
  const bytes = match && unit ? Math.floor(Number(match[1]) * unit) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw invalid(`${name} must be a number of bytes or e.g. 512MiB, 12GiB. Got: ${String(value)}`);
  return bytes;
}

export function parseCodecText(value: unknown, name: string): string {
  if (typeof value !== 'string') throw invalid(`${name} must be a string such as zstd:3. Got: ${String(value)}`);
  return formatCodec(parseCodec(value));
}

export function parseAttributes(value: unknown, name: string): Record<string, unknown> {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value);
    } catch (cause) {
      throw invalid(`${name} must be a JSON object, e.g. '{"sample": "brain 3"}'. Got: ${value}`, { cause });
    }
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid(`${name} must be a JSON object. Got: ${String(value)}`);
  return parsed as Record<string, unknown>;
}

export function parsePartValue(value: unknown, name: string): Part {
  if (typeof value === 'string') return parsePart(value);
  const p = value as Partial<Part> | null;
  if (p === null || typeof p !== 'object' || p.index === undefined || p.count === undefined) {
    throw invalid(`${name} must be { index, count }. Got: ${String(value)}`);
  }
  return checkPart(p.index, p.count, p.source ?? `${name} option`);
}

/** An http(s) URL (an endpoint); EINVALID naming the option otherwise. */
export function parseUrl(value: unknown, name: string): string {
  if (typeof value === 'string') {
    try {
      const url = new URL(value);
      if (url.protocol === 'http:' || url.protocol === 'https:') return value;
    } catch {
      // Refused below with the option's name.
    }
  }
  throw invalid(`--${name} must be an http:// or https:// URL, e.g. http://127.0.0.1:9000; got ${JSON.stringify(value)}`);
}
