"""Splitting documents into passages, and passages into sentences, with exact offsets.

Passage length: paragraphs up to TARGET_CHARS stay whole; longer ones are cut at
sentence ends into pieces of at most TARGET_CHARS, and shorter than MIN_PASSAGE_CHARS join
a neighbour in their section (a list item, a table row, a line of code is no passage of its
own: on real documents the median passage was 6-20 characters). 400 characters of Chinese
is a screenful that still reads as one thought, and keeps BM25 length normalization
meaningful; dense matching works per sentence (see `dense_units`), so passage length costs
the embedder nothing in precision. Grouping up to 120 or 200 characters instead of 60
measured no better on the real documents (benchmarks/realdocs.py).
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Iterator

from ..models import Document, Passage
from .formats.markdown import fence_after

TARGET_CHARS = 400
MAX_SENTENCE_CHARS = 600  # a sentence longer than this is cut at clause marks
MIN_PASSAGE_CHARS = 60  # a shorter paragraph (or piece of one) joins a neighbour
MIN_UNIT_CHARS = 16  # shorter sentences join a neighbour before embedding
TITLE_CHARS = 40
PATH_DEPTH = 3  # headings kept in a passage's section path
# What of a passage's context each embedded sentence is read after: "", "title", "section" or
# "path". Measured (benchmarks/realdocs.py, guard.py --parts seed): the heading path gained 4
# points of hit@1 on the real documents but cost the bundled corpus's golden set 4 points of
# R@1 (its speeches' titles pull every passage of a speech up); the lexical leg's context
# gained on both. So the encoder reads the sentence alone.
DENSE_CONTEXT = ""
# A table's row, labelled from its header ("Model: ChatGLM2-6B | Average: 51.7"), is read after
# its section, which names what the table is about ("C-Eval") where none of its cells does.
_TABLE_ROW = re.compile(r"\S: [^|]*\S \| \S[^|]*: ")
# ... and a table's rows are part of its caption ("表 2 通栏表格示例", "Table 3 …"), the line or two
# above its header: the caption joins their section path, as a heading would.
_CAPTION = re.compile(r"\s*(?:续?表|Table|TABLE|Tab\.)\s*[0-9A-Z]")
CAPTION_CHARS = 80
PATH_SEPARATOR = " › "

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n|$)")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(\S.*?)\s*#*\s*$")
_WORD = re.compile(r"[^\W_]")  # a letter, digit or ideograph: a passage without one says nothing
# Numbered sub-headings common in Chinese documents: 一、… （二）… 第三章 …
# In the order of their levels: 第一部分/篇 > 第一章 > 第一节 > 一、 > （一）.
_NUMBERED_LEVELS = [
    re.compile(r"^第[一二三四五六七八九十百0-9]+[部分篇]"),
    re.compile(r"^第[一二三四五六七八九十百0-9]+章"),
    re.compile(r"^第[一二三四五六七八九十百0-9]+节"),
    re.compile(r"^[一二三四五六七八九十]+、"),
    re.compile(r"^[（(][一二三四五六七八九十]+[)）]"),
]
_SENTENCE_END = re.compile(
    r"(?:[。！？；!?]+|…+|\.(?=\s)|\.$)"  # the end mark(s)
    r"[”’」』）)】》\"']*"  # closing quotes and brackets that belong to the sentence
)
_CLAUSE_END = re.compile(r"[，,、：:]")
_ENUMERATOR = re.compile(r"\s*[0-9A-Za-z]{1,2}")  # what opens a line before an item's "." ("1.", "a.")
_BREAK = re.compile(r"\r\n|\r|\n")
_WRAPPED_END = re.compile(r"[A-Za-z0-9,\-]")
_WRAPPED_START = re.compile(r"[a-z0-9(]")
_LEAD_IN = re.compile(r"[：:](?:\s*\n[^\n]*[；;，,])*\s*$")  # "…如下：" and its items so far, none ending the list
_TRIM = " \t\r\n\u3000/"  # separators that never start or end a passage


def split_document(document: Document) -> list[Passage]:
    """All passages of a document, in order.

    Passages are the document's paragraphs: a long one is cut at sentence ends, and short
    ones (list items, table rows, a lead-in line) join their neighbours in the same section
    and on the same page, up to TARGET_CHARS; so does a paragraph after a lead-in (a line
    ending in a colon), which it announces. A Markdown code block is one paragraph, cut at
    line ends when it is longer than that. A section's heading opens its first
    passage (a bare heading is never a passage of its own). A passage with no word in it (a
    lone brace, a row of dashes) is not indexed.
    """
    title = _shorten(document.title) if document.title else opening_title(document.text)
    passages: list[Passage] = []
    seen_ids: dict[str, int] = {}
    # Extracted formats say which lines are headings; plain text shows them with # or numbering.
    markdown = document.format in ("text", "markdown")
    levels = dict(zip(document.heading_starts, document.heading_levels or (1,) * len(document.heading_starts)))
    ocr_starts = [line[1] for line in document.ocr_lines]  # the lines OCR read, in text order
    ocr_ends = [line[2] for line in document.ocr_lines]
    captions: dict[int, str] = {}
    for section, heading, paragraphs in _sections(document.text, levels, markdown):
        if section.startswith(title + PATH_SEPARATOR):  # the title is said once, not again in the path
            section = section[len(title + PATH_SEPARATOR) :]
        for paragraph, line_start, start, body_start, end in _group(document, heading, paragraphs):
            text = document.text[start:end]
            if not _WORD.search(document.text, body_start, end):
                continue
            caption = _table_caption(document.text, start, captions) if _TABLE_ROW.search(text.split("\n", 1)[0]) else ""
            passages.append(
                Passage(
                    id=_passage_id(document.path, text, seen_ids),
                    doc_path=document.path,
                    title=title,
                    section=PATH_SEPARATOR.join(part for part in (section, caption) if part),
                    paragraph=paragraph,
                    line_start=line_start,
                    line_end=line_start + _count_breaks(text),
                    char_start=start,
                    char_end=end,
                    text=text,
                    page=document.page_at(start),
                    ocr=_recognised(ocr_starts, ocr_ends, start, end),
                )
            )
    return passages


def _table_caption(text: str, start: int, found: dict[int, str]) -> str:
    """The caption of the table whose row starts at `start`: the one or two caption lines just
    above its rows and header line (a line of cells apart by " | "); "" if there is none.
    `found`: the captions of rows before, by their start, where the walk up a long table stops."""
    end = start
    captions: list[str] = []
    while end > 0:
        if end in found and end != start:
            return found.setdefault(start, found[end])
        line_start = text.rfind("\n", 0, end - 1) + 1
        line = text[line_start:end].strip()
        end = line_start
        if not captions and " | " in line:  # a row, or the header's line
            continue
        if line and len(line) <= CAPTION_CHARS and _CAPTION.match(line) and len(captions) < 2:
            captions.insert(0, line)
            continue
        break
    return found.setdefault(start, " ".join(captions))


def _recognised(ocr_starts: list[int], ocr_ends: list[int], start: int, end: int) -> bool:
    """Whether an OCR line (starts and ends, in text order) overlaps start:end."""
    n = bisect.bisect_left(ocr_ends, start + 1)  # the first line ending after `start`
    return n < len(ocr_starts) and ocr_starts[n] < end


def _group(document: Document, heading: tuple[int, int] | None, paragraphs: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int, int]]:
    """(paragraph, first line, start, body start, end) of each passage of one section: long paragraphs cut,
    short ones joined with a neighbour while the two fit in TARGET_CHARS on one page; the
    section's heading (line, start), when on the first passage's page, opens that passage."""
    text = document.text
    groups: list[list[int]] = []
    for paragraph, line_start, start, end in paragraphs:
        for piece_start, piece_end in _split_paragraph(text, start, end):
            line, body_start = line_start + text.count("\n", start, piece_start), piece_start
            if not groups and heading is not None and document.page_at(heading[1]) == document.page_at(piece_start):
                line, piece_start = heading
            elif groups:
                last = groups[-1]
                short = last[4] - last[3] < MIN_PASSAGE_CHARS or piece_end - piece_start < MIN_PASSAGE_CHARS
                # A lead-in ("…之一的：", "There are 3 constants:") keeps what it announces, as far as it fits;
                # a page break ends a passage, unless it falls in such a list.
                lead_in = _LEAD_IN.search(text, last[2], last[4])
                same_page = document.page_at(piece_start) == document.page_at(last[2]) or lead_in
                if (short or lead_in) and piece_end - last[2] <= TARGET_CHARS and same_page:
                    last[4] = piece_end
                    continue
            groups.append([paragraph, line, piece_start, body_start, piece_end])
    return [(a, b, c, d, e) for a, b, c, d, e in groups]


def context(passage: Passage, depth: str = "path") -> str:
    """What a passage is part of, which its own words may not say ("本法自…起施行"): its
    document's title ("title"), the headings above it ("section"), or both ("path"); "" for none."""
    if not depth:
        return ""
    if depth == "section":
        return passage.section
    if depth == "title" or not passage.section:
        return passage.title
    return f"{passage.title}{PATH_SEPARATOR}{passage.section}" if passage.title and not passage.section.startswith(passage.title) else passage.section


