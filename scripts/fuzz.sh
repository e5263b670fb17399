#!/usr/bin/env bash
# cargo fuzz over every target in shared/core/fuzz/fuzz_targets/.
#
#   fuzz.sh smoke RUNS       `make test`: a fixed -seed and RUNS executions per target, starting from the
#                            committed seeds and regression cases, so a commit gets the same verdict each time
#   fuzz.sh explore SECONDS  `make fuzz`: random, SECONDS per target, growing shared/core/fuzz/corpus/<target>
#                            (not committed)
#
# A run that finds a crash or a timeout fails, and prints the path of the input libFuzzer saved under
# shared/core/fuzz/artifacts/<target>/. Once fixed, commit that input to shared/core/fuzz/regressions/<target>/: every
# `cargo test` replays those (shared/core/src/fuzzing.rs) and every smoke run starts from them.
set -uo pipefail
mode="${1:?usage: fuzz.sh smoke RUNS | explore SECONDS}"
amount="${2:?usage: fuzz.sh smoke RUNS | explore SECONDS}"
cd "$(dirname "$0")/../shared/core"
CARGO_FUZZ="${CARGO_FUZZ:-$(pwd)/../../.tools/bin/cargo-fuzz}"
SEED="${FUZZ_SEED:-20261201}"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
found=()
for file in fuzz/fuzz_targets/*.rs; do
  target=$(basename "$file" .rs)
  mkdir -p "fuzz/regressions/$target"
  case "$mode" in
    smoke)
      # New inputs go to a scratch directory: the committed corpus is read, never written.
      corpus="$scratch/$target"
      flags=(-seed="$SEED" -runs="$amount")
      ;;
    explore)
      corpus="fuzz/corpus/$target"
      flags=(-max_total_time="$amount")
      ;;
    *) echo "unknown mode '$mode'" >&2; exit 2 ;;
  esac
  mkdir -p "$corpus"
  log="$scratch/$target.log"
  RUSTC_BOOTSTRAP=1 "$CARGO_FUZZ" run "$target" "$corpus" "fuzz/seeds/$target" "fuzz/regressions/$target" -- \
    "${flags[@]}" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1
  status=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  if [ "$status" -eq 0 ]; then
    echo "$target: ${runs:-?} executions, nothing found"
    continue
  fi
  found+=("$target")
  echo "$target: FOUND SOMETHING (exit $status) after ${runs:-?} executions:"
  grep -E '^(==[0-9]+==|SUMMARY|thread |ALARM|error)' "$log" | head -20 | sed 's/^/  /'
  artifacts=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log")
  if [ -n "$artifacts" ]; then
    for artifact in $artifacts; do
      artifact=$(realpath --relative-to="$(pwd)/../.." "$artifact")
      echo "  input saved as $artifact"
      echo "  reproduce: cd shared/core && RUSTC_BOOTSTRAP=1 $CARGO_FUZZ run $target ../../$artifact"
    done
  else
    echo "  no input was saved; the last lines of the run:"
    tail -15 "$log" | sed 's/^/  /'
  fi
done
if [ "${#found[@]}" -gt 0 ]; then
  echo "fuzzing found something in: ${found[*]}" >&2
  exit 1
fi
