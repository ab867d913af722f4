"""The README and docs/ hold together: links between them lead to a file and a heading (GitHub's
anchors), every page opens with a title and one sentence of what it covers and is linked from
the README, every block names its language, and the blocks the tests cannot run (see
test_doc_blocks_run.py) say why, and are few."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.doc_blocks import FENCE, PAGES, RUNNABLE, all_blocks
from tests.support.paths import REPO

pytestmark = pytest.mark.unit

LINK = re.compile(r"\[[^\]]*\]\((?P<target>[^)\s]+)\)")
MOST_BLOCKS_NOT_RUN = 12
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


def test_blocks_not_run_say_why_and_are_few():
    not_run = [b for b in all_blocks() if b.language in RUNNABLE and b.needs is not None]
    for block in not_run:
        assert len(block.needs) >= 6, f"{block.where}: say what it needs, e.g. {{needs: docker}}"
        print(f"not run: {block.where} needs {block.needs}")
    assert len(not_run) <= MOST_BLOCKS_NOT_RUN, [b.where for b in not_run]


def test_every_block_names_its_language():
    """A fence without a language is run by nobody and name-checked by nobody."""
    unnamed = [b.where for b in all_blocks() if not b.language]
    assert unnamed == []
