"""Every third-party package the code imports is pinned in requirements.txt, and the web
server's own set (deploy/requirements-web.txt) is a subset of it, pinned alike, without torch or
the test and lint tools (issue 19, item 8)."""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FOLDERS = ("bachsurvey", "composer", "tests", "benchmarks")
FIRST_PARTY = {"bachsurvey", "composer", "tests", "benchmarks", "manage"}
WEB = REPO / "deploy" / "requirements-web.txt"
# Never on a web server: the model, the test, browser, lint and benchmark tools.
NOT_ON_WEB = {
    "torch", "pytest", "pytest-django", "playwright", "ruff", "grimp", "pre-commit", "aiohttp",
    "schemathesis", "hypothesis", "verovio", "tqdm",
}  # fmt: skip
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==(\S+)$")


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(path: Path) -> dict[str, str]:
    """``{distribution: version}`` of a requirements file; every line a comment or an exact pin."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = _PIN.match(line)
        assert match, f"{path.name}: not an exact pin: {line!r}"
        found[normal(match.group(1))] = match.group(3)
    return found


def imported_top_levels() -> dict[str, set[str]]:
    """Top-level module names of every absolute import, each with the files importing it."""
    names: dict[str, set[str]] = {}
    for folder in FOLDERS:
        for path in sorted((REPO / folder).rglob("*.py")):
            siblings = {p.stem for p in path.parent.glob("*.py")}  # scripts importing neighbours
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    top = module.split(".")[0]
                    if top in sys.stdlib_module_names or top in FIRST_PARTY | siblings:
                        continue
                    names.setdefault(top, set()).add(str(path.relative_to(REPO)))
    return names


def test_every_imported_package_is_pinned_in_requirements() -> None:
    pinned = pins(REPO / "requirements.txt")
    distributions = packages_distributions()
    unknown, missing = {}, {}
    for module, files in imported_top_levels().items():
        owners = distributions.get(module)
        if not owners:
            unknown[module] = sorted(files)
        elif not any(normal(owner) in pinned for owner in owners):
            missing[f"{module} ({', '.join(owners)})"] = sorted(files)
    assert not unknown, f"imported but installed by no distribution: {unknown}"
    assert not missing, f"imported but not pinned in requirements.txt: {missing}"


def test_the_web_requirements_agree_with_requirements_and_leave_out_the_heavy_ones() -> None:
    everything, web = pins(REPO / "requirements.txt"), pins(WEB)
    assert not set(web) - set(everything), "in deploy/requirements-web.txt only"
    differ = {name: (version, everything[name]) for name, version in web.items()
              if everything[name] != version}  # fmt: skip
    assert not differ, f"pinned differently (web, requirements.txt): {differ}"
    assert not set(web) & NOT_ON_WEB, sorted(set(web) & NOT_ON_WEB)
    for needed in ("django", "gunicorn", "psycopg", "celery", "redis", "whitenoise"):
        assert needed in web, needed
