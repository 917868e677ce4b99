#!/usr/bin/env bash
# Builds the kiosk's Debian package (`make deb`): dist/kiosk_VERSION_ARCH.deb.
#
#   scripts/build-deb.sh [--version V] [--out DIR] [--stage DIR]
#   scripts/build-deb.sh --pack STAGE --version V [--out DIR]     (pack a staged root again)
#
# What goes where (docs/deploy.md, "the Debian package"):
#   /opt/kiosk/venv              the application and every Python dependency, in a virtual environment
#                                built here from the wheels pip can reach (this machine's indexes)
#   /usr/bin/kiosk               the command, with KIOSK_CONFIG defaulting to /etc/kiosk/kiosk.toml
#   /lib/systemd/system          kiosk-ui, kiosk-agent, kiosk-central, kiosk-central-notify units
#   /lib/udev/rules.d            the stable /dev/kiosk-* names; USB sticks mounted under /media/kiosk
#   /usr/lib/sysusers.d          the kiosk and kiosk-central system users
#   /usr/share/kiosk             the config template (demo = false), the demo catalog, the X session
#   /usr/share/doc/kiosk         the docs the units name
# The maintainer scripts (packaging/debian/) stop the UI between visits on an upgrade, let the outbox
# drain, migrate the database forward and put the previous version back when a migration fails.
#
# Like dh-virtualenv, the venv is made at a staging path and then moved: the scripts' #! lines, the
# activate scripts and pyvenv.cfg are rewritten to /opt/kiosk/venv and every .pyc is compiled again with
# that path; the build fails if the staging path is left anywhere in the package.
# The version is pyproject's, with +gitYYYYMMDDHHMMSS (the commit's time) in a git checkout, so each
# commit's package upgrades the one before it.
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
out=$src/dist
version="" stage="" pack=""
while [ $# -gt 0 ]; do
  case "$1" in
    --version|--out|--stage|--pack)
      if [ $# -lt 2 ] || [ -z "$2" ]; then echo "build-deb: $1 needs a value" >&2; exit 2; fi
      case "$1" in --version) version=$2 ;; --out) out=$2 ;; --stage) stage=$2 ;; --pack) pack=$2 ;; esac
      shift ;;
    -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
    *) echo "build-deb: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
# Debian's own Python: the venv's interpreter is a link to it on the kiosk (the package depends on python3.11)
py=/usr/bin/python3.11
[ -x "$py" ] && "$py" -c 'import ensurepip, venv' 2>/dev/null \
  || { echo "build-deb: Debian's python3.11 with python3.11-venv is needed (scripts/system-packages.sh installs them)" >&2; exit 2; }
for tool in dpkg-deb dpkg fakeroot; do
  command -v "$tool" >/dev/null || { echo "build-deb: $tool is missing (scripts/system-packages.sh installs it)" >&2; exit 2; }
done
say() { printf 'build-deb: %s\n' "$*"; }
arch=$(dpkg --print-architecture)

if [ -z "$version" ]; then
  version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$src/pyproject.toml" | head -1)
  if git -C "$src" rev-parse HEAD >/dev/null 2>&1; then
    version="$version+git$(git -C "$src" log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S)"
  fi
fi
case "$version" in
  [0-9]*) ;;
  *) echo "build-deb: '$version' is not a Debian version (it must start with a digit)" >&2; exit 2 ;;
esac

pack_stage() {  # STAGE: write DEBIAN/control for $version and build the .deb into $out
  local root=$1
  local size
  size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
  install -d -m 0755 "$root/DEBIAN"
  sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
      "$src/packaging/debian/control" > "$root/DEBIAN/control"
  printf '%s\n' "$version" > "$root/usr/share/kiosk/package-version"
  # the maintainer scripts, each with the shared part and this version written in
  local s
  for s in preinst postinst prerm postrm; do
    awk -v common="$src/packaging/debian/common.sh" \
        '/^#COMMON#$/ { while ((getline line < common) > 0) print line; next } { print }' \
        "$src/packaging/debian/$s" | sed "s/@VERSION@/$version/" > "$root/DEBIAN/$s"
    chmod 0755 "$root/DEBIAN/$s"
  done
  install -m 0644 "$src/packaging/debian/conffiles" "$root/DEBIAN/conffiles"
  mkdir -p "$out"
  local deb=$out/kiosk_${version}_${arch}.deb
  # zstd -3: a third of xz's size is not worth ten times its build time for a 100 MB venv
  fakeroot dpkg-deb -Zzstd -z3 --build "$root" "$deb" >/dev/null
  say "built $deb ($(du -h "$deb" | cut -f1))"
}

if [ -n "$pack" ]; then
  [ -d "$pack/opt/kiosk/venv" ] || { echo "build-deb: $pack is not a staged package root (no opt/kiosk/venv)" >&2; exit 2; }
  pack_stage "$pack"
  exit 0
fi

# --- the staged root ---------------------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/kiosk-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=${stage:-$work/root}
rm -rf "$root"
mkdir -p "$root"
venv=$root/opt/kiosk/venv

