#!/usr/bin/env python3
"""Prints an events/ fixture with its {{PLACEHOLDERS}} filled, for `make invoke` and `sam local invoke -e -`.

Values come from the environment first, then from the local stack's .local/stack.env (STORE_ID, API_KEY).
A placeholder without a value is an error that names it, so a fixture is never sent half-filled:
  scripts/render_event.py events/subscriptions/get.json            # needs SUBSCRIPTION_ID
  SUBSCRIPTION_ID=6741… scripts/render_event.py events/subscriptions/get.json
"""
import os
import pathlib
import re
import sys

PLACEHOLDER = re.compile(r"\{\{([A-Z_]+)\}\}")


def stack_values(path: pathlib.Path) -> dict:
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {name.strip(): value.strip() for name, value in pairs}


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    fixture = pathlib.Path(sys.argv[1])
    text = fixture.read_text()
    root = pathlib.Path(__file__).resolve().parent.parent
    values = {**stack_values(root / ".local" / "stack.env"), **os.environ}
    missing = sorted({name for name in PLACEHOLDER.findall(text) if not values.get(name)})
    if missing:
        hint = " ".join(f"{name}=…" for name in missing)
        print(f"{fixture} needs {', '.join(missing)}: pass {hint}", file=sys.stderr)
        return 2
    sys.stdout.write(PLACEHOLDER.sub(lambda m: values[m.group(1)], text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
