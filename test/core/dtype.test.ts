import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  DTYPES, bytesPerElement, dtypeOf, fillBytes, fromZarrV2DType, parseDType, typedArray, typedView, zarrV2DType, zarrV3DType,
  type DType,
} from '../../src/core/dtype.ts';
import { SlabchunkError } from '../../src/core/errors.ts';

/** Independent table: numpy's typestr and the TypedArray each dtype must use. */
const TABLE: Record<DType, { typestr: string; ctor: Function }> = {
  bool: { typestr: '|b1', ctor: Uint8Array },
  int8: { typestr: '|i1', ctor: Int8Array },
  uint8: { typestr: '|u1', ctor: Uint8Array },
  int16: { typestr: '<i2', ctor: Int16Array },
  uint16: { typestr: '<u2', ctor: Uint16Array },
  int32: { typestr: '<i4', ctor: Int32Array },
  uint32: { typestr: '<u4', ctor: Uint32Array },
  int64: { typestr: '<i8', ctor: BigInt64Array },
  uint64: { typestr: '<u8', ctor: BigUint64Array },
  float32: { typestr: '<f4', ctor: Float32Array },
  float64: { typestr: '<f8', ctor: Float64Array },
};

test('every dtype: size, TypedArray, v2 and v3 names, round trips', () => {
  assert.equal([...DTYPES].sort(), Object.keys(TABLE).sort());
  for (const dtype of DTYPES) {
    const { typestr, ctor } = TABLE[dtype];
    assert.is(bytesPerElement(dtype), Number(typestr.slice(2)), dtype);
    const arr = typedArray(dtype, 3);
    assert.instance(arr, ctor, dtype);
    assert.is(arr.length, 3);
    assert.is(zarrV2DType(dtype), typestr, dtype);
    assert.is(zarrV3DType(dtype), dtype);
    assert.equal(fromZarrV2DType(typestr), { dtype, littleEndian: true });
    if (bytesPerElement(dtype) > 1) assert.equal(fromZarrV2DType('>' + typestr.slice(1)), { dtype, littleEndian: false });
    assert.is(parseDType(dtype), dtype);
    // dtypeOf names the array's own type; a Uint8Array is uint8 (bool needs saying).
    assert.is(dtypeOf(arr), dtype === 'bool' ? 'uint8' : dtype);
  }
});

test('typedView sees the buffer at its offset without copying', () => {
  const buf = new ArrayBuffer(16);
  const v = typedView('uint16', buf, 4, 3);
  v[0] = 0x0102;
  assert.is(v.length, 3);
  assert.is(new Uint8Array(buf)[4], 0x02);
  assert.is(typedView('uint32', buf, 8).length, 2);
});

test('dtypeOf: Buffers are uint8; non-typed views are refused', () => {
  assert.is(dtypeOf(Buffer.alloc(2)), 'uint8');
  assert.throws(() => dtypeOf(new DataView(new ArrayBuffer(4))), (e: unknown) => e instanceof SlabchunkError && /DataView/.test(e.message));
});

test('bad names are refused with the valid list', () => {
  assert.throws(() => parseDType('float16'), /unknown dtype "float16"; use one of bool, int8/);
  assert.throws(() => fromZarrV2DType('<f2'), /unsupported Zarr v2 dtype "<f2"/);
  assert.throws(() => fromZarrV2DType('=u2'), /unsupported Zarr v2 dtype/);
});

/** Reference: the element's little-endian bytes via DataView setters. */
function le(dtype: DType, value: number | bigint): Uint8Array {
  const out = new Uint8Array(bytesPerElement(dtype));
  const dv = new DataView(out.buffer);
  switch (dtype) {
    case 'bool': case 'uint8': dv.setUint8(0, Number(value)); break;
    case 'int8': dv.setInt8(0, Number(value)); break;
    case 'int16': dv.setInt16(0, Number(value), true); break;
    case 'uint16': dv.setUint16(0, Number(value), true); break;
    case 'int32': dv.setInt32(0, Number(value), true); break;
    case 'uint32': dv.setUint32(0, Number(value), true); break;
    case 'int64': dv.setBigInt64(0, BigInt(value), true); break;
    case 'uint64': dv.setBigUint64(0, BigInt(value), true); break;
    case 'float32': dv.setFloat32(0, Number(value), true); break;
    case 'float64': dv.setFloat64(0, Number(value), true); break;
  }
  return out;
}

const INT_RANGES: [DType, bigint, bigint][] = [
  ['int8', -128n, 127n], ['uint8', 0n, 255n], ['int16', -32768n, 32767n], ['uint16', 0n, 65535n],
  ['int32', -(2n ** 31n), 2n ** 31n - 1n], ['uint32', 0n, 2n ** 32n - 1n],
  ['int64', -(2n ** 63n), 2n ** 63n - 1n], ['uint64', 0n, 2n ** 64n - 1n],
];

test('fillBytes: integer values inside the range give their little-endian bytes, the ends included', () => {
  for (const [dtype, min, max] of INT_RANGES) {
    fc.assert(fc.property(fc.bigInt({ min, max }), (v) => {
      assert.equal(fillBytes(dtype, v), le(dtype, v));
      if (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) {
        assert.equal(fillBytes(dtype, Number(v)), le(dtype, v));
      }
    }), { numRuns: 50 });
    assert.equal(fillBytes(dtype, min), le(dtype, min));
    assert.equal(fillBytes(dtype, max), le(dtype, max));
  }
});

test('fillBytes: values outside the range, fractions and bad bools are errors', () => {
  for (const [dtype, min, max] of INT_RANGES) {
    assert.throws(() => fillBytes(dtype, min - 1n), /does not fit dtype/, dtype);
    assert.throws(() => fillBytes(dtype, max + 1n), /does not fit dtype/, dtype);
    assert.throws(() => fillBytes(dtype, 0.5), /does not fit dtype/, dtype);
  }
  assert.throws(() => fillBytes('uint8', 300), /fill value 300 does not fit dtype uint8/);
  assert.throws(() => fillBytes('bool', 2), /does not fit dtype bool/);
  assert.equal(fillBytes('bool', true), Uint8Array.of(1));
  assert.equal(fillBytes('bool', 0), Uint8Array.of(0));
  assert.equal(fillBytes('uint8'), Uint8Array.of(0));
});

test('fillBytes: floats keep their IEEE bytes, NaN and infinities included', () => {
  fc.assert(fc.property(fc.double(), (v) => {
    assert.equal(fillBytes('float64', v), le('float64', v));
    assert.equal(fillBytes('float32', v), le('float32', v));
  }));
  assert.equal(fillBytes('float32', NaN), le('float32', NaN));
  assert.equal(fillBytes('float64', -Infinity), le('float64', -Infinity));
});

test.run();
