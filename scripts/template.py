#!/usr/bin/env python3
"""The one reader of template.yaml, for the scripts (provision.py, local_gateway.py) and the tests.

CloudFormation's short-form tags (!Ref X, !GetAtt X.Arn, !Sub ...) are read as their long forms
({"Ref": X}, {"Fn::GetAtt": [X, "Arn"]}, ...). `describe` is what the tests read: per function its binary,
environment, HTTP routes and IAM grants, the environment every function shares, and each table's keys
and indexes.

    template.py describe [--template template.yaml]   prints the description as JSON
"""
import argparse
import json
import sys

import yaml


class CfnLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags as their long forms."""


def _tag(name):
    def construct(loader, node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if name == "Fn::GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    return construct


for _short, _full in [("!Ref", "Ref"), ("!GetAtt", "Fn::GetAtt"), ("!Sub", "Fn::Sub"), ("!Join", "Fn::Join"),
                      ("!If", "Fn::If"), ("!Equals", "Fn::Equals"), ("!Select", "Fn::Select"), ("!Not", "Fn::Not"),
                      ("!Or", "Fn::Or"), ("!Condition", "Condition")]:
    CfnLoader.add_constructor(_short, _tag(_full))


def load(path="template.yaml"):
    with open(path) as f:
        return yaml.load(f, Loader=CfnLoader)


def resources(template, kind):
    """(logical id, properties) of every resource of `kind`."""
    return [(k, v.get("Properties", {})) for k, v in template["Resources"].items() if v["Type"] == kind]


def binary(template, logical):
    """The binary a function resource runs (its cargo-lambda build property)."""
    return template["Resources"][logical].get("Metadata", {}).get("BuildProperties", {}).get("Binary")


def routes(properties):
    """(method, path) of every HttpApi event of a function."""
    return [(e["Properties"]["Method"].upper(), e["Properties"]["Path"])
            for e in properties.get("Events", {}).values() if e["Type"] == "HttpApi"]


def _listed(value):
    return value if isinstance(value, list) else [value]


def grants(properties):
    """Every policy statement of a function: its actions and resources (intrinsics in their long form)."""
    statements = []
    for policy in properties.get("Policies", []):
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            statements.append({"actions": _listed(statement.get("Action", [])),
                               "resources": _listed(statement.get("Resource", []))})
    return statements


def describe(template):
    functions = {}
    for logical, properties in resources(template, "AWS::Serverless::Function"):
        functions[logical] = {
            "binary": binary(template, logical),
            "environment": properties.get("Environment", {}).get("Variables", {}),
            "routes": [{"method": m, "path": p} for m, p in routes(properties)],
            "grants": grants(properties),
        }
    shared = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    return {"functions": functions, "environment": shared, "tables": tables(template)}


def _key_schema(schema):
    keys = {k["KeyType"]: k["AttributeName"] for k in schema}
    return {"hash": keys["HASH"], "range": keys.get("RANGE")}


def tables(template):
    """Per DynamoDB table its keys and its global secondary indexes (keys and projection): what the
    partition-heat recorder derives index writes from."""
    described = {}
    for logical, properties in resources(template, "AWS::DynamoDB::Table"):
        described[logical] = {
            **_key_schema(properties["KeySchema"]),
            "indexes": [{"name": index["IndexName"], **_key_schema(index["KeySchema"]),
                         "projection": index["Projection"]["ProjectionType"],
                         "attributes": index["Projection"].get("NonKeyAttributes", [])}
                        for index in properties.get("GlobalSecondaryIndexes", [])],
        }
    return described


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["describe"])
    parser.add_argument("--template", default="template.yaml")
    args = parser.parse_args()
    json.dump(describe(load(args.template)), sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
