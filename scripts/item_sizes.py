#!/usr/bin/env python3
"""Item sizes of the collector's table by kind, as DynamoDB bills them (attribute names + values, 1 KB write
units, 4 KB read units), and the indexes each kind is in. Reads the whole table (a Scan: for measuring, not
for production paths). Locally: `set -a; . .local/stack.env; set +a; .venv/bin/python scripts/item_sizes.py`;
against a deployed table: `TABLE_NAME=<TableName output> .venv/bin/python scripts/item_sizes.py`.
"""
import math
import os
import re
import sys
from collections import defaultdict

import boto3

INDEX_KEYS = {"pending": "pendingShard", "deliveries": "deliveriesOf", "undelivered": "undeliveredOf", "dueJobs": "dueShard",
              "openCarts": "openCartsOf", "customerItems": "ownedBy"}


def value_size(value: dict) -> int:
    (kind, inner), = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        digits = inner.lstrip("-").replace(".", "").strip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: v}) for v in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in inner.items())
    raise ValueError(kind)


def item_size(item: dict) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def kind_of(item: dict) -> str:
    pk, sk = item["pk"]["S"], item["sk"]["S"]
    label = re.sub(r"#[^#]*$", "", sk) if "#" in sk else sk
    parts = pk.split("#")
    scope = parts[2] if len(parts) > 2 else parts[0]
    return f"{scope}/{label}"


def main() -> int:
    table = os.environ.get("TABLE_NAME") or sys.exit("TABLE_NAME must be set")
    client = boto3.client("dynamodb", endpoint_url=os.environ.get("AWS_ENDPOINT_URL"),
                          region_name=os.environ.get("AWS_REGION", "us-east-1"))
    kinds = defaultdict(list)
    for page in client.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            indexes = [name for name, key in INDEX_KEYS.items() if key in item]
            kinds[kind_of(item)].append((item_size(item), indexes))
    print(f"{'kind':<28}{'items':>7}{'mean B':>9}{'max B':>8}{'WCU':>5}  indexes")
    for kind, sizes in sorted(kinds.items()):
        largest = max(size for size, _ in sizes)
        mean = sum(size for size, _ in sizes) / len(sizes)
        indexes = sorted({i for _, names in sizes for i in names})
        print(f"{kind:<28}{len(sizes):>7}{mean:>9.0f}{largest:>8}{math.ceil(largest / 1024):>5}  {','.join(indexes)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
