#!/usr/bin/env bash
# Debian packages dsr uses outside Python: WeasyPrint's Pango, HarfBuzz subsetting (about 3x faster PDF
# output), poppler-utils (PDF to PNG for checking letters), Chromium (browser tests) and npm (installs the
# axe-core the browser tests inject, from tests/e2e/package-lock.json).
# Installs what is missing when run as root with apt-get; otherwise says what is missing and carries on.
set -u
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils chromium npm)
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null 2>&1 || true
  if apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    exit 0
  fi
  echo "warning: could not install some of: ${missing[*]}" >&2
else
  echo "note: these Debian packages are missing: ${missing[*]}" >&2
  echo "      install them with: sudo apt-get install ${missing[*]}" >&2
  echo "      (libharfbuzz-subset0 makes PDF letters about 3x faster; chromium runs the browser tests," >&2
  echo "       which are skipped without it)" >&2
fi
exit 0
