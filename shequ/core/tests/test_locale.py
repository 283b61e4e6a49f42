"""The English locale: complete, consistent with its compiled catalogue, and used by the site.

Chinese is the source language (every msgid is Chinese); shequ/locale/en holds the English
translation. The .mo is committed so machines without GNU gettext still get English, so these
tests read both files with the standard library only: a small .po parser and `gettext`.

`bin/check_messages.sh` is the other half: it re-extracts the strings from the code and fails when
one has no translation yet.
"""

from __future__ import annotations

import ast
import gettext
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

LC_MESSAGES = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"
PO_PATH = LC_MESSAGES / "django.po"
MO_PATH = LC_MESSAGES / "django.mo"

# printf-style placeholders (`%(name)s`, `%(count)d`, `%s`), str.format-style ones (`{name}`) and
# template variables that escaped a blocktranslate (`{{ name }}`).
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]|\{\{[^{}]*\}\}|\{[^{}]*\}")

HEADING_ZH = "<h1>社区综合服务平台</h1>"
HEADING_EN = "<h1>Community Services Platform</h1>"


@dataclass
class Entry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None


_KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")\s*$")


def parse_po(text: str) -> list[Entry]:
    """Entries of a .po file, header first; obsolete (#~) entries are left out."""
    entries: list[Entry] = []
    current: Entry | None = None
    pending_flags: set[str] = set()
    target: tuple[str, int] | None = None  # which field a continuation line extends

    def finish() -> None:
        nonlocal current
        if current is not None:
            entries.append(current)
        current = None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
            target = None
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#,"):
            pending_flags |= {flag.strip() for flag in line[2:].split(",") if flag.strip()}
            continue
        if line.startswith("#"):
            continue
        match = _KEYWORD.match(line)
        if match:
            keyword, index, literal = match.groups()
            value = ast.literal_eval(literal)
            if keyword in ("msgctxt", "msgid") and current is not None and current.msgstr:
                finish()  # entries not separated by a blank line
            if current is None:
                current = Entry(line=number, flags=pending_flags)
                pending_flags = set()
            if keyword == "msgctxt":
                current.msgctxt, target = value, ("msgctxt", 0)
            elif keyword == "msgid":
                current.msgid, target = value, ("msgid", 0)
            elif keyword == "msgid_plural":
                current.msgid_plural, target = value, ("msgid_plural", 0)
            else:
                n = int(index) if index is not None else 0
                current.msgstr[n], target = value, ("msgstr", n)
            continue
        if line.startswith('"') and current is not None and target is not None:
            value = ast.literal_eval(line)
            name, n = target
            if name == "msgstr":
                current.msgstr[n] += value
            else:
                setattr(current, name, (getattr(current, name) or "") + value)
            continue
        raise AssertionError(f"{PO_PATH}:{number}: cannot parse {raw!r}")
    finish()
    return entries


def placeholders(text: str) -> Counter[str]:
    return Counter(p for p in PLACEHOLDER.findall(text) if p != "%%")


@pytest.fixture(scope="module")
def po_entries() -> list[Entry]:
    assert PO_PATH.exists(), f"{PO_PATH} is missing: run makemessages -l en"
    return parse_po(PO_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def messages(po_entries: list[Entry]) -> list[Entry]:
    return [e for e in po_entries if not e.is_header]


def label(entry: Entry) -> str:
    return f"{PO_PATH.name}:{entry.line} {entry.msgid!r}"


# (a) the .po itself


def test_parser_reads_plurals_contexts_and_continuations():
    entries = parse_po(
        "\n".join(
            [
                'msgid ""',
                'msgstr ""',
                '"Language: en\\n"',
                "",
                "#, fuzzy, python-format",
                'msgctxt "ctx"',
                'msgid ""',
                '"共 %(n)s "',
                '"条"',
                'msgid_plural "共 %(n)s 条"',
                'msgstr[0] "%(n)s record"',
                'msgstr[1] ""',
                '"%(n)s records"',
                "",
                '#~ msgid "旧"',
                '#~ msgstr "old"',
            ]
        )
    )
    assert len(entries) == 2
    header, entry = entries
    assert header.is_header and header.msgstr == {0: "Language: en\n"}
    assert entry.msgctxt == "ctx" and entry.msgid == "共 %(n)s 条" and entry.msgid_plural == "共 %(n)s 条"
    assert entry.msgstr == {0: "%(n)s record", 1: "%(n)s records"}
    assert entry.flags == {"fuzzy", "python-format"}
    assert placeholders("%(a)s、{{ b }}、{c}、%d、100%%") == Counter(["%(a)s", "{{ b }}", "{c}", "%d"])


def test_header_declares_english_utf8_and_two_plural_forms(po_entries: list[Entry]):
    header = po_entries[0]
    assert header.is_header
    assert "fuzzy" not in header.flags
    fields = {}
    for line in header.msgstr[0].splitlines():
        key, _sep, value = line.partition(":")
        fields[key.strip()] = value.strip()
    assert fields["Language"] == "en"
    assert fields["Content-Type"] == "text/plain; charset=UTF-8"
    assert fields["Plural-Forms"] == "nplurals=2; plural=(n != 1);"


def test_catalogue_is_not_empty(messages: list[Entry]):
    assert len(messages) > 100


def test_every_entry_is_translated(messages: list[Entry]):
    untranslated = []
    for entry in messages:
        expected = [0, 1] if entry.msgid_plural is not None else [0]
        if sorted(entry.msgstr) != expected or not all(entry.msgstr[n].strip() for n in expected):
            untranslated.append(label(entry))
    assert not untranslated, "untranslated:\n" + "\n".join(untranslated)


def test_no_entry_is_fuzzy(messages: list[Entry]):
    fuzzy = [label(e) for e in messages if "fuzzy" in e.flags]
    assert not fuzzy, "fuzzy:\n" + "\n".join(fuzzy)


def test_translations_keep_every_placeholder(messages: list[Entry]):
    wrong = []
    for entry in messages:
        sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural is not None else [])
        expected = placeholders(entry.msgid)
        for source in sources[1:]:
            assert placeholders(source) == expected, label(entry)
        for n, text in entry.msgstr.items():
            if placeholders(text) != expected:
                wrong.append(f"{label(entry)} msgstr[{n}]={text!r}")
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_translations_are_english(messages: list[Entry]):
    """A msgstr left in Chinese is as bad as an empty one.

    Quoted examples may stay Chinese, and so may 休/班: the work-calendar parser accepts only those
    keywords, so its English messages have to name them.
    """
    han = re.compile(r"[\u4e00-\u9fff]")
    allowed = re.compile(r"“[^”]*”|\"[^\"]*\"|[休班]")
    chinese = [
        f"{label(e)} msgstr[{n}]={text!r}"
        for e in messages
        for n, text in e.msgstr.items()
        if han.search(allowed.sub("", text))
    ]
    assert not chinese, "msgstr still in Chinese:\n" + "\n".join(chinese)