for f in kiosk/core/input/pinyin.sqlite; do
  [ -f "$src/$f" ] || { echo "build-deb: $f is missing: run make setup first (make deb does)" >&2; exit 2; }
done

say "the virtual environment (/opt/kiosk/venv), on $py"
"$py" -m venv "$venv"

say "the application's wheel"
# a copy of the sources: setuptools writes build/ and *.egg-info beside them
mkdir -p "$work/src"
(cd "$src" && tar --exclude=.venv --exclude=var --exclude=.git --exclude=dist --exclude=build \
   --exclude='tests' --exclude='__pycache__' --exclude='*.egg-info' -cf - .) | tar -C "$work/src" -xf -
"$venv/bin/python" -m pip wheel --quiet --disable-pip-version-check --no-deps -w "$work/wheels" "$work/src"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-compile "$work"/wheels/kiosk-*.whl
"$venv/bin/python" -m pip uninstall --quiet --yes pip >/dev/null   # an installed kiosk never installs

# move the venv to its installed path: #! lines, activate scripts, pyvenv.cfg, then the byte code
for f in "$venv"/bin/*; do
  [ -f "$f" ] && [ ! -L "$f" ] || continue
  if head -c 2 "$f" | grep -q '^#!' || grep -qI "$venv" "$f"; then
    sed -i "s|$venv|/opt/kiosk/venv|g" "$f"
  fi
done
sed -i "s|$venv|/opt/kiosk/venv|g" "$venv/pyvenv.cfg"
find "$venv" -name __pycache__ -type d -prune -exec rm -rf {} +
"$venv/bin/python" -m compileall -q -j0 -s "$root" -p / "$venv/lib" >/dev/null

say "system files"
install -D -m 0755 "$src/packaging/debian/kiosk-command" "$root/usr/bin/kiosk"
units=(kiosk-ui.service kiosk-agent.service kiosk-central.service kiosk-central-notify.service)
for u in "${units[@]}"; do
  install -D -m 0644 "$src/systemd/$u" "$root/lib/systemd/system/$u"
  sed -i 's|file:///opt/kiosk/src/docs/|file:///usr/share/doc/kiosk/|' "$root/lib/systemd/system/$u"
done
install -D -m 0644 "$src/systemd/99-kiosk.rules" "$root/lib/udev/rules.d/99-kiosk.rules"
install -D -m 0644 "$src/systemd/10-kiosk-lockdown.conf" "$root/etc/X11/xorg.conf.d/10-kiosk-lockdown.conf"
install -D -m 0755 "$src/systemd/kiosk-session" "$root/opt/kiosk/bin/kiosk-session"
install -D -m 0644 "$src/systemd/98-kiosk-usb-stick.rules" "$root/lib/udev/rules.d/98-kiosk-usb-stick.rules"
install -D -m 0755 "$src/systemd/kiosk-usb-mount" "$root/opt/kiosk/bin/kiosk-usb-mount"
install -D -m 0644 /dev/stdin "$root/usr/lib/tmpfiles.d/kiosk.conf" <<'EOF'
# where a USB stick is mounted for the technician's exports (98-kiosk-usb-stick.rules), from the kiosk package
d /media/kiosk 0755 root root -
EOF
install -D -m 0644 /dev/stdin "$root/usr/lib/sysusers.d/kiosk.conf" <<'EOF'
# the kiosk's system users (sysusers.d(5)), from the kiosk package
u kiosk - "self-service kiosk" /var/lib/kiosk /usr/sbin/nologin
m kiosk dialout
m kiosk lp
m kiosk video
m kiosk input
u kiosk-central - "self-service kiosk platform" /var/lib/kiosk-central /usr/sbin/nologin
EOF
install -d -m 0755 "$root/usr/share/kiosk" "$root/usr/share/doc/kiosk" "$root/etc/kiosk"
sed -e 's|^data_dir = .*|data_dir = "/var/lib/kiosk"                 # the kiosk'"'"'s data (outbox, catalog, applied config)|' \
    -e 's|^seed_file = .*|seed_file = "/usr/share/kiosk/demo-catalog.json"|' \
    -e 's|^demo = true$|demo = false                                  # a kiosk that serves citizens: no demo values|' \
    "$src/config/kiosk.toml" > "$root/usr/share/kiosk/kiosk.toml"
grep -q '^demo = false' "$root/usr/share/kiosk/kiosk.toml" \
  || { echo "build-deb: config/kiosk.toml no longer has 'demo = true' to turn off" >&2; exit 1; }
install -m 0644 "$src/config/demo-catalog.json" "$root/usr/share/kiosk/demo-catalog.json"
cp -r "$src/docs/." "$root/usr/share/doc/kiosk/"
install -m 0644 "$src/README.md" "$root/usr/share/doc/kiosk/README.md"
install -D -m 0644 /dev/stdin "$root/usr/share/bash-completion/completions/kiosk" \
  < <("$venv/bin/python" -m kiosk.cli completion bash)

if left=$(grep -rlI --exclude-dir=DEBIAN -F "$root" "$root"); then
  echo "build-deb: the staging path is still written in: $left" >&2
  exit 1
fi
pack_stage "$root"
