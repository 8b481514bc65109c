"""Baseline writer into a bucket: tensorstore_write.py's conversion (the same metadata, one shard-row or chunk-row of
the raw volume per write), stored through tensorstore's own `s3` kvstore instead of the filesystem.

    tensorstore_write_s3.py INPUT s3://BUCKET/PREFIX --shape X,Y,Z --chunk X,Y,Z --codec zstd:3 [--shard X,Y,Z]

Endpoint, credentials and region from the environment the AWS tools use (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_REGION); tensorstore addresses a custom endpoint path-style. Conditional writes are
off (`use_conditional_write`: tensorstore's default for endpoints that are not AWS, which the pip build of
0.1.85 does not apply; Swift's s3api answers them 501). Request concurrency is tensorstore's default
(`s3_request_concurrency`, 32). Prints JSON {seconds, peakRssBytes}.
"""
import time

import tensorstore as ts

from common import array_shape, report, slab_rows, vec3, writer_args
from read_compare_s3 import kvstore
from tensorstore_write import v2_spec, v3_spec


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
    spec["context"] = {"aws_credentials": {"type": "environment"}}
    arr = ts.open(spec, create=True, delete_existing=True).result()
    depth = args.shard[2] if args.shard else args.chunk[2]
    for z0, z1, data in slab_rows(args.input, args.shape, args.dtype, depth):
        arr[z0:z1].write(data).result()
    report(time.perf_counter() - start)


if __name__ == "__main__":
    main()
