#!/usr/bin/env bash
# Adds kiosk packages to a fleet's own apt repository and signs its index (docs/deploy.md, section 5).
#
#   scripts/apt-repo.sh REPO [--suite SUITE] [--sign-key KEY] [DEB ...]
#
# REPO is a folder served over HTTPS (any web server) or copied to a USB stick:
#   REPO/pool/main/k/kiosk/kiosk_VERSION_ARCH.deb       every version added, kept for rolling back
#   REPO/suites/SUITE                                   which of them each suite offers
#   REPO/dists/SUITE/main/binary-ARCH/Packages(.gz)     the index apt reads
#   REPO/dists/SUITE/Release, InRelease, Release.gpg    its checksums, signed with KEY
#   REPO/kiosk-archive.asc                              the public key, for the kiosks' keyring
# A SUITE per ring of a staged roll-out ("canary", "stable"; default "stable"): a version is added to
# canary first, to stable once the canary kiosks ran it. Without --sign-key the index is not signed
# and kiosks would need [trusted=yes]: for a test only. Needs apt-ftparchive (apt-utils) and gpg.
set -euo pipefail

suite=stable key="" repo="" debs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --suite|--sign-key)
      if [ $# -lt 2 ] || [ -z "$2" ]; then echo "apt-repo: $1 needs a value" >&2; exit 2; fi
      if [ "$1" = --suite ]; then suite=$2; else key=$2; fi
      shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    -*) echo "apt-repo: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) if [ -z "$repo" ]; then repo=$1; else debs+=("$1"); fi ;;
  esac
  shift
done
[ -n "$repo" ] || { echo "apt-repo: name the repository folder (see --help)" >&2; exit 2; }
command -v apt-ftparchive >/dev/null \
  || { echo "apt-repo: apt-ftparchive is missing: apt-get install apt-utils" >&2; exit 2; }
case "$suite" in *[!a-z0-9-]*|"") echo "apt-repo: suite '$suite': lowercase letters, digits and - only" >&2; exit 2 ;; esac

pool=pool/main/k/kiosk
list=$repo/suites/$suite        # the pool files this suite offers, one a line
mkdir -p "$repo/$pool" "$repo/suites"
touch "$list"
for deb in "${debs[@]}"; do
  [ -f "$deb" ] || { echo "apt-repo: $deb is not there" >&2; exit 2; }
  [ "$(dpkg-deb -f "$deb" Package)" = kiosk ] || { echo "apt-repo: $deb is not a kiosk package" >&2; exit 2; }
  cp -f "$deb" "$repo/$pool/"
  grep -qxF "$pool/$(basename "$deb")" "$list" || echo "$pool/$(basename "$deb")" >> "$list"
done
[ -s "$list" ] || { echo "apt-repo: suite $suite offers no package yet: name a .deb to add" >&2; exit 2; }

arches=$(while read -r f; do dpkg-deb -f "$repo/$f" Architecture; done < "$list" | sort -u | tr '\n' ' ')
dist=$repo/dists/$suite
rm -rf "$dist.new"
for arch in $arches; do
  mkdir -p "$dist.new/main/binary-$arch"
  while read -r f; do
    if [ "$(dpkg-deb -f "$repo/$f" Architecture)" = "$arch" ]; then (cd "$repo" && apt-ftparchive packages "$f"); fi
  done < "$list" > "$dist.new/main/binary-$arch/Packages"
  gzip -9nkf "$dist.new/main/binary-$arch/Packages"
done
apt-ftparchive -o "APT::FTPArchive::Release::Origin=kiosk" -o "APT::FTPArchive::Release::Label=kiosk" \
  -o "APT::FTPArchive::Release::Suite=$suite" -o "APT::FTPArchive::Release::Codename=$suite" \
  -o "APT::FTPArchive::Release::Components=main" -o "APT::FTPArchive::Release::Architectures=$arches" \
  release "$dist.new" > "$repo/Release.tmp"
mv "$repo/Release.tmp" "$dist.new/Release"
if [ -n "$key" ]; then
  gpg --batch --yes --local-user "$key" --clearsign -o "$dist.new/InRelease" "$dist.new/Release"
  gpg --batch --yes --local-user "$key" --armor --detach-sign -o "$dist.new/Release.gpg" "$dist.new/Release"
  gpg --batch --yes --armor --export "$key" > "$repo/kiosk-archive.asc"
fi
# the index is replaced whole: a kiosk reading it meanwhile sees the old one or the new one
rm -rf "$dist.old"
[ -d "$dist" ] && mv "$dist" "$dist.old"
mv "$dist.new" "$dist"
rm -rf "$dist.old"
newest=$(while read -r f; do dpkg-deb -f "$repo/$f" Version; done < "$list" | sort -V | tail -1)
echo "apt-repo: $suite offers $(wc -l < "$list") version(s), the newest $newest${key:+; signed by $key}"
