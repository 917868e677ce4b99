# shellcheck shell=sh
# Shared by the maintainer scripts (copied into each at build time, between the markers).
# DPKG_ROOT (dpkg 1.21): the root being installed into; empty on a live machine. Services are only
# started and stopped on a live machine that runs systemd.
root=${DPKG_ROOT:-}
data=$root/var/lib/kiosk
opt=$root/opt/kiosk
live() { [ -z "$root" ] && [ -d /run/systemd/system ]; }
say() { printf 'kiosk: %s\n' "$*" >&2; }
# a kiosk command as the kiosk user (root on a live machine), with the installed config
kiosk_cmd() {
  if [ -z "$root" ] && [ "$(id -u)" = 0 ] && id kiosk >/dev/null 2>&1; then
    runuser -u kiosk -- env KIOSK_CONFIG=/etc/kiosk/kiosk.toml /opt/kiosk/venv/bin/python -I -m kiosk.cli "$@"
  else
    env KIOSK_CONFIG="$root/etc/kiosk/kiosk.toml" "$opt/venv/bin/python" -I -m kiosk.cli "$@"
  fi
}
