/** Stores for tests: real filesystem stores with a fault injected from outside, never a knob of the store itself. */
import type { Store } from '../../src/zarr/stores/types.ts';

/**
 * Bytes whose iteration yields the first half of `bytes`, then fails as a full disk does (ENOSPC), so the store's
 * `set` really writes part of a file and then sees a failed write.
 */
export function halfThenFull(bytes: Uint8Array, message: string): readonly Uint8Array[] {
  return {
    *[Symbol.iterator]() {
      yield bytes.subarray(0, bytes.length >> 1);
      throw Object.assign(new Error(message), { code: 'ENOSPC' });
    },
  } as unknown as readonly Uint8Array[];
}

/** A store that does what `inner` does, except what `overrides` replaces: a fault or a probe around a real store. */
export function withOverrides(inner: Store, overrides: Partial<Store>): Store {
  return {
    location: inner.location,
    get: (key) => inner.get(key),
    getRange: (key, range) => inner.getRange(key, range),
    has: (key) => inner.has(key),
    set: (key, value) => inner.set(key, value),
    create: (key, value) => inner.create(key, value),
    list: (prefix) => inner.list(prefix),
    folders: (prefix) => inner.folders(prefix),
    listAll: (prefix) => inner.listAll(prefix),
    size: (key) => inner.size(key),
    delete: (key) => inner.delete(key),
    deleteAll: (prefix) => inner.deleteAll(prefix),
    within: (prefix) => inner.within(prefix),
    removeTemporaries: () => inner.removeTemporaries(),
    ...overrides,
  };
}

/** `inner`, except that its `failOn`-th `set` (1-based) writes half its bytes and then fails with ENOSPC. */
export function failingStore(inner: Store, failOn: number): Store {
  let sets = 0;
  return withOverrides(inner, {
    set(key, value) {
      const n = ++sets;
      if (n !== failOn) return inner.set(key, value);
      const whole = value instanceof Uint8Array ? value : Buffer.concat(value);
      return inner.set(key, halfThenFull(whole, `injected failure on write ${n} (${key})`));
    },
  });
}
