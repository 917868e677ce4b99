#!/usr/bin/env bash
# Installs (or upgrades) the kiosk on a fresh Debian kiosk PC. Run as root from the source tree:
#
#   sudo scripts/install-kiosk.sh [--central] [--no-apt] [--no-venv] [--wheelhouse DIR]
#
# What it does, each step safe to repeat:
#   - the Debian packages (X server, xinit, Mesa, the Chinese font, CUPS + cups-pdf, python3-venv)
#   - a system user `kiosk` in the groups dialout (serial devices) and lp (printers)
#   - /etc/kiosk (config; an existing kiosk.toml is never overwritten), /var/lib/kiosk (data, 0750)
#   - the application in a virtual environment under /opt/kiosk/venv
#   - the systemd units, the X lockdown, the udev rules; the units enabled
# Upgrading keeps the outbox: the UI is stopped first (no new transactions), the agent is
# given a few minutes to drain the outbox, and the database is migrated in place on the
# next start (numbered migrations; nothing is dropped).
#
# DESTDIR=/some/dir installs into a throwaway root instead of this machine (used by the tests):
# users go into DESTDIR/etc/passwd (useradd --prefix) when that root has one, else they are left to
# systemd-sysusers at its first boot (/usr/lib/sysusers.d/kiosk.conf, installed either way); units
# are enabled with systemctl --root, and nothing is started or stopped.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
root=${DESTDIR:-}
apt=1 venv=1 central=0 wheelhouse=""
drain_wait_s=${KIOSK_DRAIN_WAIT_S:-300}
while [ $# -gt 0 ]; do
  case "$1" in
    --no-apt) apt=0 ;;
    --no-venv) venv=0 ;;
    --central) central=1 ;;
    --wheelhouse)
      if [ $# -lt 2 ] || [ ! -d "$2" ]; then
        echo "install-kiosk: --wheelhouse needs a folder of wheels (pip download -d DIR ...), got '${2:-}'" >&2
        exit 2
      fi
      wheelhouse=$2; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "install-kiosk: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then
  echo "install-kiosk: run as root (sudo $0), or set DESTDIR to install into a folder" >&2
  exit 2
fi

say() { printf 'install-kiosk: %s\n' "$*"; }
live() { [ -z "$root" ]; }   # installing onto this machine, not into DESTDIR

packages=(python3 python3-venv xserver-xorg xinit x11-xserver-utils libgl1 libgl1-mesa-dri libmtdev1
          fonts-wqy-microhei cups cups-client cups-bsd printer-driver-cups-pdf poppler-utils)
if [ "$apt" = 1 ]; then
  if live; then
    say "Debian packages"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}"
  else
    say "DESTDIR set: not installing Debian packages (${packages[*]})"
  fi
fi

# --- the kiosk user ----------------------------------------------------------------------------
prefix=()
[ -n "$root" ] && prefix=(--prefix "$root")
ensure_group() {
  grep -q "^$1:" "$root/etc/group" 2>/dev/null || groupadd "${prefix[@]}" --system "$1"
}
ensure_user() {  # name home groups...
  local name=$1 home=$2; shift 2
  if ! grep -q "^$name:" "$root/etc/passwd" 2>/dev/null; then
    useradd "${prefix[@]}" --system --user-group --home-dir "$home" --no-create-home \
      --shell /usr/sbin/nologin --comment "self-service kiosk" "$name"
    say "user $name created"
  fi
  for g in "$@"; do
    ensure_group "$g"
    id_groups=$(grep "^$g:" "$root/etc/group" | cut -d: -f4)
    case ",$id_groups," in *",$name,"*) ;; *) usermod "${prefix[@]}" -a -G "$g" "$name" ;; esac
  done
}
# the same users as systemd-sysusers declarations, for a root made elsewhere (an image, a package)
sysusers() {  # name home groups...
  local name=$1 home=$2; shift 2
  printf 'u %s - "self-service kiosk" %s /usr/sbin/nologin\n' "$name" "$home"
  for g in "$@"; do printf 'm %s %s\n' "$name" "$g"; done
}
install -d -m 0755 "$root/usr/lib/sysusers.d"
{
  echo "# written by scripts/install-kiosk.sh: the kiosk's system users (sysusers.d(5))"
  sysusers kiosk /var/lib/kiosk dialout lp video input
  [ "$central" = 1 ] && sysusers kiosk-central /var/lib/kiosk-central
} > "$root/usr/lib/sysusers.d/kiosk.conf"
if [ -n "$root" ] && [ ! -f "$root/etc/passwd" ]; then
  say "DESTDIR has no etc/passwd: the users are left to systemd-sysusers at first boot (usr/lib/sysusers.d/kiosk.conf)"
else
  ensure_user kiosk /var/lib/kiosk dialout lp video input
  [ "$central" = 1 ] && ensure_user kiosk-central /var/lib/kiosk-central
fi

owner() {  # chown only on the machine itself: DESTDIR's users are not this machine's
  live && chown "$@" || true
}