def embedding_text(passage: Passage, sentence_form: str) -> str:
    """What the encoder reads for one of a passage's sentences (its normalized form): the
    sentence after its passage's context, at DENSE_CONTEXT depth. The build embeds this, and
    token alignment reads the same."""
    from .normalize import normalize

    found = context(passage, "section" if _TABLE_ROW.search(sentence_form) else DENSE_CONTEXT)
    return f"{normalize(found)}: {sentence_form}" if found else sentence_form


def sentence_spans(text: str, offset: int = 0, lines_are_paragraphs: bool = False) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, shifted by `offset`, trimmed of separators.

    `lines_are_paragraphs`: each line ends a sentence (extracted text, where a reader put one
    paragraph, heading or table row per line); else a line break is just a space (a text file
    may wrap its lines anywhere).
    """
    spans: list[tuple[int, int]] = []
    for block_start, block_end in _line_blocks(text) if lines_are_paragraphs else [(0, len(text))]:
        cursor = block_start
        for match in _SENTENCE_END.finditer(text, block_start, block_end):
            if _ENUMERATOR.fullmatch(text, text.rfind("\n", 0, match.start()) + 1, match.start()):
                continue  # "1. #define DEBUG: …": an item's number, not a sentence
            spans.extend(_cap(text, cursor, match.end()))
            cursor = match.end()
        if cursor < block_end:
            spans.extend(_cap(text, cursor, block_end))
    trimmed = (_trim(text, start, end) for start, end in spans)
    return [(start + offset, end + offset) for start, end in trimmed if end > start]


def _line_blocks(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each run of lines that is one paragraph: each line, except where Latin
    text was wrapped by hand (a word, comma or hyphen before the break, a lowercase word after)."""
    start = 0
    for match in _BREAK.finditer(text):
        if match.start() and match.end() < len(text) and _WRAPPED_END.match(text[match.start() - 1]) and _WRAPPED_START.match(text[match.end()]):
            continue
        yield start, match.start()
        start = match.end()
    yield start, len(text)


