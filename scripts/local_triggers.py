#!/usr/bin/env python3
"""What AWS does between the services, done locally for `make run`:

* the SQS event source mapping of the dispatch function: long-polls the dispatch queue, hands batches of up
  to 100 messages to `dispatch` as a real SQS event, deletes what succeeded and leaves each message of
  `batchItemFailures` to its visibility timeout (which dispatch may have shortened for a retry); a failed
  invocation leaves the whole batch;
* the EventBridge rule of the scheduler: invokes `scheduler` every --tick seconds (the recovery sweep).

Functions are invoked through cargo lambda watch's Lambda invoke API.

    local_triggers.py --invoke http://127.0.0.1:9001 --queue-url URL [--tick 60] [--wait 1]
"""
import argparse
import datetime
import json
import sys
import time
import urllib.error
import urllib.request
import uuid

import boto3


# The dispatch event source mapping's BatchSize in template.yaml.
BATCH_SIZE = 100


def invoke(base, function, payload, timeout=60):
    request = urllib.request.Request(
        f"{base}/2015-03-31/functions/{function}/invocations",
        data=json.dumps(payload).encode(),
        headers={"content-type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def sqs_event(messages, queue_arn, region):
    return {"Records": [{
        "messageId": m["MessageId"],
        "receiptHandle": m["ReceiptHandle"],
        "body": m["Body"],
        "attributes": m.get("Attributes", {}),
        # As the event source mapping hands them over: the trace context travels here.
        "messageAttributes": {name: {"stringValue": a.get("StringValue"), "dataType": a["DataType"],
                                     "stringListValues": [], "binaryListValues": []}
                              for name, a in m.get("MessageAttributes", {}).items()},
        "md5OfBody": m["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    } for m in messages]}


def scheduled_event(region):
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
        "account": "123456789012", "time": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region, "resources": ["arn:aws:events:local:rule/scheduler-tick"], "detail": {},
    }


def log(message):
    print(f"{datetime.datetime.now().strftime('%H:%M:%S')} {message}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--invoke", required=True, help="base URL of cargo lambda watch")
    parser.add_argument("--queue-url", required=True, help="the dispatch queue")
    parser.add_argument("--tick", type=int, default=60, help="seconds between scheduler invocations")
    parser.add_argument("--wait", type=int, default=1, help="seconds each long poll of the queue waits")
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args()

    sqs = boto3.client("sqs", region_name=args.region)
    queue_arn = sqs.get_queue_attributes(QueueUrl=args.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    next_tick = time.monotonic()
    while True:
        if time.monotonic() >= next_tick:
            next_tick = time.monotonic() + args.tick
            try:
                log(f"scheduler: {json.dumps(invoke(args.invoke, 'scheduler', scheduled_event(args.region)))}")
            except (urllib.error.URLError, OSError) as error:
                log(f"scheduler invocation failed: {error}")
        received = sqs.receive_message(QueueUrl=args.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=args.wait,
                                       MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"])
        messages = received.get("Messages", [])
        if not messages:
            continue
        # The batching window: gather what else is visible, up to the template's BatchSize.
        while len(messages) < BATCH_SIZE:
            more = sqs.receive_message(QueueUrl=args.queue_url, MaxNumberOfMessages=min(10, BATCH_SIZE - len(messages)),
                                       MessageSystemAttributeNames=["All"],
                                       MessageAttributeNames=["All"]).get("Messages", [])
            if not more:
                break
            messages.extend(more)
        try:
            answer = invoke(args.invoke, "dispatch", sqs_event(messages, queue_arn, args.region)) or {}
        except (urllib.error.URLError, OSError) as error:
            answer = {"errorMessage": str(error)}
        if "errorType" in answer or "errorMessage" in answer:
            # As in AWS: a failed invocation fails the whole batch; its messages return after the timeout.
            log(f"dispatch invocation failed ({answer.get('errorMessage')}); "
                f"{len(messages)} messages return after their visibility timeout")
            continue
        failed = {f["itemIdentifier"] for f in answer.get("batchItemFailures", [])}
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            sqs.delete_message_batch(QueueUrl=args.queue_url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start:start + 10])])
        log(f"dispatch: {len(messages)} messages, {len(done)} done, {len(failed)} to retry")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(0)
