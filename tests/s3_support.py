"""A real S3 server on a loopback port (moto's, in a thread of the test process) and the app pointed at it.

An object store is a true boundary, like the SMTP server of the mail tests: the S3 backend talks to it over
HTTP with boto3, signing its requests, as it talks to AWS, MinIO or Ceph in production. Each test gets a
bucket of its own.
"""

from __future__ import annotations

import os
import uuid

import boto3
from moto.server import ThreadedMotoServer

# Credentials come from boto3's standard chain; these are moto's test values, set for the test process only.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
               "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.devnull,
               "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
REGION = "eu-west-1"


def moto_server():
    """The ``s3_endpoint`` fixture (tests/conftest.py): a server for the session, its URL yielded."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    saved = {name: os.environ.get(name) for name in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def s3_client(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name=REGION)


def new_bucket(s3_endpoint: str) -> str:
    name = f"dsr-test-{uuid.uuid4().hex[:12]}"
    s3_client(s3_endpoint).create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


def s3_config(endpoint: str, bucket: str, **more) -> dict:
    """The app's settings for the S3 backend, as config.py makes them from DSR_STORAGE=s3 and DSR_S3_*."""
    return {"STORAGE_BACKEND": "s3", "S3_BUCKET": bucket, "S3_PREFIX": "", "S3_ENDPOINT_URL": endpoint,
            "S3_REGION": REGION, "S3_ADDRESSING_STYLE": "path", "S3_ENCRYPTION": None, "S3_KMS_KEY_ID": None,
            "S3_DELETE_VERSIONS": False, "S3_MULTIPART_BYTES": 64 * 1024 * 1024} | more


def keys_in(endpoint: str, bucket: str) -> list[str]:
    """Every object in the bucket, read with a client of its own (not dsr's)."""
    found = s3_client(endpoint).list_objects_v2(Bucket=bucket).get("Contents", [])
    return sorted(item["Key"] for item in found)
