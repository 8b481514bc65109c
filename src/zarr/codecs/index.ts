/**
 * The codec registry: one lazy loader per compressor, so `raw` never loads a native binding and
 * `--help` stays instant. `loadCodecs` turns a spec into the chain the sink runs on every chunk.
 */
import type { CodecSpec, CompressorSpec } from './spec.ts';
import type { BytesCodec, CodecContext } from './types.ts';

export { parseCodec, formatCodec, DEFAULT_LEVELS } from './spec.ts';
export type { CodecSpec, CompressorSpec, BloscCname, BloscShuffle } from './spec.ts';
export type { BytesCodec, CodecContext } from './types.ts';

type Loader = (spec: CompressorSpec, ctx: CodecContext) => Promise<BytesCodec>;

const LOADERS: ReadonlyMap<CompressorSpec['name'], Loader> = new Map<CompressorSpec['name'], Loader>([
  ['raw', async () => (await import('./raw.ts')).RawCodec.fromConfig()],
  ['gzip', async (s) => (await import('./gzip.ts')).GzipCodec.fromConfig(s as Extract<CompressorSpec, { name: 'gzip' }>)],
  ['zstd', async (s) => (await import('./zstd.ts')).ZstdCodec.fromConfig(s as Extract<CompressorSpec, { name: 'zstd' }>)],
  ['blosc', async (s, ctx) => (await import('./blosc.ts')).BloscCodec.fromConfig(s as Extract<CompressorSpec, { name: 'blosc' }>, ctx)],
]);

/** The bytes-to-bytes codecs of `spec`, in the order they apply (compressor, then checksum). */
export async function loadCodecs(spec: CodecSpec, ctx: CodecContext): Promise<BytesCodec[]> {
  const loader = LOADERS.get(spec.compressor.name);
  if (!loader) throw new TypeError(`no loader for codec ${spec.compressor.name}`);
  const chain = [await loader(spec.compressor, ctx)];
  if (spec.crc32c) chain.push((await import('./crc32c.ts')).Crc32cCodec.fromConfig());
  return chain;
}

/** Runs `chain` over one chunk. */
export async function encodeWith(chain: readonly BytesCodec[], data: Buffer): Promise<Buffer> {
  let out = data;
  for (const codec of chain) out = await codec.encode(out);
  return out;
}
