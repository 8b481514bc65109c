/** XXH64 written from the xxHash spec (doc/xxhash_spec.md), with BigInt: the tests' reference for zstd checksums. */
const MASK = (1n << 64n) - 1n;
const P1 = 11400714785074694791n;
const P2 = 14029467366897019727n;
const P3 = 1609587929392839161n;
const P4 = 9650029242287828579n;
const P5 = 2870177450012600261n;

const rotl = (x: bigint, r: bigint): bigint => ((x << r) | (x >> (64n - r))) & MASK;
const round = (acc: bigint, lane: bigint): bigint => (rotl((acc + lane * P2) & MASK, 31n) * P1) & MASK;
const merge = (acc: bigint, v: bigint): bigint => ((((acc ^ round(0n, v)) * P1) & MASK) + P4) & MASK;

export function refXxh64(data: Uint8Array, seed = 0n): bigint {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const n = data.length;
  let i = 0;
  let acc: bigint;
  if (n >= 32) {
    const v = [(seed + P1 + P2) & MASK, (seed + P2) & MASK, seed, (seed - P1) & MASK];
    for (; i + 32 <= n; i += 32) for (let k = 0; k < 4; k++) v[k] = round(v[k]!, view.getBigUint64(i + k * 8, true));
    acc = (rotl(v[0]!, 1n) + rotl(v[1]!, 7n) + rotl(v[2]!, 12n) + rotl(v[3]!, 18n)) & MASK;
    for (const lane of v) acc = merge(acc, lane);
  } else acc = (seed + P5) & MASK;
  acc = (acc + BigInt(n)) & MASK;
  for (; i + 8 <= n; i += 8) acc = ((rotl(acc ^ round(0n, view.getBigUint64(i, true)), 27n) * P1) & MASK) + P4 & MASK;
  for (; i + 4 <= n; i += 4) acc = ((rotl(acc ^ ((BigInt(view.getUint32(i, true)) * P1) & MASK), 23n) * P2) & MASK) + P3 & MASK;
  for (; i < n; i++) acc = (rotl(acc ^ ((BigInt(data[i]!) * P5) & MASK), 11n) * P1) & MASK;
  acc ^= acc >> 33n;
  acc = (acc * P2) & MASK;
  acc ^= acc >> 29n;
  acc = (acc * P3) & MASK;
  acc ^= acc >> 32n;
  return acc;
}
