#!/usr/bin/env python3
"""The partition-heat model: per-partition DynamoDB load under docs/scale-scenarios.yaml's workloads, from the
request sequences the integration tests record (target/scale/sequences/, tests/heat/).

    scale_model.py report [--out docs/SCALE.md]   writes the report
    scale_model.py check                          fails when a supported scenario puts a key over the
                                                  threshold that known_over does not name (or names wrongly),
                                                  after proving on made-up sequences that it would

Method. A sequence is the touches of `instances` runs of a flow: per touch the table or index, the partition
key's class (`STORE#{store}#EVENT#{event}`), read or write and the capacity units DynamoDB bills. A flow at
rate r puts r / instances × units on its classes each second. The hottest partition of a class gets that
load times the share of its hottest value for each variable of the class (the scenario's `shares`); a
variable a single instance touches (`one`) holds one instance's units. The rate limiter's counter is not
taken from the recordings (how often an instance renews its lease depends on timing); it is derived from the
code's lease rule (`domain::rate_limit::lease_cap`): one write per max(min(10, limit / 10), limit / 100)
requests.
"""
import argparse
import glob
import json
import math
import os
import re
import sys
from collections import defaultdict

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
RATE_CLASS = "STORE#{store}#RATE#{window}"


def load_sequences():
    sequences = {}
    for path in sorted(glob.glob(os.path.join(TARGET, "scale/sequences/*.json"))):
        with open(path) as f:
            sequence = json.load(f)
        sequences[sequence["name"]] = sequence
    if not sequences:
        sys.exit("no recorded sequences in target/scale/sequences: run the integration tests (make integration)")
    return sequences


def load_constants():
    path = os.path.join(TARGET, "scale/constants.json")
    if not os.path.exists(path):
        sys.exit(f"{path} is missing: run the integration tests (make integration)")
    with open(path) as f:
        return json.load(f)


def variables(key_class):
    return re.findall(r"\{(\w+)\}", key_class)


def share(scenario, key_class, variable, rate, constants):
    """The share of the class's load on the hottest value of `variable`."""
    shares = scenario["shares"]
    if variable not in shares:
        raise SystemExit(f"scenario {scenario['name']}: no share for {{{variable}}} (class {key_class})")
    value = shares[variable]
    if value == "one":
        return 1.0 / rate if rate else 0.0
    if value == "shards":
        count = constants["shards"].get(key_class)
        if not count:
            raise SystemExit(f"no shard count for {key_class} in constants.json")
        return 1.0 / count
    return float(value)


def per_flow(sequence):
    """Per (target, class): write and read units, and request units, of one instance of the flow."""
    loads = defaultdict(lambda: {"wcu": 0.0, "rcu": 0.0, "max_item": 0})
    for touch in sequence["touches"]:
        if touch["class"] == RATE_CLASS:
            continue
        load = loads[(touch["target"], touch["class"])]
        load["wcu" if touch["access"] == "write" else "rcu"] += touch["units"] / sequence["instances"]
        if touch["access"] == "write" and touch["target"] == "table":
            load["max_item"] = max(load["max_item"], touch["bytes"])
    return loads


def transactions(sequence):
    """(items, bytes) of each TransactWriteItems request of the sequence."""
    by_request = defaultdict(lambda: [0, 0])
    for touch in sequence["touches"]:
        if touch["operation"] == "TransactWriteItems" and touch["target"] == "table":
            by_request[touch["request"]][0] += 1
            by_request[touch["request"]][1] += touch["bytes"]
    return list(by_request.values())


