"""The German catalogs are complete, hold every string the code marks, and are compiled.

locale/de/LC_MESSAGES/django.po (templates, server messages) and djangojs.po (the scripts) are
made by makemessages and translated by hand; their .mo files are committed so that a web server
needs no gettext. These tests need GNU gettext (msgfmt, msgattrib), as makemessages does.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

BASE = Path(settings.BASE_DIR)
MESSAGES = BASE / "locale" / "de" / "LC_MESSAGES"
DOMAINS = ("django", "djangojs")
# What makemessages reads: the code that marks strings, and what Django needs to start.
SOURCES = ("bachsurvey", "templates", "static", "locale", "manage.py")


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is missing: `apt-get install gettext` (see .ci/setup)")
    return found


def run(*command: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=True)


def entries(po: Path) -> str:
    """The catalog's live entries, without locations, wrapping or header dates: what a
    translator's work and the code's strings decide, nothing that moves with a line number."""
    text = run(tool("msgattrib"), "--no-obsolete", "--no-location", "--no-wrap", str(po)).stdout
    return re.sub(r'"(POT-Creation-Date|PO-Revision-Date): [^"]*"\n', "", text)


@pytest.mark.parametrize("domain", DOMAINS)
def test_german_is_complete(domain: str) -> None:
    """Every message translated, none fuzzy, and each translation's placeholders the same as its
    original's (msgfmt --check)."""
    po = MESSAGES / f"{domain}.po"
    result = subprocess.run(
        [tool("msgfmt"), "--check", "--statistics", "-o", os.devnull, str(po)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"\d+ translated messages\.\n", result.stderr), result.stderr


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_compiled_catalogs_are_up_to_date(domain: str, tmp_path: Path) -> None:
    compiled = tmp_path / f"{domain}.mo"
    # As compilemessages runs it.
    run(tool("msgfmt"), "--check-format", "-o", str(compiled), str(MESSAGES / f"{domain}.po"))
    committed = MESSAGES / f"{domain}.mo"
    assert committed.read_bytes() == compiled.read_bytes(), (
        f"{committed} is older than its .po: run `python manage.py compilemessages`"
    )


@pytest.mark.slow
def test_the_catalogs_hold_every_string_the_code_marks(tmp_path: Path) -> None:
    """makemessages, run on a copy of the code, finds nothing new and nothing gone."""
    tool("xgettext")
    copy = tmp_path / "repo"
    copy.mkdir()
    for name in SOURCES:
        source = BASE / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, copy / name)
    # The settings import composer's paths; a link is not walked by makemessages.
    (copy / "composer").symlink_to(BASE / "composer")
    for domain in DOMAINS:
        run(sys.executable, "manage.py", "makemessages", "-d", domain, "-l", "de", cwd=copy)
        fresh = copy / "locale" / "de" / "LC_MESSAGES" / f"{domain}.po"
        assert entries(fresh) == entries(MESSAGES / f"{domain}.po"), (
            f"{domain}.po is not what the code marks: run `python manage.py makemessages "
            f"-d {domain} -l de`, translate, then compilemessages"
        )
