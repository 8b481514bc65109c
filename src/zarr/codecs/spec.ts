/**
 * Codec specifications: what `--codec` strings mean, parsed once before any I/O.
 * Grammar: `raw | gzip[:level] | zstd[:level] | blosc[:cname[:clevel[:shuffle]]]`, optionally
 * followed by `+crc32c` (Zarr v3 only) to append a CRC32C checksum to every chunk.
 */
import { invalid } from '../../core/errors.ts';

export type BloscCname = 'zstd' | 'zlib';
export type BloscShuffle = 'noshuffle' | 'shuffle' | 'bitshuffle';

export type CompressorSpec =
  | { readonly name: 'raw' }
  | { readonly name: 'gzip'; readonly level: number }
  | { readonly name: 'zstd'; readonly level: number }
  | { readonly name: 'blosc'; readonly cname: BloscCname; readonly clevel: number; readonly shuffle: BloscShuffle };

/** A parsed codec choice: one compressor, and whether a CRC32C checksum follows it. */
export interface CodecSpec {
  readonly compressor: CompressorSpec;
  readonly crc32c: boolean;
}

/** Largest chunk Blosc 1 can hold (BLOSC_MAX_BUFFERSIZE: 2^31 - 1 less its 16-byte header). */
export const BLOSC_MAX_BYTES = 2 ** 31 - 1 - 16;

/** Checks that `spec` can encode chunks of `chunkBytes` bytes; EINVALID naming the fix if not. */
export function checkCodecFits(spec: CodecSpec, chunkBytes: number): void {
  if (spec.compressor.name === 'blosc' && chunkBytes > BLOSC_MAX_BYTES) {
    throw invalid(`a chunk of ${chunkBytes} bytes is too large for blosc (at most ${BLOSC_MAX_BYTES}); use smaller chunks or zstd`);
  }
}

/** Defaults: gzip 5 and zstd 3 as numcodecs/zarr-python, blosc zstd:5 with byte shuffle. */
export const DEFAULT_LEVELS = { gzip: 5, zstd: 3, blosc: 5 } as const;

const BLOSC_CNAMES: readonly BloscCname[] = ['zstd', 'zlib'];
const BLOSC_SHUFFLES: readonly BloscShuffle[] = ['noshuffle', 'shuffle', 'bitshuffle'];
/** Blosc compressors other libraries offer that we cannot encode: named in the error. */
const BLOSC_OTHER = ['lz4', 'lz4hc', 'blosclz', 'snappy'];

const GRAMMAR = 'raw | gzip[:level] | zstd[:level] | blosc[:cname[:clevel[:shuffle]]], optionally +crc32c';

function level(text: string | undefined, name: string, min: number, max: number, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  if (!/^-?\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw invalid(`${name} level must be an integer from ${min} to ${max}. Got: ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/**
 * Parses a codec string such as `zstd:3`, `gzip`, `blosc:zstd:5:bitshuffle` or `raw+crc32c`.
 * Throws EINVALID naming the grammar and the bad part.
 */
export function parseCodec(text: string): CodecSpec {
  if (typeof text !== 'string' || text.trim() === '') throw invalid(`codec must be one of ${GRAMMAR}. Got: ${JSON.stringify(text)}`);
  const [body = '', ...flags] = text.trim().toLowerCase().split('+');
  for (const flag of flags) {
    if (flag !== 'crc32c') throw invalid(`unknown codec flag +${flag} in ${JSON.stringify(text)}; the only flag is +crc32c`);
  }
  const crc32c = flags.length > 0;
  const [name, ...args] = body.split(':');
  const tooMany = (max: number) => {
    if (args.length > max) throw invalid(`too many parts in codec ${JSON.stringify(text)}; use ${GRAMMAR}`);
  };
  switch (name) {
    case 'raw':
      tooMany(0);
      return { compressor: { name: 'raw' }, crc32c };
    case 'gzip':
      tooMany(1);
      return { compressor: { name: 'gzip', level: level(args[0], 'gzip', 0, 9, DEFAULT_LEVELS.gzip) }, crc32c };
    case 'zstd':
      tooMany(1);
      return { compressor: { name: 'zstd', level: level(args[0], 'zstd', -131072, 22, DEFAULT_LEVELS.zstd) }, crc32c };
    case 'blosc': {
      tooMany(3);
      const cname = args[0] === undefined || args[0] === '' ? 'zstd' : args[0];
      if (BLOSC_OTHER.includes(cname)) {
        throw invalid(`blosc compressor ${cname} is not available: slabchunk encodes blosc with zstd or zlib (e.g. blosc:zstd:5:shuffle)`);
      }
      if (!BLOSC_CNAMES.includes(cname as BloscCname)) {
        throw invalid(`unknown blosc compressor ${JSON.stringify(cname)}; use one of ${BLOSC_CNAMES.join(', ')}`);
      }
      const shuffle = args[2] === undefined || args[2] === '' ? 'shuffle' : args[2];
      if (!BLOSC_SHUFFLES.includes(shuffle as BloscShuffle)) {
        throw invalid(`unknown blosc shuffle ${JSON.stringify(shuffle)}; use one of ${BLOSC_SHUFFLES.join(', ')}`);
      }
      return {
        compressor: {
          name: 'blosc',
          cname: cname as BloscCname,
          clevel: level(args[1], 'blosc', 0, 9, DEFAULT_LEVELS.blosc),
          shuffle: shuffle as BloscShuffle,
        },
        crc32c,
      };
    }
    default:
      throw invalid(`unknown codec ${JSON.stringify(name)}; use ${GRAMMAR}`);
  }
}

/** The canonical string of a spec (what `info` and summaries print); `parseCodec(formatCodec(s))` is `s`. */
export function formatCodec(spec: CodecSpec): string {
  const c = spec.compressor;
  const body =
    c.name === 'raw' ? 'raw'
    : c.name === 'blosc' ? `blosc:${c.cname}:${c.clevel}:${c.shuffle}`
    : `${c.name}:${c.level}`;
  return spec.crc32c ? `${body}+crc32c` : body;
}