# --- folders and config ------------------------------------------------------------------------
install -d -m 0755 "$root/etc/kiosk" "$root/opt/kiosk" "$root/opt/kiosk/bin"
install -d -m 0750 "$root/var/lib/kiosk"
owner kiosk:kiosk "$root/var/lib/kiosk"
if [ ! -f "$root/etc/kiosk/kiosk.toml" ]; then
  sed -e 's|^data_dir = .*|data_dir = "/var/lib/kiosk"                 # the kiosk'"'"'s data (outbox, catalog, applied config)|' \
      -e 's|^seed_file = .*|seed_file = "/opt/kiosk/src/config/demo-catalog.json"|' \
      -e 's|^demo = true$|demo = false                                  # a kiosk that serves citizens: no demo values|' \
      "$src/config/kiosk.toml" > "$root/etc/kiosk/kiosk.toml"
  chmod 0640 "$root/etc/kiosk/kiosk.toml"
  owner root:kiosk "$root/etc/kiosk/kiosk.toml"
  say "config written to /etc/kiosk/kiosk.toml: set [kiosk] id, the devices, [central], [privacy] and the PINs; the kiosk refuses to start until \`kiosk config check\` passes"
else
  say "keeping the existing /etc/kiosk/kiosk.toml"
fi

# the source the venv is installed from, and the docs the units point to
rm -rf "$root/opt/kiosk/src.new"
mkdir -p "$root/opt/kiosk/src.new"
(cd "$src" && tar --exclude=.venv --exclude=var --exclude=.git --exclude='tests/artifacts' \
   --exclude='__pycache__' -cf - .) | tar -C "$root/opt/kiosk/src.new" -xf -
rm -rf "$root/opt/kiosk/src"
mv "$root/opt/kiosk/src.new" "$root/opt/kiosk/src"

# --- upgrade: stop taking transactions, let the outbox drain --------------------------------------
if live && systemctl is-active --quiet kiosk-ui.service; then
  say "upgrade: stopping the UI so no new transaction starts"
  systemctl stop kiosk-ui.service
  if [ -x /opt/kiosk/venv/bin/kiosk ] && systemctl is-active --quiet kiosk-agent.service; then
    say "upgrade: waiting up to ${drain_wait_s} s for the outbox to drain (it is kept either way)"
    end=$((SECONDS + drain_wait_s))
    while [ $SECONDS -lt $end ]; do
      pending=$(runuser -u kiosk -- env KIOSK_CONFIG=/etc/kiosk/kiosk.toml /opt/kiosk/venv/bin/kiosk queue --json \
        | python3 -c 'import json,sys; c=json.load(sys.stdin).get("counts",{}); print(c.get("pending",0)+c.get("inflight",0))' \
        2>/dev/null || echo "?")
      [ "$pending" = 0 ] && break
      sleep 5
    done
    say "upgrade: ${pending:-?} transaction(s) still pending; they stay in the outbox and go after the upgrade"
  fi
  live && systemctl stop kiosk-agent.service || true
fi

# --- the application -------------------------------------------------------------------------------
if [ "$venv" = 1 ]; then
  [ -x "$root/opt/kiosk/venv/bin/python" ] || python3 -m venv "$root/opt/kiosk/venv"
  pip_args=(--quiet --disable-pip-version-check)
  [ -n "$wheelhouse" ] && pip_args+=(--no-index --find-links "$wheelhouse")
  "$root/opt/kiosk/venv/bin/pip" install "${pip_args[@]}" --upgrade "$root/opt/kiosk/src"
  say "application installed in /opt/kiosk/venv"
else
  say "--no-venv: application not (re)installed"
fi

# --- system integration ---------------------------------------------------------------------------
install -D -m 0755 "$src/systemd/kiosk-session" "$root/opt/kiosk/bin/kiosk-session"
install -d -m 0755 "$root/etc/systemd/system" "$root/etc/udev/rules.d" "$root/etc/X11/xorg.conf.d"
units=(kiosk-ui.service kiosk-agent.service)
[ "$central" = 1 ] && units+=(kiosk-central.service kiosk-central-notify.service)
for u in "${units[@]}"; do
  install -m 0644 "$src/systemd/$u" "$root/etc/systemd/system/$u"
done
install -m 0644 "$src/systemd/99-kiosk.rules" "$root/etc/udev/rules.d/99-kiosk.rules"
install -m 0644 "$src/systemd/10-kiosk-lockdown.conf" "$root/etc/X11/xorg.conf.d/10-kiosk-lockdown.conf"

if live && [ -x /opt/kiosk/venv/bin/kiosk ]; then
  # the guide catalog and its search readings now, not in the UI's first start (DESIGN.md section 8)
  runuser -u kiosk -- env KIOSK_CONFIG=/etc/kiosk/kiosk.toml /opt/kiosk/venv/bin/kiosk guides seed \
    || say "guide catalog not seeded (see above); the UI seeds it at its first start"
fi

if live; then
  systemctl daemon-reload
  udevadm control --reload-rules 2>/dev/null && udevadm trigger 2>/dev/null || true
  systemctl enable "${units[@]}"
  systemctl set-default graphical.target >/dev/null
  systemctl restart kiosk-agent.service kiosk-ui.service
  [ "$central" = 1 ] && systemctl restart kiosk-central.service kiosk-central-notify.service
  say "started: journalctl -u kiosk-ui -u kiosk-agent -f shows what they do"
else
  systemctl --root="$root" enable "${units[@]}" >/dev/null 2>&1 || {
    # an older systemctl without --root support: the symlinks the [Install] sections ask for
    for u in "${units[@]}"; do
      target=$(sed -n 's/^WantedBy=//p' "$root/etc/systemd/system/$u")
      install -d "$root/etc/systemd/system/$target.wants"
      ln -sfn "/etc/systemd/system/$u" "$root/etc/systemd/system/$target.wants/$u"
    done
  }
  say "installed into $root (nothing started)"
fi
