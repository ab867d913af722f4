"""An S3-protocol server for the object-store tests (moto's server mode on loopback): the
credentials it is reached with, a fresh bucket, and what a bucket holds."""

from __future__ import annotations

import secrets

# moto accepts any credentials; the variables are the standard ones that a real deployment
# sets, read by the store's S3 client in this process and in the workers it spawns.
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "motionlab-test",
    "AWS_SECRET_ACCESS_KEY": "motionlab-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def new_bucket(endpoint: str) -> str:
    import boto3

    name = f"motionlab-{secrets.token_hex(6)}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=name)
    return name


def bucket_keys(endpoint: str, url: str) -> set[str]:
    """Every key in the bucket of `url`, read with another S3 client (boto3)."""
    import boto3

    bucket = url.removeprefix("s3://").split("/", 1)[0]
    pages = boto3.client("s3", endpoint_url=endpoint).get_paginator("list_objects_v2")
    return {
        item["Key"] for page in pages.paginate(Bucket=bucket) for item in page.get("Contents", [])
    }
