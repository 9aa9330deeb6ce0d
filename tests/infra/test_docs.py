"""The docs: links resolve, and the README's provider table is what the registry generates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dlrhub_local.docs import README, render
from tests.support import ROOT

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(path: Path) -> set[str]:
    """GitHub's heading anchors of a Markdown file."""
    found = set()
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found


def test_the_readme_provider_table_is_generated_from_the_registry() -> None:
    committed = README.read_text()
    assert render(committed) == committed, "README.md provider table is stale: run make docs"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_relative_link_resolves(document: Path) -> None:
    broken = []
    for target in LINK.findall(document.read_text()):
        if re.match(r"^[a-z]+:", target):
            continue  # http(s), mailto: not checked here
        path, _, anchor = target.partition("#")
        resolved = (document.parent / path).resolve() if path else document
        missing_anchor = resolved.exists() and anchor and resolved.suffix == ".md" and anchor not in anchors(resolved)
        if not resolved.exists() or missing_anchor:
            broken.append(target)
    assert not broken, f"{document.name}: broken links {broken}"


def test_the_readme_lists_every_template_parameter_with_its_default() -> None:
    """The configuration reference is the template's parameters: none missing, every default as deployed."""
    from dlrhub_local.template import Template
    from tests.support import TEMPLATE

    readme = (ROOT / "README.md").read_text()
    wrong = {}
    for name, spec in Template(TEMPLATE).doc["Parameters"].items():
        row = re.search(rf"^\| `{name}` \| ([^|]*)\|", readme, re.MULTILINE)
        default = str(spec.get("Default", ""))
        shown = row.group(1).strip() if row else None
        if shown is None or (default and shown != f"`{default}`") or (not default and not shown.startswith("(empty")):
            wrong[name] = (default, shown)
    assert not wrong, f"README configuration reference out of step with template.yaml: {wrong}"
