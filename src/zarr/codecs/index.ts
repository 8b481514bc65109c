/**
 * The codec registry: the compressors slabchunk writes (one self-contained module each) and the `+crc32c` flag.
 * `--codec` strings parse to a {@link CodecSpec} once, before any I/O; the metadata and the encoder chain are
 * derived from it here, so one codec's knowledge lives in one module.
 */
import { bytesPerElement, type DType } from '../../core/dtype.ts';
import { invalid } from '../../core/errors.ts';
import { blosc, type BloscConfig } from './blosc.ts';
import { CRC32C_METADATA, loadCrc32c } from './crc32c.ts';
import { gzip, type GzipConfig } from './gzip.ts';
import { raw, type RawConfig } from './raw.ts';
import type { BytesCodec, CodecContext, Compressor } from './types.ts';
import { zstd, type ZstdConfig } from './zstd.ts';

export type { BytesCodec, CodecContext } from './types.ts';
export type { BloscCname, BloscShuffle } from './blosc.ts';

export type CompressorSpec = RawConfig | GzipConfig | ZstdConfig | BloscConfig;

/** A parsed codec choice: one compressor, and whether a CRC32C checksum follows it. */
export interface CodecSpec {
  readonly compressor: CompressorSpec;
  readonly crc32c: boolean;
}

type Registry = { readonly [N in CompressorSpec['name']]: Compressor<Extract<CompressorSpec, { name: N }>> };
const COMPRESSORS: Registry = { raw, gzip, zstd, blosc };

function compressorOf<C extends CompressorSpec>(config: C): Compressor<C> {
  return COMPRESSORS[config.name] as unknown as Compressor<C>;
}

/** Each compressor's `--codec` grammar (`gzip[:level]`, …), for the docs. */
export const COMPRESSOR_GRAMMARS: readonly string[] = Object.values(COMPRESSORS).map((c) => c.grammar);

/** The `--codec` grammar, as errors print it. */
const CODEC_GRAMMAR = `${COMPRESSOR_GRAMMARS.join(' | ')}, optionally +crc32c`;

/**
 * Parses a codec string such as `zstd:3`, `gzip`, `blosc:zstd:5:bitshuffle` or `raw+crc32c`.
 * Throws EINVALID naming the grammar and the bad part.
 */
export function parseCodec(text: string): CodecSpec {
  if (typeof text !== 'string' || text.trim() === '') throw invalid(`codec must be one of ${CODEC_GRAMMAR}. Got: ${JSON.stringify(text)}`);
  const [body = '', ...flags] = text.trim().toLowerCase().split('+');
  for (const flag of flags) {
    if (flag !== 'crc32c') throw invalid(`unknown codec flag +${flag} in ${JSON.stringify(text)}; the only flag is +crc32c`);
  }
  const [name = '', ...args] = body.split(':');
  if (!Object.hasOwn(COMPRESSORS, name)) throw invalid(`unknown codec ${JSON.stringify(name)}; use ${CODEC_GRAMMAR}`);
  const compressor = COMPRESSORS[name as CompressorSpec['name']];
  if (args.length > compressor.maxArgs) throw invalid(`too many parts in codec ${JSON.stringify(text)}; use ${CODEC_GRAMMAR}`);
  return { compressor: compressor.parse(args), crc32c: flags.length > 0 };
}

/** The canonical string of a spec (what resolved options and summaries hold); `parseCodec(formatCodec(s))` is `s`. */
export function formatCodec(spec: CodecSpec): string {
  const body = compressorOf(spec.compressor).format(spec.compressor);
  return spec.crc32c ? `${body}+crc32c` : body;
}

/** What the codecs of an array of `dtype` need to know: computed once, for the metadata and the encoders alike. */
export function codecContext(dtype: DType): CodecContext {
  return { elementSize: bytesPerElement(dtype) };
}

/** Checks that `spec` can encode chunks of `chunkBytes` bytes; EINVALID naming the fix if not. */
export function checkCodecFits(spec: CodecSpec, chunkBytes: number): void {
  compressorOf(spec.compressor).checkChunkBytes(spec.compressor, chunkBytes);
}

/** The Zarr v3 bytes-to-bytes codec entries of `spec`, in the order they apply. */
export function codecsV3(spec: CodecSpec, ctx: CodecContext): object[] {
  const entries: object[] = [];
  const compressor = compressorOf(spec.compressor).v3(spec.compressor, ctx);
  if (compressor) entries.push(compressor);
  if (spec.crc32c) entries.push(CRC32C_METADATA);
  return entries;
}

/** The Zarr v2 `compressor` of `spec` (v2 has no checksum codec: the options refuse `+crc32c` with v2). */
export function compressorV2(spec: CodecSpec, ctx: CodecContext): object | null {
  return compressorOf(spec.compressor).v2(spec.compressor, ctx);
}

/** The encoders of `spec`, in the order they apply (compressor, then checksum). */
export async function loadCodecs(spec: CodecSpec, ctx: CodecContext): Promise<BytesCodec[]> {
  const chain = [await compressorOf(spec.compressor).load(spec.compressor, ctx)];
  if (spec.crc32c) chain.push(await loadCrc32c());
  return chain;
}

/** Runs `chain` over one chunk. */
export async function encodeWith(chain: readonly BytesCodec[], data: Buffer): Promise<Buffer> {
  let out = data;
  for (const codec of chain) out = await codec.encode(out);
  return out;
}
