"""Bounds on Python-Markdown's cost for hostile text.

Python-Markdown is not written for hostile input: some 100 KB texts take
minutes to hours (upstream issue #798). Each bound below removes one such
case found by tests/markdown/test_bounds.py and leaves ordinary text unchanged;
``render._SeasonsExtension`` installs them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from xml.etree.ElementTree import Element

from markdown.preprocessors import Preprocessor

_MAX_LINK_BRACKETS = 32  # "[" and "]" looked at to find where a link's text ends
LINK_SCAN_BUDGET = 1_000_000  # characters of "(url "title")" scanned per document...
_LINK_TARGET_WIDE = 8192  # ...scanning this far for each link while the budget lasts,
_LINK_TARGET_NARROW = 128  # and only this far once a hostile text has used it up
_MAX_BLOCK_LINES = 1000  # lines in a row without a blank one
_REFERENCE_ID_WIDTH = 1000  # as CommonMark's 999-character limit on link labels
FOOTNOTE_RE = r"\[\^([^\]]{0,200})\]"  # was [^\]]*, rescanning to the end from each "[^"
_BRACKET_RE = re.compile(r"[\[\]]")
LINK_PATTERNS = (
    "reference",
    "link",
    "image_link",
    "image_reference",
    "short_reference",
    "short_image_ref",
)


class LinkText:
    """Do LinkInlineProcessor.getText without walking to the end from every "[".

    Gives up after _MAX_LINK_BRACKETS brackets, and remembers answers for the
    string at hand, since six link patterns ask about the same "[" in turn.
    """

    def __init__(self) -> None:
        self._data = ""
        self._seen: dict[int, tuple[str, int, bool]] = {}

    def get_text(self, data: str, index: int) -> tuple[str, int, bool]:
        if data is not self._data:
            self._data, self._seen = data, {}
        found = self._seen.get(index)
        if found is None:
            found = self._seen[index] = self._scan(data, index)
        return found

    @staticmethod
    def _scan(data: str, index: int) -> tuple[str, int, bool]:
        depth = 1
        for seen, m in enumerate(_BRACKET_RE.finditer(data, index)):
            if seen == _MAX_LINK_BRACKETS:
                break
            depth += 1 if m.group() == "[" else -1
            if depth == 0:
                return data[index : m.start()], m.end(), True
        return "", len(data), False


def windowed_eval_id(eval_id: Callable[..., tuple[Any, int, bool]]) -> Callable[..., Any]:
    def bounded(data: str, index: int, text: str) -> tuple[Any, int, bool]:
        link_id, end, handled = eval_id(data[index : index + _REFERENCE_ID_WIDTH], 0, text)
        return link_id, index + end, handled

    return bounded


class LinkScanBudget:
    """Bound LinkInlineProcessor.getLink, which walks from each "(" to its ")"."""

    def __init__(self) -> None:
        self.remaining = LINK_SCAN_BUDGET

    def wrap(self, get_link: Callable[..., tuple[Any, Any, int, bool]]) -> Callable[..., Any]:
        def bounded(data: str, index: int) -> tuple[Any, Any, int, bool]:
            width = _LINK_TARGET_WIDE if self.remaining > 0 else _LINK_TARGET_NARROW
            window = data[index : index + width]
            href, title, end, handled = get_link(window, 0)
            self.remaining -= end if handled else len(window)
            return href, title, index + end, handled

        return bounded


def table_test(test: Callable[[Element, str], bool]) -> Callable[[Element, str], bool]:
    """Look at a table's first two rows before TableProcessor.test splits the whole block."""

    def bounded(parent: Element, block: str) -> bool:
        first = block.find("\n")
        second = block.find("\n", first + 1)
        if first < 0 or "|" not in block[:first]:
            return False
        separator = block[first + 1 : second if second >= 0 else len(block)]
        return "|" in separator and not separator.strip(" \t|:-") and test(parent, block)

    return bounded


class BlockLinesPreprocessor(Preprocessor):
    """Break runs of more than _MAX_BLOCK_LINES lines with a blank line.

    Several block processors rescan the rest of a block after each line they
    take (a horizontal rule, a setext heading), so 25,000 lines without a
    blank one take minutes. A longer table or list is split in two.
    """

    def run(self, lines: list[str]) -> list[str]:
        out: list[str] = []
        run = 0
        for line in lines:
            run = run + 1 if line.strip() else 0
            if run > _MAX_BLOCK_LINES:
                out.append("")
                run = 1
            out.append(line)
        return out