def evaluate(scenario, sequences, constants, limits):
    hot = defaultdict(lambda: {"wcu": 0.0, "rcu": 0.0, "max_item": 0, "flows": set()})
    table = {"wru": 0.0, "rru": 0.0}
    events = 0.0
    for name, rate in scenario["flows"].items():
        if name not in sequences:
            raise SystemExit(f"scenario {scenario['name']}: no recorded sequence {name}")
        if not name.startswith(("dispatch", "scheduler", "erasure", "job")):
            events += rate
        for (target, key_class), load in per_flow(sequences[name]).items():
            concentration = 1.0
            for variable in variables(key_class):
                concentration *= share(scenario, key_class, variable, rate, constants)
            entry = hot[(target, key_class)]
            entry["wcu"] += rate * load["wcu"] * concentration
            entry["rcu"] += rate * load["rcu"] * concentration
            entry["max_item"] = max(entry["max_item"], load["max_item"])
            entry["flows"].add(name)
            table["wru"] += rate * load["wcu"]
            table["rru"] += rate * load["rcu"]
    # The rate limiter's counter: one write per lease, a lease of lease_cap(the store's limit) permits.
    # `requests_per_second` is the hottest store's; every store has its own counter.
    rps = scenario.get("requests_per_second", 0)
    limit = scenario.get("rate_limit", constants["rate_limit"]["max_per_second"])
    rule = constants["rate_limit"]
    lease = max(1, min(rule["max_lease"], limit // 10), limit // rule["lease_share_divisor"])
    counter = hot[("table", RATE_CLASS)]
    counter["wcu"] = rps / lease
    counter["flows"].add("rate limiter (derived)")
    table["wru"] += rps / lease / float(scenario["shares"]["store"])
    rows = []
    for (target, key_class), entry in hot.items():
        utilisation = max(entry["wcu"] / limits["partition_wcu"], entry["rcu"] / limits["partition_rcu"])
        rows.append({"target": target, "class": key_class, "wcu": entry["wcu"], "rcu": entry["rcu"],
                     "utilisation": utilisation, "max_item": entry["max_item"], "flows": sorted(entry["flows"])})
    rows.sort(key=lambda r: -r["utilisation"])
    return rows, table, events


def known(config, scenario, row):
    for entry in config.get("known_over", []):
        if entry["scenario"] in ("*", scenario["name"]) and entry["target"] == row["target"] \
                and entry["class"] == row["class"]:
            return entry
    return None


def check(config, sequences, constants):
    limits = config["limits"]
    failures = []
    listed_and_over = set()
    for scenario in config["scenarios"]:
        if not scenario.get("supported"):
            continue
        rows, _, _ = evaluate(scenario, sequences, constants, limits)
        for row in rows:
            if row["utilisation"] <= limits["threshold"]:
                continue
            entry = known(config, scenario, row)
            if entry is None:
                failures.append(f"{scenario['name']}: {row['target']} {row['class']} at "
                                f"{row['utilisation']:.0%} of a partition ({row['wcu']:.0f} WCU/s, "
                                f"{row['rcu']:.0f} RCU/s), over {limits['threshold']:.0%}")
            else:
                listed_and_over.add(id(entry))
    for entry in config.get("known_over", []):
        if id(entry) not in listed_and_over:
            failures.append(f"known_over lists {entry['target']} {entry['class']} ({entry['scenario']}), "
                            "which no supported scenario puts over the threshold: remove it")
    for name, sequence in sequences.items():
        largest = max((t["bytes"] for t in sequence["touches"] if t["access"] == "write"), default=0)
        if largest > limits.get("max_item_bytes", 409600):
            failures.append(f"{name}: an item of {largest} bytes, over DynamoDB's 400 KB")
        for items, size in transactions(sequence):
            if items > limits["max_transaction_items"] or size > limits["max_transaction_bytes"]:
                failures.append(f"{name}: a transaction of {items} items, {size} bytes, over DynamoDB's limits")
    if failures:
        print("partition-heat check failed:\n  " + "\n  ".join(failures))
        return 1
    print(f"partition-heat check: {sum(1 for s in config['scenarios'] if s.get('supported'))} scenarios, "
          f"{len(sequences)} recorded sequences, no unlisted key over {limits['threshold']:.0%} of a partition")
    return 0


def selftest():
    """The check on a made-up flow that writes one key 900 times a second: it must fail unlisted, pass listed,
    and fail when the list names a key that is no longer over."""
    touch = {"request": 0, "operation": "PutItem", "target": "table", "class": "STORE#{store}#JOBS",
             "access": "write", "consistent": True, "transactional": False, "bytes": 100, "units": 1.0}
    sequences = {"hot": {"name": "hot", "instances": 1, "touches": [touch]}}
    constants = {"shards": {}, "rate_limit": {"max_lease": 10, "lease_share_divisor": 100, "max_per_second": 10000}}
    listed = {"scenario": "*", "target": "table", "class": "STORE#{store}#JOBS", "why": "made up"}

    def verdict(rate, known_over):
        config = {"limits": {"partition_wcu": 1000, "partition_rcu": 3000, "threshold": 0.8,
                             "max_transaction_items": 100, "max_transaction_bytes": 4194304},
                  "scenarios": [{"name": "made-up", "supported": True, "flows": {"hot": rate},
                                 "shares": {"store": 1, "window": 1}}],
                  "known_over": known_over}
        with open(os.devnull, "w") as quiet:
            saved, sys.stdout = sys.stdout, quiet
            try:
                return check(config, sequences, constants)
            finally:
                sys.stdout = saved

    assert verdict(900, []) == 1, "a key at 90% of a partition must fail the check"
    assert verdict(900, [listed]) == 0, "a listed key over the threshold passes"
    assert verdict(100, [listed]) == 1, "a listed key no longer over must fail the check"


def fmt(number):
    if number >= 100:
        return f"{number:,.0f}"
    if number >= 1:
        return f"{number:.1f}"
    return f"{number:.3f}" if number else "0"


def sequence_costs(sequences):
    lines = ["| sequence | per | WRU | RRU | requests touching the table | largest item written (bytes) | "
             "largest transaction (items / bytes) |", "|---|---|---|---|---|---|---|"]
    for name, sequence in sorted(sequences.items()):
        touches = [t for t in sequence["touches"] if t["class"] != RATE_CLASS]
        n = sequence["instances"]
        wru = sum(t["units"] for t in touches if t["access"] == "write") / n
        rru = sum(t["units"] for t in touches if t["access"] == "read") / n
        requests = len({t["request"] for t in touches}) / n
        largest = max((t["bytes"] for t in touches if t["access"] == "write" and t["target"] == "table"), default=0)
        tx = max(transactions(sequence), default=[0, 0])
        unit = "event" if n > 1 or name.startswith(("single", "esputnik", "entity")) else "run"
        lines.append(f"| `{name}` | {unit} | {wru:.2f} | {rru:.2f} | {requests:.2f} | {largest} | "
                     f"{tx[0]} / {tx[1]} |")
    return lines


def report(config, sequences, constants):
    limits, prices = config["limits"], config["prices"]
    out = ["# Scale: partition heat under the workloads we support", "",
           "Generated by `make scale` (`scripts/scale_model.py`) from the DynamoDB requests the integration "
           "tests record through the real handlers (`tests/heat/`, `tests/it/scale.rs`, `tests/it/requests.rs`) "
           "and the scenarios in `docs/scale-scenarios.yaml`. Do not edit by hand.", "",
           "## Method", "", __doc__.split("Method. ", 1)[1].strip().replace("\n", " "), "",
           f"Limits: {limits['partition_wcu']:,} WCU/s and {limits['partition_rcu']:,} RCU/s per partition key "
           f"value (adaptive capacity cannot split an item, nor a partition whose sort key is time-ordered); "
           f"`make test` fails when a supported scenario puts a key over {limits['threshold']:.0%} that "
           "`known_over` does not name with its reason. Table quotas: "
           f"{limits['table_wru_quota']:,} WRU/s and {limits['table_rru_quota']:,} RRU/s per table by default "
           f"({limits['account_wru_quota']:,} WRU/s per account), a new on-demand table serves "
           f"{limits['ondemand_initial_wru']:,} WRU/s at once. Items: the largest written must stay under "
           f"{limits['max_item_bytes'] // 1024} KB, a transaction under {limits['max_transaction_items']} items and "
           f"{limits['max_transaction_bytes'] // 1048576} MB (checked too). The README's capacity guide says "
           "what to raise.", "",
           "## What each flow costs", "",
           "Request units per event (ingest, dispatch: per event of the batch) or per run, without the rate "
           "limiter's counter (one write per lease, below).", ""]
    out += sequence_costs(sequences)
    for scenario in config["scenarios"]:
        rows, table, events = evaluate(scenario, sequences, constants, limits)
        out += ["", f"## Scenario {scenario['name']}", "", " ".join(scenario["description"].split()), ""]
        flows = ", ".join(f"`{name}` {rate:,}/s" for name, rate in scenario["flows"].items())
        out += [f"Flows: {flows}.", ""]
        out += ["| target | key class | WCU/s on the hottest partition | RCU/s | of a partition | |",
                "|---|---|---|---|---|---|"]
        for row in rows[:12]:
            entry = known(config, scenario, row)
            mark = ""
            if row["utilisation"] > limits["threshold"]:
                mark = f"**over**: {entry['why']}" if entry else "**over, unexplained**"
            out.append(f"| {row['target']} | `{row['class']}` | {fmt(row['wcu'])} | {fmt(row['rcu'])} | "
                       f"{row['utilisation']:.1%} | {mark} |")
        cost = (table["wru"] * prices["wru"] + table["rru"] * prices["rru"]) / 1e6
        per_million = cost / events * 1e6 if events else 0
        out += ["", f"Table: {fmt(table['wru'])} WRU/s ({table['wru'] / limits['table_wru_quota']:.0%} of the "
                f"default table quota, {table['wru'] / limits['account_wru_quota']:.0%} of the account's; "
                f"{'above' if table['wru'] > limits['ondemand_initial_wru'] else 'within'} "
                f"what a new on-demand table serves at once), {fmt(table['rru'])} RRU/s. "
                f"DynamoDB cost: ${cost * 3600:,.2f} per hour, ${per_million:.2f} per million events."]
    out += ["", "## Known hot keys", "", "Keys over the threshold today, each with why (`known_over`):", ""]
    out += [f"- {e['target']} `{e['class']}` ({e['scenario']}): {e['why']}" for e in config.get("known_over", [])]
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["report", "check"])
    parser.add_argument("--scenarios", default=os.path.join(ROOT, "docs/scale-scenarios.yaml"))
    parser.add_argument("--out", default=os.path.join(ROOT, "docs/SCALE.md"))
    args = parser.parse_args()
    with open(args.scenarios) as f:
        config = yaml.safe_load(f)
    sequences, constants = load_sequences(), load_constants()
    if args.command == "check":
        selftest()
        sys.exit(check(config, sequences, constants))
    with open(args.out, "w") as f:
        f.write(report(config, sequences, constants))
    print(f"wrote {args.out}")
    sys.exit(check(config, sequences, constants))


if __name__ == "__main__":
    main()
