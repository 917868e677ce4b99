#!/usr/bin/env bash
# Creates the CUPS queue "sim" that the default config prints A4 documents to:
# a real queue on the cups-pdf backend (PDFs land in a folder instead of on
# paper), with printer-error-policy=abort-job like a real kiosk printer.
#
#   scripts/cups-sim-queue.sh [--out DIR] [--name QUEUE]
#
# Uses $CUPS_SERVER when set (tests point it at a private cupsd); otherwise
# the system's CUPS, started first when it is not running. Needs root
# (lpadmin, and cups-pdf reads its settings only from /etc/cups). Safe to run
# again: the queue is (re)defined with the same settings.
set -euo pipefail

name=sim
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --name) name="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "cups-sim-queue.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

model=lsb/usr/cups-pdf/CUPS-PDF_opt.ppd
if [ ! -e /usr/lib/cups/backend/cups-pdf ]; then
  echo "cups-sim-queue.sh: the cups-pdf backend is missing; run scripts/system-packages.sh (printer-driver-cups-pdf)" >&2
  exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "cups-sim-queue.sh: needs root to create the queue; run: sudo $0 ${out:+--out $out}" >&2
  exit 1
fi

# `lpstat -r` exits 0 whether or not the scheduler runs: read what it says
scheduler_up() { lpstat -r 2>/dev/null | grep -q "scheduler is running"; }

if [ -z "${CUPS_SERVER:-}" ] && ! scheduler_up; then
  if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
    systemctl start cups
  else
    cupsd                      # no systemd (a container): cupsd runs as a daemon of its own
  fi
  for _ in $(seq 50); do scheduler_up && break; sleep 0.1; done
fi
if ! scheduler_up; then
  echo "cups-sim-queue.sh: the CUPS scheduler at ${CUPS_SERVER:-the system socket} is not running" >&2
  exit 1
fi

# cups-pdf takes /etc/cups/cups-pdf-NAME.conf for the device URI cups-pdf:/NAME
if [ -n "$out" ]; then
  mkdir -p "$out"
  chmod 0777 "$out"
  printf 'Out %s\nAnonDirName %s\nUserUMask 0000\n' "$out" "$out" >"/etc/cups/cups-pdf-$name.conf"
fi

lpadmin -p "$name" -E -v "cups-pdf:/$name" -m "$model" -o printer-error-policy=abort-job 2>&1 \
  | grep -v 'Printer drivers are deprecated' >&2 || true
lpstat -p "$name" >/dev/null
echo "CUPS queue $name ready (cups-pdf${out:+, PDFs in $out}, printer-error-policy=abort-job)"
