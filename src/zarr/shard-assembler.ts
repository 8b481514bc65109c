/**
 * Collects the encoded inner chunks of the shards in flight and hands back each shard's parts once its last inner
 * chunk is in. Inner chunks arrive shard by shard (the Chunker's `shard` option); positions come from the layout.
 */
import type { Vec3 } from '../core/geometry.ts';
import type { StoredLayout, ZarrFormat } from '../core/layout.ts';
import { assembleShard, type IndexLocation } from './shard.ts';

/** Where one inner chunk goes: its shard (key and caller grid coords) and its slot in the shard's index. */
export interface InnerSlot {
  readonly key: string;
  readonly shard: Vec3;
  readonly slot: number;
}

interface Pending {
  readonly chunks: (Uint8Array | undefined)[];
  left: number;
}

export class ShardAssembler {
  readonly #layout: StoredLayout;
  readonly #format: ZarrFormat;
  readonly #location: IndexLocation;
  readonly #shards = new Map<string, Pending>();

  constructor(layout: StoredLayout, format: ZarrFormat, location: IndexLocation) {
    this.#layout = layout;
    this.#format = format;
    this.#location = location;
  }

  /** Registers inner chunk `coords` as due (in arrival order, before it is encoded) and says where it goes. */
  claim(coords: Vec3): InnerSlot {
    const shard = this.#layout.fileOf(coords);
    const key = this.#layout.key(shard, this.#format);
    if (!this.#shards.has(key)) {
      // Inner chunks past the array's end never arrive: they stay absent in the index.
      this.#shards.set(key, { chunks: new Array<Uint8Array | undefined>(this.#layout.chunksPerShard), left: this.#layout.chunksIn(shard) });
    }
    return { key, shard, slot: this.#layout.slot(coords) };
  }

  /**
   * Stores the encoded inner chunk (undefined: all fill, absent). Returns null while the shard still waits for
   * others; once complete, its parts in file order (undefined when every inner chunk is absent: not written).
   */
  fill(slot: InnerSlot, encoded: Uint8Array | undefined): { parts: Uint8Array[] | undefined } | null {
    const pending = this.#shards.get(slot.key)!;
    pending.chunks[slot.slot] = encoded;
    if (--pending.left > 0) return null;
    this.#shards.delete(slot.key);
    return { parts: assembleShard(pending.chunks, this.#location) };
  }

  /** Keys of shards still waiting for inner chunks. */
  incomplete(): string[] {
    return [...this.#shards.keys()];
  }
}
