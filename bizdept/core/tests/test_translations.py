"""Every user-visible string has its zh-Hans translation, and the committed .mo matches.

English is the source language, so it is complete by construction; Chinese must be too.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

PACKAGE = Path(__file__).resolve().parents[2]
PO = PACKAGE / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def _entries(catalog):
    result = {}
    for entry in catalog:
        if entry.obsolete:
            continue
        key = (entry.msgctxt, entry.msgid, entry.msgid_plural)
        result[key] = entry.msgstr_plural.get(0, "") if entry.msgid_plural else entry.msgstr
    return result


def test_every_zh_hans_entry_is_translated():
    po = polib.pofile(str(PO))
    untranslated = [e.msgid for e in po if not e.obsolete and not e.translated()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, f"untranslated zh-Hans entries: {untranslated}"
    assert not fuzzy, f"fuzzy zh-Hans entries (check and unflag): {fuzzy}"


def test_compiled_mo_matches_the_po():
    po, mo = _entries(polib.pofile(str(PO))), _entries(polib.mofile(str(MO)))
    po.pop((None, "", None), None)
    mo.pop((None, "", None), None)
    stale = {k for k in po if po[k] != mo.get(k)}
    assert not stale, f"run `./dev manage compilemessages`; stale in the .mo: {sorted(stale)[:10]}"


@pytest.mark.skipif(shutil.which("xgettext") is None,
                    reason="GNU gettext (xgettext) is not installed; .ci/run installs it")
def test_no_marked_string_is_missing_from_the_catalog():
    """Extract the strings the code marks today and compare with the committed catalog."""
    original = PO.read_bytes()
    try:
        result = subprocess.run(
            [sys.executable, str(PACKAGE.parent / "manage.py"), "makemessages", "-l", "zh_Hans",
             "-i", "static/*", "--no-location"],
            cwd=PACKAGE, capture_output=True, text=True, timeout=300,
        )
        assert result.returncode == 0, result.stderr
        extracted = polib.pofile(str(PO))
        missing = [e.msgid for e in extracted if not e.obsolete and not e.translated()]
    finally:
        PO.write_bytes(original)
    assert not missing, f"strings marked in the code but not translated in zh_Hans: {missing}"


def test_pages_speak_chinese_by_default_and_english_on_request(client, dept):
    client.force_login(dept.sales.user)
    assert "组织架构" in client.get("/").content.decode()
    dept.sales.user.language = "en"
    dept.sales.user.save()
    html = client.get("/").content.decode()
    assert "Org chart" in html and "组织架构" not in html
