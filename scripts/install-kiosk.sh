#!/usr/bin/env bash
# Installs (or upgrades) the kiosk from this source tree, for development: builds the Debian package
# (scripts/build-deb.sh) and installs it the way a kiosk of a fleet gets it (docs/deploy.md):
#
#   sudo scripts/install-kiosk.sh [--central] [--deb FILE] [--wheelhouse DIR]
#
#   --central          also enable and start the hall's own platform (kiosk-central, kiosk-central-notify)
#   --deb FILE         install this package instead of building one
#   --wheelhouse DIR   build without an index: pip takes every wheel from DIR (pip download -d DIR ...)
#
# Everything else is the package's: its scripts create the users, the data dir and the config from its
# template (never over an existing one), stop the UI between visits on an upgrade, let the outbox drain,
# migrate the database and start the services once the kiosk is provisioned (`kiosk provision`).
#
# DESTDIR=/some/dir installs into that root instead of this machine (an image being built, the tests):
# the package is unpacked there and its scripts run with DPKG_ROOT naming it; nothing is started or enabled.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
root=${DESTDIR:-}
central=0 deb="" wheelhouse=""
while [ $# -gt 0 ]; do
  case "$1" in
    --central) central=1 ;;
    --deb)
      if [ $# -lt 2 ] || [ ! -f "$2" ]; then
        echo "install-kiosk: --deb needs a package file (make deb writes dist/kiosk_VERSION_ARCH.deb), got '${2:-}'" >&2
        exit 2
      fi
      deb=$(cd "$(dirname "$2")" && pwd)/$(basename "$2"); shift ;;
    --wheelhouse)
      if [ $# -lt 2 ] || [ ! -d "$2" ]; then
        echo "install-kiosk: --wheelhouse needs a folder of wheels (pip download -d DIR ...), got '${2:-}'" >&2
        exit 2
      fi
      wheelhouse=$(cd "$2" && pwd); shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "install-kiosk: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then
  echo "install-kiosk: run as root (sudo $0), or set DESTDIR to install into a folder" >&2
  exit 2
fi
say() { printf 'install-kiosk: %s\n' "$*"; }
work=$(mktemp -d "${TMPDIR:-/tmp}/install-kiosk.XXXXXX")
trap 'rm -rf "$work"' EXIT

if [ -z "$deb" ]; then
  say "building the package (scripts/build-deb.sh)"
  make -C "$src" --no-print-directory setup >/dev/null
  if [ -n "$wheelhouse" ]; then
    PIP_NO_INDEX=1 PIP_FIND_LINKS=$wheelhouse "$src/scripts/build-deb.sh" --out "$work"
  else
    "$src/scripts/build-deb.sh" --out "$work"
  fi
  deb=$(ls "$work"/kiosk_*.deb)
fi
version=$(dpkg-deb -f "$deb" Version)

if [ -z "$root" ]; then
  say "installing kiosk $version (apt takes what it depends on from Debian)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$deb"
  if [ "$central" = 1 ]; then
    systemctl enable --now kiosk-central.service kiosk-central-notify.service
    say "the platform serves on 127.0.0.1:8700 (docs/central-api.md)"
  fi
  exit 0
fi

# into DESTDIR: as dpkg --root would, the new version's preinst, its files, its postinst
dpkg-deb -e "$deb" "$work/control"
old=""
[ -f "$root/usr/share/kiosk/package-version" ] && old=$(cat "$root/usr/share/kiosk/package-version")
mkdir -p "$root"
if [ -n "$old" ]; then
  DPKG_ROOT=$root sh "$work/control/preinst" upgrade "$old"
else
  DPKG_ROOT=$root sh "$work/control/preinst" install
fi
dpkg -x "$deb" "$root"
DPKG_ROOT=$root sh "$work/control/postinst" configure "$old"
say "kiosk $version installed into $root${old:+ (was $old)}; nothing started or enabled: after \`kiosk provision\`, \`systemctl enable kiosk-agent kiosk-ui\`"
