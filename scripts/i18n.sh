#!/usr/bin/env bash
# Interface translations (English source strings, Dutch catalog).
#
#   scripts/i18n.sh extract   scan dsr/ and templates/ into translations/messages.pot
#   scripts/i18n.sh update    extract, then merge the .pot into translations/nl (created with `init` if missing)
#   scripts/i18n.sh compile   compile translations/*/LC_MESSAGES/messages.po to .mo (build output, git-ignored)
#   scripts/i18n.sh all       update, then compile
#
# Every step can be run again safely. After `update`, translate the new or changed entries in
# translations/nl/LC_MESSAGES/messages.po (remove any "fuzzy" flag once checked), then run
# `.venv/bin/python -m pytest tests/unit/test_translations.py`.
set -euo pipefail

cd "$(dirname "$0")/.."
PYBABEL=${PYBABEL:-.venv/bin/pybabel}
if [[ ! -x $PYBABEL ]]; then PYBABEL=$(command -v pybabel) || { echo "pybabel not found: run make venv" >&2; exit 1; }; fi

LOCALES=(nl fr)
DIR=translations
POT=$DIR/messages.pot

extract() {
    mkdir -p "$DIR"
    # babel.cfg matches paths relative to the scanned directory, so the repository root is scanned and
    # the map picks dsr/**.py and templates/**.html. --ignore-dirs replaces Babel's default (".* ._"):
    # the virtualenv and other dot-directories are skipped, never walked.
    "$PYBABEL" -q extract -F babel.cfg \
        -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2 \
        --add-comments=Translators: --sort-by-file --no-wrap \
        --project=dsr --copyright-holder="dsr contributors" \
        --ignore-dirs=".* _* node_modules instance" \
        -o "$POT" .
}

update() {
    extract
    local lang po
    for lang in "${LOCALES[@]}"; do
        po=$DIR/$lang/LC_MESSAGES/messages.po
        if [[ -f $po ]]; then
            "$PYBABEL" -q update --no-wrap --previous -i "$POT" -d "$DIR" -l "$lang" --ignore-obsolete
        else
            "$PYBABEL" -q init --no-wrap -i "$POT" -d "$DIR" -l "$lang"
        fi
    done
}

compile() {
    "$PYBABEL" compile --statistics -d "$DIR"
}

case "${1:-}" in
    extract) extract ;;
    update) update ;;
    compile) compile ;;
    all) update; compile ;;
    *) echo "usage: $0 {extract|update|compile|all}" >&2; exit 2 ;;
esac
