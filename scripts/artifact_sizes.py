#!/usr/bin/env python3
"""The size of each function's deployment artifact after `sam build`: the bootstrap binary, and the zip
sam deploy uploads (Lambda's limits: 50 MB zipped, 250 MB unzipped)."""
import io
import pathlib
import sys
import zipfile


def zipped_size(directory: pathlib.Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(directory.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(directory))
    return buffer.tell()


def main() -> int:
    build = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".aws-sam/build")
    functions = sorted(p for p in build.iterdir() if (p / "bootstrap").is_file())
    if not functions:
        print(f"no function artifacts under {build}", file=sys.stderr)
        return 1
    print(f"{'function':<24}{'bootstrap':>12}{'zipped':>12}")
    for function in functions:
        unzipped = sum(p.stat().st_size for p in function.rglob("*") if p.is_file())
        print(f"{function.name:<24}{unzipped / 2**20:>9.1f} MiB{zipped_size(function) / 2**20:>9.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
