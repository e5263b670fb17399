# Sourced by run-local.sh: start named helpers in the background, stop them all together, and when one ends,
# say which one and with what status before stopping the rest.
#
#   start NAME COMMAND [ARGS...]   runs COMMAND in the background (redirect with `start … >log 2>&1`)
#   watch_helpers                  returns when a helper has exited, after saying which
#   stop_helpers                   stops every helper still running

helper_pids=()
helper_names=()

start() {
  local name="$1"
  shift
  "$@" &
  helper_pids+=("$!")
  helper_names+=("$name")
}

# Polls rather than `wait -n`, which cannot say which child ended before bash 5.1.
watch_helpers() {
  while true; do
    local i
    for i in "${!helper_pids[@]}"; do
      if ! kill -0 "${helper_pids[$i]}" 2>/dev/null; then
        local status=0
        wait "${helper_pids[$i]}" || status=$?
        echo "${helper_names[$i]} (pid ${helper_pids[$i]}) exited with status $status; stopping the rest." >&2
        return "$status"
      fi
    done
    sleep 1
  done
}

stop_helpers() {
  local pid
  for pid in "${helper_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
