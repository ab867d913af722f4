"""The code blocks of the README and the pages under docs/, as the tests read them.

A block is a fenced block (indented ones too, inside a list item). Its info string names the
language, and may mark a block that the tests cannot run with why: ```sh {needs: docker}.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tests.support.paths import REPO

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
RUNNABLE = {"sh", "bash", "shell", "python"}

FENCE = re.compile(
    r"^(?P<indent>[ ]*)```(?P<info>[^`\n]*)\n(?P<body>.*?)^(?P=indent)```[ ]*$",
    flags=re.MULTILINE | re.DOTALL,
)
NEEDS = re.compile(r"\{needs:\s*(?P<reason>[^}]*)\}")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the opening fence, 1-based
    language: str
    body: str
    needs: str | None  # why the tests cannot run it; None: they run it

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"

    @property
    def runnable(self) -> bool:
        return self.language in RUNNABLE and self.needs is None


def blocks(page: Path) -> list[Block]:
    text = page.read_text()
    found = []
    for fence in FENCE.finditer(text):
        info = fence["info"].strip()
        indent = len(fence["indent"])
        body = "".join(line[indent:] for line in fence["body"].splitlines(keepends=True))
        needs = NEEDS.search(info)
        found.append(
            Block(
                page=page,
                line=text.count("\n", 0, fence.start()) + 1,
                language=info.split(" ", 1)[0].split("{", 1)[0],
                body=body,
                needs=needs["reason"].strip() if needs else None,
            )
        )
    return found


def all_blocks() -> list[Block]:
    return [block for page in PAGES for block in blocks(page)]


def only_block(language: str) -> str:
    """The body of the one block in `language` across the README and docs/."""
    found = [block.body for block in all_blocks() if block.language == language]
    assert len(found) == 1, f"expected one {language} block in the README and docs/"
    return found[0]
