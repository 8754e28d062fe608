"""Which blocks of a web page are its article: a readability-like score over block elements.

Each paragraph of prose (long enough, mostly not link text) scores by its length and
punctuation; the score goes to the element holding it, half to the one above, less further
up. An element's total is lowered by its share of link text (menus, related lists), raised
or lowered by its class/id words (content, article… against comment, share, sidebar…).
The best element is the article; siblings that score nearly as well (an article split
into parts) join it. Inside it, link lists (share bars, related news, tag clouds) are left
out. The page's <h1> is kept as the first heading even when it sits outside the article.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .html import Block, Element

_MIN_PROSE = 20  # characters: a line shorter than this is a label, a menu item or a caption
_HINT_PROSE = 140  # characters of prose an element holds for its class/id words to count in full
_PUNCTUATION = re.compile(r"[，,、；;。．！!？?]|\.\s")
# Elements that are one paragraph: their score goes to the element holding them.
_PARAGRAPHS = {"p", "li", "dd", "dt", "blockquote", "figcaption", "caption", "address", "summary", "h4", "h5", "h6", "pre", "th"}
_TAG_SCORE = {"div": 5, "article": 5, "main": 5, "section": 3, "td": 3, "blockquote": 3, "form": -3, "ul": -3, "ol": -3, "dl": -3, "li": -3, "header": -3}
_POSITIVE = re.compile(r"article|content|entry|main|post|text|body|story|detail", re.I)
_NEGATIVE = re.compile(r"comment|share|social|related|recommend|sidebar|footer|banner|menu|nav|sponsor|promo|advert|widget|toolbar|login|copyright|rank", re.I)
_LINK_LIST = 0.5  # an element whose text is more than half links is a link list
_NEGATIVE_LINKS = 0.25  # …or more than a quarter, when its class/id also says share/related/comment…


def main_content_blocks(blocks: list[Block], elements: list[Element]) -> list[Block] | None:
    """The blocks of the page's article in page order, or None when no element looks like one
    (or what it holds is too little of the page to trust)."""
    chars = [0] * len(elements)
    links = [0] * len(elements)
    for block in blocks:
        for element in block.path:
            chars[element] += len(block.text)
            links[element] += block.links
    density = [links[i] / chars[i] if chars[i] else 0.0 for i in range(len(elements))]

    prose_blocks = [block for block in blocks if not (block.level or block.rows or len(block.text) < _MIN_PROSE or block.links * 2 > len(block.text))]
    prose = [0] * len(elements)
    for block in prose_blocks:
        for element in block.path:
            prose[element] += len(block.text)
    scores: dict[int, float] = {}
    for block in prose_blocks:
        path = block.path[:-1] if elements[block.path[-1]].tag in _PARAGRAPHS else block.path
        gain = 1 + len(_PUNCTUATION.findall(block.text)) + min(len(block.text) / 100, 3)
        for step, element in enumerate(reversed(path[-5:])):
            if element not in scores:
                scores[element] = _TAG_SCORE.get(elements[element].tag, 0) + _hint_score(elements[element].hint)
            scores[element] += gain / (1 if step == 0 else 2 if step == 1 else step * 3)
    if not scores:
        return None
    final = {element: score * (1 - density[element]) for element, score in scores.items()}
    # The article is the best element once a class/id word counts only as far as the element
    # holds a paragraph's worth of prose: a comment box's "post" does not outweigh a short
    # article. (Its neighbours still join it on their full scores: a dateline, a byline.)
    unproven = {e: _hint_score(elements[e].hint) * max(0.0, 1 - prose[e] / _HINT_PROSE) for e in final}
    top = max(final, key=lambda e: (scores[e] - unproven[e]) * (1 - density[e]))
    parent = elements[top].parent
    threshold = max(10.0, final[top] * 0.2)
    roots = {top} | {element for element, score in final.items() if elements[element].parent == parent and score >= threshold}

    kept = []
    for index, block in enumerate(blocks):
        below = _below_root(block.path, roots)
        if below is None and not _sibling_paragraph(block, parent, elements, density):
            continue
        if below and any(density[e] > _LINK_LIST or (density[e] > _NEGATIVE_LINKS and _NEGATIVE.search(elements[e].hint)) for e in below):
            continue
        if block.links * 2 > len(block.text):
            continue
        kept.append(index)
    if _too_little(blocks, set(kept)):
        return None
    if not any(blocks[i].level == 1 for i in kept):
        title = [i for i in range(kept[0]) if blocks[i].level == 1 and blocks[i].links * 2 <= len(blocks[i].text)]
        kept[:0] = title[-1:]
    return _without_empty_sections([blocks[i] for i in kept])


def _without_empty_sections(blocks: list[Block]) -> list[Block]:
    """Drop a heading whose section was all left out ("Related", "References" over a link list)."""
    kept = []
    for index, block in enumerate(blocks):
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        if block.level > 0 and (following is None or 0 < following.level <= block.level):
            continue
        kept.append(block)
    return kept


def _too_little(blocks: list[Block], kept: set[int]) -> bool:
    """A short "article" on a page of readable text that is not links (a docs index, a
    table page) is a guess too risky to take: keep everything rather than lose it."""
    kept_chars = sum(len(blocks[i].text) for i in kept)
    left_out = [block for i, block in enumerate(blocks) if i not in kept]
    left_chars = sum(len(block.text) for block in left_out)
    if not kept_chars or kept_chars >= min(300, 0.3 * (kept_chars + left_chars)):
        return not kept_chars
    return sum(block.links for block in left_out) < _LINK_LIST * left_chars


def _hint_score(hint: str) -> int:
    return (25 if _POSITIVE.search(hint) else 0) - (25 if _NEGATIVE.search(hint) else 0)


def _below_root(path: tuple[int, ...], roots: set[int]) -> tuple[int, ...] | None:
    """The elements of `path` below the kept root it passes through; None if it passes none."""
    for depth, element in enumerate(path):
        if element in roots:
            return path[depth + 1 :]
    return None


def _sibling_paragraph(block: Block, parent: int, elements: list[Element], density: list[float]) -> bool:
    """A paragraph of prose right beside the article (readability keeps these too)."""
    if parent not in block.path or block.level or block.rows:
        return False
    here = block.path[block.path.index(parent) + 1 :]
    if len(here) != 1 or elements[here[0]].tag != "p":
        return False
    if len(block.text) > 80:
        return density[here[0]] < 0.25
    return density[here[0]] == 0 and block.text.endswith(("。", ". ", "."))
