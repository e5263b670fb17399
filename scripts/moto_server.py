#!/usr/bin/env python3
"""moto server with every DynamoDB request handled atomically: the local AWS of `make run` and the tests.

Why not plain `moto_server`:
- moto's TransactWriteItems backs up the whole table before it starts and, when a condition fails, restores
  that backup. Under moto's threaded server that undoes the writes other requests made in between (lost
  events, resurrected records), something DynamoDB never does. Holding one lock per DynamoDB request makes
  each of its API calls atomic, which is what DynamoDB guarantees (reads take it too: a query must not see a
  transaction half applied, nor iterate a table another thread is changing); connections stay concurrent,
  so client-side races (read, decide, conditional write) are still exercised. Only DynamoDB takes the lock:
  every other service runs as moto's threaded server runs it, so an SQS long poll (`WaitTimeSeconds`) never
  holds up a DynamoDB call.
- That whole-table backup is also never freed (memory grows with every transaction times the table's size:
  gigabytes in a benchmark), and copying the table on every transaction makes each one slower as the table
  grows. With requests serialised, every condition can be judged before anything is written: a transaction
  whose conditions all hold runs without the backup, and one whose conditions do not all hold is cancelled
  with DynamoDB's reasons (ALL_OLD items included) without writing or copying anything. Anything else odd
  (validation errors) takes moto's own path.

    moto_server.py [-H 127.0.0.1] [-p 5000]
"""
import argparse
import os
import signal
import sys
import threading

from werkzeug.serving import run_simple

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import TransactionCanceledException
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app


class _NoBackup:
    """Stands in for the `copy` module inside moto's DynamoDB backend while a transaction cannot roll back."""

    @staticmethod
    def deepcopy(value):
        return value


def _cancellation_reason(backend, transact_item):
    """`None` when the item's condition holds, else DynamoDB's cancellation reason for it."""
    (op_type, op), = transact_item.items()
    condition = op.get("ConditionExpression")
    if condition is None:
        return None
    table = backend.get_table(op["TableName"])
    if op_type == "Put":
        attrs = op["Item"]
        key = {table.hash_key_attr: attrs[table.hash_key_attr]}
        if table.range_key_attr is not None:
            key[table.range_key_attr] = attrs[table.range_key_attr]
    else:
        key = op["Key"]
    current = backend.get_item(op["TableName"], key)
    check = get_filter_expression(condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues"))
    if check.expr(current):
        return None
    old = None
    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
        old = current.to_json()["Attributes"]
    return ("ConditionalCheckFailed", "The conditional request failed", old)


def transactions_without_leaked_backups():
    original = dynamodb_models.DynamoDBBackend.transact_write_items

    def transact_write_items(self, transact_items):
        try:
            reasons = [_cancellation_reason(self, item) for item in transact_items]
        except Exception:  # anything odd: let moto's own path validate and report it
            return original(self, transact_items)
        if any(reasons):
            raise TransactionCanceledException([r or (None, None, None) for r in reasons])
        real_copy = dynamodb_models.copy
        dynamodb_models.copy = _NoBackup
        try:
            return original(self, transact_items)
        finally:
            dynamodb_models.copy = real_copy

    dynamodb_models.DynamoDBBackend.transact_write_items = transact_write_items


def is_dynamodb(environ):
    """DynamoDB's JSON protocol names its target (`DynamoDB_20120810.PutItem`); DynamoDB Streams shares the
    backend's tables."""
    return environ.get("HTTP_X_AMZ_TARGET", "").startswith(("DynamoDB_", "DynamoDBStreams_"))


def dynamodb_serialized(app):
    lock = threading.Lock()

    def handle(environ, start_response):
        if not is_dynamodb(environ):
            return app(environ, start_response)
        with lock:
            # Consume the response inside the lock: WSGI apps may do their work lazily while iterating.
            return list(app(environ, start_response))

    return handle


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    transactions_without_leaked_backups()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, dynamodb_serialized(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