def dense_units(passage: Passage, lines_are_paragraphs: bool = False) -> list[tuple[int, int]]:
    """The sentence spans that get embedded, very short sentences joined with a neighbour
    (`lines_are_paragraphs`: see sentence_spans).

    A sentence of a few characters ("他强调，") carries too little meaning to embed alone.
    """
    units: list[list[int]] = []
    for start, end in sentence_spans(passage.text, passage.char_start, lines_are_paragraphs):
        if units and (end - start < MIN_UNIT_CHARS or units[-1][1] - units[-1][0] < MIN_UNIT_CHARS):
            units[-1][1] = end
        else:
            units.append([start, end])
    return [(start, end) for start, end in units] or [(passage.char_start, passage.char_end)]


def _sections(
    text: str, heading_levels: dict[int, int], markdown: bool = True
) -> Iterator[tuple[str, tuple[int, int] | None, list[tuple[int, int, int, int]]]]:
    """(heading path, (line, start) of its heading, its paragraphs) for each run of paragraphs
    under one heading; a paragraph is (number, first line, start, end), numbered across the
    whole document, headings not counted."""
    path: list[tuple[int, str]] = []  # (level, heading) from the top down
    heading: tuple[int, int] | None = None
    paragraphs: list[tuple[int, int, int, int]] = []
    number = 0
    fence = ""  # the ``` or ~~~ that opened the Markdown code block we are in
    for line_number, (start, end) in enumerate(_lines(text), start=1):
        line = text[start:end]
        if not line.strip(_TRIM):
            continue
        name, level, name_start = None, 1, start
        in_code = bool(fence)  # this line continues (or closes) a code block
        if markdown:
            fence = fence_after(line, fence)
        if start in heading_levels:
            name, level = line.strip(), heading_levels[start]
        elif fence:
            pass  # a `# comment` in code is not a heading
        elif markdown and (found := _HEADING.match(line)):
            name, level, name_start = found.group(2), len(found.group(1)), start + found.start(2)
        elif _is_numbered_heading(line):
            name, level = line.strip(), _numbered_level(line)
        if name is not None:
            if paragraphs:
                yield _path_text(path), heading, paragraphs
                paragraphs = []
            # A heading said twice (a chapter's title from a table of contents, then in its text) is one.
            key = "".join(name.split())
            path = [(lvl, h) for lvl, h in path if lvl < level and "".join(h.split()) != key] + [(level, name)]
            heading = (line_number, _trim(text, name_start, end)[0])
            continue
        start, end = _trim(text, start, end)
        if in_code and paragraphs:  # a code block is one paragraph, fence to fence
            paragraphs[-1] = (*paragraphs[-1][:3], end)
            continue
        number += 1
        paragraphs.append((number, line_number, start, end))
    if paragraphs:
        yield _path_text(path), heading, paragraphs


