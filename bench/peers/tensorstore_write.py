"""Baseline writer: tensorstore writes a raw F-layout volume into a Zarr store slab-row by slab-row, in a folder
or, for an `s3://BUCKET/PREFIX` store, through its own `s3` kvstore (endpoint, credentials and region from the
environment, as read_compare.py reads them; request concurrency tensorstore's default, 32).

Prints JSON {seconds, peakRssBytes}. v3 by default (codec `zstd` / `gzip` after `bytes`), v2 with
--zarr-format 2; --shard X,Y,Z writes v3 `sharding_indexed` shards of --chunk inner chunks, one
shard-row at a time (so each shard is written whole, as slabchunk does).
"""
import time

import tensorstore as ts

from common import DTYPES, array_shape, report, slab_rows, vec3, writer_args
from read_compare import context, kvstore


def v3_spec(args, shape, chunk):
    name, level = args.codec
    inner = [{"name": "bytes", "configuration": {"endian": "little"}}]
    if name != "raw":
        inner.append({"name": name, "configuration": {"level": level}})
    metadata = {
        "shape": list(shape),
        "data_type": args.dtype,
        "fill_value": False if args.dtype == "bool" else 0,
        "dimension_names": ["z", "y", "x"],
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": list(chunk)}},
        "codecs": inner,
    }
    if args.shard:
        shard = list(reversed(args.shard))
        metadata["chunk_grid"]["configuration"]["chunk_shape"] = shard
        metadata["codecs"] = [{
            "name": "sharding_indexed",
            "configuration": {
                "chunk_shape": list(chunk),
                "codecs": inner,
                "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
                "index_location": "end",
            },
        }]
    return {"driver": "zarr3", "metadata": metadata}


def v2_spec(args, shape, chunk):
    name, level = args.codec
    compressor = None if name == "raw" else {"id": name, "level": level}
    return {
        "driver": "zarr",
        "metadata": {
            "shape": list(shape), "chunks": list(chunk), "dtype": DTYPES[args.dtype],
            "order": "C", "fill_value": 0, "compressor": compressor, "dimension_separator": "/",
        },
    }


def main():
    p = writer_args(__doc__)
    p.add_argument("--zarr-format", type=int, choices=(2, 3), default=3)
    p.add_argument("--shard", type=vec3, default=None, help="X,Y,Z shard shape (v3 only)")
    args = p.parse_args()
    start = time.perf_counter()
    shape = array_shape(args.shape)
    chunk = list(reversed(args.chunk))
    spec = v3_spec(args, shape, chunk) if args.zarr_format == 3 else v2_spec(args, shape, chunk)
    spec["kvstore"] = kvstore(args.store)
    spec["context"] = context(args.store)
    arr = ts.open(spec, create=True, delete_existing=True).result()
    depth = args.shard[2] if args.shard else args.chunk[2]
    for z0, z1, data in slab_rows(args.input, args.shape, args.dtype, depth):
        arr[z0:z1].write(data).result()
    report(time.perf_counter() - start)


if __name__ == "__main__":
    main()