def test_msgids_are_unique(messages: list[Entry]):
    keys = Counter((e.msgctxt, e.msgid) for e in messages)
    assert not [k for k, n in keys.items() if n > 1]


# (b) the committed .mo matches the .po


def test_mo_translates_every_po_entry(messages: list[Entry]):
    assert MO_PATH.exists(), f"{MO_PATH} is missing: run compilemessages"
    with MO_PATH.open("rb") as fh:
        catalog = gettext.GNUTranslations(fh)
    stale = []
    for entry in messages:
        if entry.msgid_plural is not None:
            got = [
                catalog.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                if entry.msgctxt is not None
                else catalog.ngettext(entry.msgid, entry.msgid_plural, n)
                for n in (1, 2)
            ]
            want = [entry.msgstr[0], entry.msgstr[1]]
        else:
            got = [
                catalog.pgettext(entry.msgctxt, entry.msgid)
                if entry.msgctxt is not None
                else catalog.gettext(entry.msgid)
            ]
            want = [entry.msgstr[0]]
        if got != want:
            stale.append(f"{label(entry)}: .mo has {got!r}, .po has {want!r}")
    assert not stale, "django.mo is out of date (run compilemessages):\n" + "\n".join(stale)


def test_mo_has_nothing_the_po_lacks(messages: list[Entry]):
    with MO_PATH.open("rb") as fh:
        catalog = gettext.GNUTranslations(fh)
    # `_catalog` is the parsed .mo: msgid -> msgstr, (msgid, n) -> msgstr[n] for plurals,
    # "ctx\x04msgid" for a context; "" is the header.
    in_mo = {key[0] if isinstance(key, tuple) else key for key in catalog._catalog} - {""}  # type: ignore[attr-defined]
    in_po = {e.msgid if e.msgctxt is None else f"{e.msgctxt}\x04{e.msgid}" for e in messages}
    assert in_mo == in_po, f"only in .mo: {sorted(in_mo - in_po)}; only in .po: {sorted(in_po - in_mo)}"


# (c) the site speaks English when asked


@pytest.fixture(autouse=True)
def _restore_language():
    """LocaleMiddleware leaves the request's language active in this thread: put back the old one,
    so that tests running after these ones do not get English messages."""
    with translation.override(translation.get_language()):
        yield


@pytest.mark.django_db
def test_landing_page_in_chinese_by_default(client):
    response = client.get(reverse("core:entry"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert HEADING_ZH in html
    assert HEADING_EN not in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "how",
    [
        {"HTTP_ACCEPT_LANGUAGE": "en"},
        {"HTTP_ACCEPT_LANGUAGE": "en-GB,en;q=0.9"},
        {"cookie": "en"},
    ],
    ids=["accept-language", "accept-language-region", "cookie"],
)
def test_landing_page_in_english_when_asked(client, how):
    headers = dict(how)
    if "cookie" in headers:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = headers.pop("cookie")
    response = client.get(reverse("core:entry"), **headers)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert HEADING_EN in html
    assert "社区综合服务平台" not in html  # not in the title, brand, heading or footer either
    assert "工作人员登录" not in html and "Staff sign-in" in html


@pytest.mark.django_db
def test_chinese_cookie_beats_english_browser(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    response = client.get(reverse("core:entry"), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert HEADING_ZH in html and HEADING_EN not in html


@pytest.mark.django_db
def test_language_switch_round_trip(client):
    """The header's language form (POST to set_language) switches the site both ways."""
    entry = reverse("core:entry")
    response = client.post(reverse("set_language"), {"language": "en", "next": entry})
    assert response.status_code == 302
    html = client.get(entry).content.decode()
    assert HEADING_EN in html and HEADING_ZH not in html

    client.post(reverse("set_language"), {"language": "zh-hans", "next": entry})
    html = client.get(entry).content.decode()
    assert HEADING_ZH in html and HEADING_EN not in html
