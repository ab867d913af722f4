"""The README's and docs/' links between themselves lead somewhere: the file exists, and a
#fragment names one of its headings (GitHub's anchors). Every page opens with a title and one
sentence of what it covers, and the README links every page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.doc_blocks import FENCE, PAGES, REPO

LINK = re.compile(r"\[[^\]]*\]\((?P<target>[^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} (?P<title>.+)$", flags=re.MULTILINE)


def anchor(title: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    title = re.sub(r"[`*_]", "", title.strip().lower())
    return re.sub(r"[^\w\- ]", "", title).replace(" ", "-")


def prose(page: Path) -> str:
    return FENCE.sub("", page.read_text())


def anchors(page: Path) -> set[str]:
    return {anchor(match["title"]) for match in HEADING.finditer(prose(page))}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_links_lead_to_a_file_and_a_heading(page):
    for match in LINK.finditer(prose(page)):
        target = match["target"]
        if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
            continue
        path, _, fragment = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name}: {target} is not there"
        if fragment:
            assert fragment in anchors(linked), f"{page.name}: {target}: no such heading"


@pytest.mark.parametrize("page", PAGES[1:], ids=lambda p: str(p.relative_to(REPO)))
def test_each_page_opens_with_what_it_covers_and_the_readme_links_it(page):
    title, blank, first, *_ = page.read_text().splitlines()
    assert title.startswith("# ") and blank == "", page.name
    assert first.startswith("This page covers"), page.name
    assert f"(docs/{page.name})" in (REPO / "README.md").read_text(), page.name
