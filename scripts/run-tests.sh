#!/bin/sh
# `make test`: the whole suite, in two pytest runs side by side.
#
# The tests of the Kivy window (tests/ui) share one window and the simulated devices it holds for
# the whole run, so they run in a pytest process of their own; every other test (the tour among
# them, in a process of its own as the xdist group "tour") runs beside it on TEST_WORKERS processes.
# The window's output is printed after the rest; the status is the worse of the two.
# Arguments go to both runs (e.g. -x, -k NAME).
set -u
cd "$(dirname "$0")/.."
PY=.venv/bin/python
WORKERS=${TEST_WORKERS:-2}
UI_LOG=$(mktemp "${TMPDIR:-/tmp}/kiosk-ui-tests.XXXXXX")
trap 'rm -f "$UI_LOG"' EXIT

# without arguments the window's process collects tests/ui alone: importing every other test module only
# to deselect it left 382,000 objects for each of the UI's garbage collections between visits
# (kiosk/screens/shell.py) to walk, 0.22 s a collection against 0.05 s with tests/ui's 94,000
UI_PATHS=""
[ $# -eq 0 ] && UI_PATHS=tests/ui
"$PY" -m pytest -p no:xdist -m "ui and not tour" --durations=15 "$@" $UI_PATHS >"$UI_LOG" 2>&1 &
UI_PID=$!
"$PY" -m pytest -n "$WORKERS" --dist loadgroup -m "not ui or tour" --durations=15 "$@"
REST=$?
wait "$UI_PID"
UI=$?
echo
echo "=== the Kivy window's tests (tests/ui), run beside the above ==="
cat "$UI_LOG"
# 5: nothing selected (e.g. -k matching only one side) is not a failure of the run
[ "$REST" -eq 5 ] && REST=0
[ "$UI" -eq 5 ] && UI=0
[ "$REST" -ne 0 ] && exit "$REST"
exit "$UI"
