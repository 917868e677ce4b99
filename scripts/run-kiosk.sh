#!/usr/bin/env bash
# `make run`: the kiosk on simulated devices, with a local central platform and the agent.
# Without a display it starts a virtual one (Xvfb) and says how to look at it.
# Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."

kiosk=.venv/bin/kiosk
py=.venv/bin/python
config=${KIOSK_CONFIG:-config/kiosk.toml}
export KIOSK_CONFIG=$config
mkdir -p var/log
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

setting() { "$py" -c "from kiosk import config; s = config.load(); print($1)"; }
central_url=$(setting 's.central.url')
secret=$(setting 's.central.secret')
kiosk_id=$(setting 's.kiosk.id')

port_open() { "$py" -c "import socket,sys; s=socket.socket(); s.settimeout(0.5); sys.exit(s.connect_ex(('127.0.0.1', $1)))"; }

# The reference central platform, unless one already answers.
if [[ $central_url == http://127.0.0.1:8700* ]] && ! port_open 8700; then
  db=var/central.db
  fresh=0; [ -f "$db" ] || fresh=1
  "$kiosk" central add-kiosk "$kiosk_id" --secret "$secret" --db "$db" >/dev/null 2>&1 || true
  [ "$fresh" = 1 ] && "$kiosk" central seed --db "$db"
  # The notifier's key: a demo pair, so that a demo kiosk whose [central] notice_key is
  # x25519:AH4amf0AjccSlcGPlhtXlFJ7oLEUV5K5vxkccmi9U0Q seals codes this platform opens. Demo only: a
  # deployment's platform makes its own notice.key on first start (`kiosk central notice-key` prints it).
  [ -f var/notice.key ] || (umask 077; echo "0M893kNvOdV7uUJjOLHeIGvhvMwyRM7Yic7iD4zhOnQ" >var/notice.key)
  # Its settings: texts to var/sms.jsonl through the file gateway, links to this platform's pickup page.
  [ -f var/central.toml ] || printf '%s\n' '[notify]' 'gateway = "file"' 'path = "var/sms.jsonl"' \
    'page_base_url = "http://127.0.0.1:8700"' >var/central.toml
  "$kiosk" central --db "$db" >var/log/central.log 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do port_open 8700 && break; sleep 0.2; done
  echo "central platform: $central_url (log: var/log/central.log)"
  "$kiosk" central notify --db "$db" >var/log/notify.log 2>&1 &
  pids+=($!)
  echo "notifier: texts to applicants go to var/sms.jsonl (log: var/log/notify.log)"
fi

# The A4 printer queue "sim" on this machine's CUPS (cups-pdf), when we may create it.
if [ -x scripts/cups-sim-queue.sh ]; then
  scripts/cups-sim-queue.sh || echo "A4 printing: the CUPS queue 'sim' is not available (see above); the kiosk shows A4 printing as unavailable."
fi

# The guide catalog and its search readings, here rather than in the UI (keeps pypinyin out of it).
"$kiosk" guides seed || echo "guide catalog: not seeded (see above); the guides list what the kiosk has."

"$kiosk" agent >var/log/agent.log 2>&1 &
pids+=($!)
echo "agent: syncing to $central_url (log: var/log/agent.log)"

if [ -z "${DISPLAY:-}" ]; then
  display=:${KIOSK_XVFB_DISPLAY:-77}
  Xvfb "$display" -screen 0 1080x1920x24 -nolisten tcp >var/log/xvfb.log 2>&1 &
  pids+=($!)
  export DISPLAY=$display
  for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X${display#:}" ] && break; sleep 0.1; done
  echo "No display here: the kiosk runs on the virtual display $display (Xvfb)."
  echo "To look at it, in another terminal:  make look      (saves var/screen.png)"
fi

echo "kiosk UI starting (Ctrl-C to stop everything)"
"$kiosk" ui