def _path_text(path: list[tuple[int, str]]) -> str:
    """"第三章 国家机构 › 第一节 全国人民代表大会": the last PATH_DEPTH headings above a passage."""
    return PATH_SEPARATOR.join(heading for _, heading in path[-PATH_DEPTH:])


def _numbered_level(line: str) -> int:
    """The level its Chinese numbering gives a line (1 for 第一部分…); 0 when it has none."""
    stripped = line.strip()
    return next((level for level, pattern in enumerate(_NUMBERED_LEVELS, start=1) if pattern.match(stripped)), 0)


def _is_numbered_heading(line: str) -> bool:
    """A short line opened by Chinese numbering, with no sentence end and no second number
    of its kind: "一、四季度 二、三季度" is a table's row of cells (or a run of items), not a heading."""
    stripped = line.strip()
    level = _numbered_level(stripped)
    if not level or len(stripped) > TITLE_CHARS * 2 or _SENTENCE_END.search(stripped):
        return False
    return not any(_NUMBERED_LEVELS[level - 1].match(word) for word in stripped.split()[1:])


def _lines(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each line without its line break; handles \\n, \\r\\n and lone \\r."""
    for match in _LINE.finditer(text):
        if match.start() == len(text) and match.end() == len(text):
            break
        line = match.group()
        yield match.start(), match.start() + len(line.rstrip("\r\n"))


def _split_paragraph(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A paragraph longer than TARGET_CHARS cut at sentence ends; one of several lines (a code
    block) at line ends."""
    if end - start <= TARGET_CHARS:
        return [(start, end)]
    pieces: list[list[int]] = []
    if "\n" in text[start:end]:
        spans = [(start + a, start + b) for a, b in _lines(text[start:end]) if b > a]
    else:
        spans = sentence_spans(text[start:end], start)
    for s_start, s_end in spans:
        if pieces and s_end - pieces[-1][0] <= TARGET_CHARS:
            pieces[-1][1] = s_end
        else:
            pieces.append([s_start, s_end])
    # A short tail reads badly alone: give it to the piece before it.
    merged: list[list[int]] = []
    for piece in pieces:
        if merged and (piece[1] - piece[0] < MIN_PASSAGE_CHARS or merged[-1][1] - merged[-1][0] < MIN_PASSAGE_CHARS):
            merged[-1][1] = piece[1]
        else:
            merged.append(piece)
    return [(a, b) for a, b in merged]


def _cap(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut a sentence longer than MAX_SENTENCE_CHARS at clause marks, else hard."""
    spans = []
    while end - start > MAX_SENTENCE_CHARS:
        window = text[start : start + MAX_SENTENCE_CHARS]
        cuts = [m.end() for m in _CLAUSE_END.finditer(window) if m.end() >= MAX_SENTENCE_CHARS // 3]
        cut = start + (cuts[-1] if cuts else MAX_SENTENCE_CHARS)
        spans.append((start, cut))
        start = cut
    spans.append((start, end))
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in _TRIM:
        start += 1
    while end > start and text[end - 1] in _TRIM:
        end -= 1
    return start, end


def _count_breaks(text: str) -> int:
    return sum(1 for _ in _lines(text)) - 1


def opening_title(text: str) -> str:
    """What a text's opening says it is about: its first heading, else its first sentence, shortened."""
    for start, end in _lines(text):
        line = text[start:end]
        heading = _HEADING.match(line)
        if heading:
            return _shorten(heading.group(2))
        if line.strip(_TRIM):
            spans = sentence_spans(line)
            first = line[spans[0][0] : spans[0][1]] if spans else line
            return _shorten(first.strip(_TRIM))
    return ""


def _shorten(text: str) -> str:
    from .normalize import join_segmented, strip_pinyin

    text = join_segmented(strip_pinyin(text)).strip()
    return text if len(text) <= TITLE_CHARS else text[: TITLE_CHARS - 1] + "…"


def _passage_id(doc_path: str, text: str, seen: dict[str, int]) -> str:
    # Content-based, so a passage keeps its id when other parts of the file change.
    digest = hashlib.sha1(f"{doc_path}\x00{text}".encode()).hexdigest()[:12]
    seen[digest] = seen.get(digest, 0) + 1
    return digest if seen[digest] == 1 else f"{digest}-{seen[digest]}"
