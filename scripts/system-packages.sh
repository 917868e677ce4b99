#!/usr/bin/env bash
# Installs the Debian packages the kiosk needs, or, when not root, names the
# exact apt-get line to run and stops. Safe to run again: installed packages
# are skipped without touching apt.
set -euo pipefail

packages=(
  python3-venv            # the .venv (Debian's python3 ships without venv)
  xvfb xauth              # a virtual display when there is no screen, and for the UI tests
  libgl1 libgl1-mesa-dri  # Mesa OpenGL for Kivy's SDL2 window
  libmtdev1               # Kivy's touch input provider
  fonts-wqy-microhei      # a single-face Simplified-Chinese font (Kivy uses face 0 of a .ttc)
  cups cups-client cups-bsd printer-driver-cups-pdf   # A4 printing; tests print to cups-pdf
  poppler-utils           # pdfinfo / pdftoppm: page counts and previews of documents
  socat                   # pty pairs for attaching simulators like real serial devices
  chromium                # web pages (the applicant's pickup page) are tested in a real headless browser
  chromium-driver         # chromedriver: the console's tests drive that chromium through Selenium
  zbar-tools              # zbarimg: reads the QR code back from the page's screenshot in tests
  libzinnia0 tegaki-zinnia-simplified-chinese   # handwriting recognition on the forms' writing pad
  espeak-ng               # voice guidance, offline: Mandarin and English voices (kiosk/hardware/speech.py)
  sox                     # tests check the spoken WAV files are audible audio (sox stat)
  systemd                 # systemd-sysusers: checks the installer's declarations of the kiosk's users
  postgresql              # the platform on PostgreSQL: tests and bench/fleet.py start a private server (initdb, pg_ctl)
  python3.11-venv fakeroot   # make deb: the package's venv is made on Debian's own Python; dpkg-deb as if root
  apt-utils gnupg         # scripts/apt-repo.sh: a fleet's apt repository (apt-ftparchive), its index signed (gpg)
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# python3-venv only matters for Debian's own python3; another interpreter with venv is fine.
if [ ${#missing[@]} -gt 0 ] && python3 -c 'import venv, ensurepip' 2>/dev/null; then
  missing=("${missing[@]/python3-venv/}")
  read -r -a missing <<<"${missing[*]}"
fi

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "Missing Debian packages: ${missing[*]}" >&2
  echo "Install them as root, then run this again:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
