#!/usr/bin/env bash
# Re-extract the translatable (Chinese) strings into the English catalogue, then fail if any entry
# is untranslated or fuzzy, printing those msgids.
#
#   bin/check_messages.sh          # exit 0: every string has an English translation
#                                  # exit 1: some do not (listed); translate them in
#                                  #         shequ/locale/en/LC_MESSAGES/django.po, then run
#                                  #         .venv/bin/python manage.py compilemessages --ignore='.venv/*'
#
# It updates shequ/locale/en/LC_MESSAGES/django.po in place (new strings appear with an empty
# msgstr, removed ones are dropped) and keeps that result: nothing is restored, and running it
# again changes nothing but the POT-Creation-Date line. Needs GNU gettext (xgettext, msgmerge).
# PYTHON overrides the interpreter (default: .venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-.venv/bin/python}"
CATALOG_DIR=shequ/locale/en/LC_MESSAGES
IGNORES=(--ignore='.venv/*' --ignore='var/*' --ignore='test-results/*' --ignore='staticfiles/*')

for tool in xgettext msgmerge msguniq msgattrib; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "check_messages: $tool not found; install GNU gettext (apt-get install gettext)" >&2
        exit 2
    fi
done

mkdir -p "$CATALOG_DIR"
"$PYTHON" manage.py makemessages -l en "${IGNORES[@]}" --no-obsolete --verbosity 0
# The JavaScript domain only once the project has a catalogue for it (no JS strings so far).
if [ -f "$CATALOG_DIR/djangojs.po" ]; then
    "$PYTHON" manage.py makemessages -d djangojs -l en "${IGNORES[@]}" --no-obsolete --verbosity 0
fi

# msgattrib --untranslated misses a plural entry with only some msgstr[n] filled, so the check
# is a few lines of standard-library Python instead.
"$PYTHON" - "$CATALOG_DIR"/*.po <<'PY'
import ast
import re
import sys

KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")\s*$')
problems = 0
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as fh:
        blocks = fh.read().split("\n\n")
    for block in blocks:
        lines = [line.strip() for line in block.strip().splitlines()]
        if not lines or all(line.startswith("#~") or not line for line in lines):
            continue
        fields, refs, fuzzy, key = {}, [], False, None
        for line in lines:
            if line.startswith("#,"):
                fuzzy |= "fuzzy" in [f.strip() for f in line[2:].split(",")]
            elif line.startswith("#:"):
                refs.append(line[2:].strip())
            elif line.startswith("#"):
                continue
            elif (m := KEYWORD.match(line)) is not None:
                key = m.group(1)
                fields[key] = ast.literal_eval(m.group(2))
            elif line.startswith('"') and key is not None:
                fields[key] += ast.literal_eval(line)
        if fields.get("msgid") == "" and "msgctxt" not in fields:
            continue  # the header
        msgstrs = [v for k, v in fields.items() if k.startswith("msgstr")]
        if "msgid_plural" in fields and len(msgstrs) < 2:
            msgstrs.append("")
        why = "fuzzy" if fuzzy else "untranslated" if not all(s.strip() for s in msgstrs) else None
        if why:
            problems += 1
            where = " ".join(refs)
            print(f"{why}: {fields.get('msgid', '')!r}" + (f"   ({where})" if where else ""))
if problems:
    print(f"\n{problems} message(s) need an English translation in {' '.join(sys.argv[1:])}.")
    print("Translate them, remove any '#, fuzzy' line, then run:")
    print("  .venv/bin/python manage.py compilemessages --ignore='.venv/*'")
    sys.exit(1)
print(f"All messages translated ({' '.join(sys.argv[1:])}).")
PY
