#!/usr/bin/env python3
"""Subscriber queues in the local stack's moto, for the README walkthrough (no AWS CLI needed).

    localq.py create NAME     creates a queue, prints its URL
    localq.py receive URL     prints the messages waiting there (body and attributes) and deletes them

Reads AWS_ENDPOINT_URL from the environment (make queue / make receive source .local/stack.env).
"""
import json
import sys

import boto3


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("create", "receive"):
        sys.exit(__doc__)
    sqs = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="local", aws_secret_access_key="local")
    command, arg = sys.argv[1], sys.argv[2]
    if command == "create":
        print(sqs.create_queue(QueueName=arg)["QueueUrl"])
        return
    while True:
        messages = sqs.receive_message(QueueUrl=arg, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                       WaitTimeSeconds=1).get("Messages", [])
        if not messages:
            return
        for m in messages:
            attributes = {k: v.get("StringValue") for k, v in m.get("MessageAttributes", {}).items()}
            print(json.dumps({"attributes": attributes, "body": json.loads(m["Body"])}, indent=2))
            sqs.delete_message(QueueUrl=arg, ReceiptHandle=m["ReceiptHandle"])


if __name__ == "__main__":
    main()
