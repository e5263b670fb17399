#!/usr/bin/env python3
"""Creates template.yaml's DynamoDB tables, SQS queues and KMS keys in a local AWS (moto) and prints, as JSON, each
resource's physical name and each function's environment with every !Ref / !GetAtt resolved.

The template is the single list of resources: local and deployed stacks cannot drift.

    provision.py --endpoint http://127.0.0.1:5000 --prefix dev- [--template template.yaml] [--env-file F]
"""
import argparse
import json
import re
import sys

import boto3

import template as cfn


class Stack:
    def __init__(self, template, endpoint, prefix, region):
        self.template = template
        self.prefix = prefix
        self.parameters = {k: str(v.get("Default", "")) for k, v in template.get("Parameters", {}).items()}
        session = dict(endpoint_url=endpoint, region_name=region, aws_access_key_id="test",
                       aws_secret_access_key="test")
        self.dynamodb = boto3.client("dynamodb", **session)
        self.sqs = boto3.client("sqs", **session)
        self.kms = boto3.client("kms", **session)
        self.refs = {}  # logical id -> what !Ref gives
        self.arns = {}  # logical id -> what !GetAtt X.Arn gives

    def resources(self, kind):
        return cfn.resources(self.template, kind)

    def resolve(self, value):
        if isinstance(value, dict) and len(value) == 1:
            (fn, arg), = value.items()
            if fn == "Ref":
                return self.parameters.get(arg, self.refs.get(arg))
            if fn == "Fn::Sub" and isinstance(arg, str):
                return re.sub(r"\$\{([^}!.]+)\}", lambda m: str(self.resolve({"Ref": m.group(1)})), arg)
            if fn == "Fn::GetAtt":
                logical, attribute = arg
                if attribute != "Arn":
                    raise SystemExit(f"provision.py: !GetAtt {logical}.{attribute} is not supported locally")
                return self.arns[logical]
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    def create_queues(self):
        queues = self.resources("AWS::SQS::Queue")
        # Dead-letter queues first: others refer to them by ARN.
        queues.sort(key=lambda q: "RedrivePolicy" in q[1])
        for logical, props in queues:
            attributes = {}
            for key in ["VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds"]:
                if key in props:
                    attributes[key] = str(props[key])
            if "RedrivePolicy" in props:
                attributes["RedrivePolicy"] = json.dumps(self.resolve(props["RedrivePolicy"]))
            url = self.sqs.create_queue(QueueName=self.prefix + logical, Attributes=attributes)["QueueUrl"]
            arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            self.refs[logical], self.arns[logical] = url, arn

    def create_keys(self):
        for logical, props in self.resources("AWS::KMS::Key"):
            key = self.kms.create_key(Description=props.get("Description", logical))["KeyMetadata"]
            self.refs[logical], self.arns[logical] = key["KeyId"], key["Arn"]

    def create_tables(self):
        for logical, props in self.resources("AWS::DynamoDB::Table"):
            name = self.prefix + logical
            request = dict(TableName=name, KeySchema=props["KeySchema"],
                           AttributeDefinitions=props["AttributeDefinitions"],
                           BillingMode=props.get("BillingMode", "PAY_PER_REQUEST"))
            if props.get("GlobalSecondaryIndexes"):
                request["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
            arn = self.dynamodb.create_table(**request)["TableDescription"]["TableArn"]
            ttl = props.get("TimeToLiveSpecification")
            if ttl:
                self.dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
            pitr = props.get("PointInTimeRecoverySpecification")
            if pitr:
                self.dynamodb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification=pitr)
            self.refs[logical], self.arns[logical] = name, arn

    def functions(self):
        out = {}
        # As SAM deploys them: the Globals' variables, then the function's own, which win.
        shared = self.template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        for logical, props in self.resources("AWS::Serverless::Function"):
            binary = cfn.binary(self.template, logical)
            variables = {**shared, **props.get("Environment", {}).get("Variables", {})}
            out[logical] = {"binary": binary, "env": {k: str(self.resolve(v)) for k, v in variables.items()}}
        return out


def env_value(value):
    """A value as an env file holds it: bare when it is plain, else double-quoted (RUST_LOG's `=` and `,`)."""
    return value if re.fullmatch(r"[\w./:@+-]*", value) else json.dumps(value)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--prefix", required=True, help="prepended to every resource name")
    parser.add_argument("--template", default="template.yaml")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--env-file", help="also write every function's environment here, KEY=VALUE lines")
    args = parser.parse_args()

    stack = Stack(cfn.load(args.template), args.endpoint, args.prefix, args.region)
    stack.create_queues()
    stack.create_keys()
    stack.create_tables()
    result = {"resources": stack.refs, "functions": stack.functions()}
    if args.env_file:
        merged = {}
        for function in result["functions"].values():
            merged.update(function["env"])
        with open(args.env_file, "w") as f:
            f.writelines(f"{k}={env_value(v)}\n" for k, v in sorted(merged.items()))
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
