#!/usr/bin/env bash
# Debian packages dsr uses outside Python: WeasyPrint's Pango, HarfBuzz subsetting (about 3x faster PDF
# output), poppler-utils (PDF to PNG for checking letters), Chromium (browser tests), npm (installs the
# axe-core the browser tests inject, from tests/e2e/package-lock.json), Node.js, and tesseract with its
# Dutch and French data (English comes with it) to read scanned letters offline (dsr/reading: tesserocr,
# from requirements.lock, carries its own libtesseract and reads this data; no -dev package is needed).
#
# Installs what is missing when run as root with apt-get. When something the tests need is missing and
# cannot be installed, it FAILS (exit 1) naming the packages and the command that installs them: a test
# run must not quietly skip the browser tests. DSR_SKIP_SYSTEM_DEPS=1 carries on anyway (for `make run` on a
# machine without root, where only the app is wanted).
set -u
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core poppler-utils chromium npm nodejs
          tesseract-ocr tesseract-ocr-nld tesseract-ocr-fra)
missing=()
if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "error: not a Debian system (no dpkg-query); install the equivalents of: ${packages[*]}" >&2
  [ "${DSR_SKIP_SYSTEM_DEPS:-}" = "1" ] && exit 0
  exit 1
fi
present() {  # a package counts as present when its program is there, however it was installed
  case "$1" in
    chromium) [ -x /usr/bin/chromium ] && return 0 ;;
    npm) command -v npm >/dev/null 2>&1 && return 0 ;;
    nodejs) command -v node >/dev/null 2>&1 && return 0 ;;
  esac
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}
for p in "${packages[@]}"; do
  present "$p" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get update -qq; then
    echo "error: apt-get update failed; cannot install ${missing[*]}" >&2
  elif apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
    exit 0
  else
    echo "error: apt-get could not install some of: ${missing[*]}" >&2
  fi
else
  echo "error: these Debian packages are missing: ${missing[*]}" >&2
  echo "       install them with: sudo apt-get install ${missing[*]}" >&2
fi
echo "       (the tests need all of them; DSR_SKIP_SYSTEM_DEPS=1 carries on without, e.g. for \`make run\`)" >&2
[ "${DSR_SKIP_SYSTEM_DEPS:-}" = "1" ] && exit 0
exit 1
