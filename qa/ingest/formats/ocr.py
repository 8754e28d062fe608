"""OCR: the text of page images (scanned PDF pages, image files), laid out as paragraphs.

The engine is RapidOCR (Apache-2.0), PaddleOCR's PP-OCR models on onnxruntime. It is an
optional extra (`pip install -e '.[ocr]'`) and is imported only when a page needs it, so
qa's cold start never pays for it. Its wheel ships the models, and they are loaded from
the package by path, so nothing is downloaded at run time.

What the engine returns (a box, a text and a confidence per line) is cached by the file's
sha256 under the user cache dir ($XDG_CACHE_HOME/qa/ocr/, or ~/.cache/qa/ocr/) as JSON, so
a rebuild never reads an unchanged file twice, and a change to the layout rules below needs
no new OCR. `QA_OCR=0` turns OCR off (a quick build): scanned pages are skipped as before.

Layout: lines are put in reading order by columns (a vertical gap that few lines cross
splits a band of the page in two, recursively: a two-column page, a reader's bookmark pane
beside its page), lines on one row become one line, and the lines of a paragraph are joined
when the geometry says it goes on (the line before reaches the column's right edge, this one
is not indented, the spacing is the usual one), as for PDF text layers (pdf.py). Page numbers
and lines repeated in the margins of three pages or more (running headers) are left out. A
page turned by 90° or 180° is turned upright and read again.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import statistics
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from ...user_cache import user_cache_dir
from . import assemble
from .assemble import TextAssembler, UnreadableFile, collapse_spaces, line_joiner

INSTALL = "pip install -e '.[ocr]'"
CACHE_VERSION = 1  # bump when what is cached changes (not for layout rules: they run on the cached lines)
DPI = 200  # a PDF page is rendered at this resolution (see the report in ocr's tests for why)
MAX_SIDE = 4000  # pixels: a larger page or image is scaled down to this before OCR
LOW_CONFIDENCE = 0.8  # a line the engine is less sure of is counted as low-confidence in the layout note
TEXT_SCORE = 0.5  # the engine drops lines it is less sure of than this (its own default)
# A figure's labels (a map's place names, a diagram's parts) are short rows scattered over
# the page: LABEL_RUN of them or more, among short rows, are left out. A list's items or a
# table's first column start where the row above or below does, and stay. (PDF text layers
# have a rule of their own, pdf_layout.stray_rows.)
LABEL_CHARS = 5
LABEL_RUN = 6
TITLE_SIZE = 0.75  # a cover's title: lines in type at least this share of the largest (cover_title)

# OCR often drops the space after a clause number ("5.1.2气温"), so a number followed by an
# ideograph counts; a bare number needs the space ("3 术语"), or "30g" would be a clause.
_SECTION_NUMBER = re.compile(
    r"^(?:第\s*[一二三四五六七八九十百\d]+\s*[章节篇部条]|\d{1,2}(?:\.\d{1,2}){1,4}\s*(?=[\u4e00-\u9fff])|\d{1,2}\s+(?=[\u4e00-\u9fff])|附\s*录\s*[A-Z])"
)
# ... and a bare number may lose its space too ("4术语和定义"): a heading when the rest of the
# line is a short run of ideographs, nothing else ("5年" or "4月上旬，…" are not).
_FUSED_NUMBER = re.compile(r"^\d{1,2}(?=[\u4e00-\u9fff][\u4e00-\u9fff、]{1,19}$)")
_LIST_ITEM = re.compile(
    r"^(?:\d{1,2}[.．)、）]\s*(?=[\u4e00-\u9fff])|[a-z][.)）]\s|\(\d{1,2}\)|（\d{1,2}）|[（(][一二三四五六七八九十]+[)）]|[一二三四五六七八九十]+、|[•▪●○◦■□])"
)
_PAGE_NUMBER = re.compile(r"^[-—–\s]*(?:\d{1,4}|[ivxlc]{1,6}|第\s*\d{1,4}\s*页(?:\s*共\s*\d{1,4}\s*页)?|\d{1,4}\s*/\s*\d{1,4})[-—–\s]*$", re.I)
_SENTENCE_END = re.compile(r"[。．.!！?？；;：:]$")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class OcrLine:
    """One line the engine read: its text, its box (x0, y0, x1, y1; top-left origin, in the
    upright page, in PDF points for a PDF page and pixels for an image) and its confidence."""

    text: str
    box: tuple[float, float, float, float]
    score: float

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]


@dataclass(frozen=True)
class OcrPage:
    lines: tuple[OcrLine, ...]
    size: tuple[float, float] = (0.0, 0.0)  # width and height of the upright page, in the lines' units
    turned: int = 0  # degrees the page was turned (counter-clockwise) to read it upright


def unavailable() -> str | None:
    """Why OCR can't run here ("OCR is turned off (QA_OCR=0)", or how to install it); None if it can."""
    if os.environ.get("QA_OCR", "").strip() == "0":
        return "OCR is turned off (QA_OCR=0)"
    if importlib.util.find_spec("rapidocr") is None:
        return f"OCR is not installed: {INSTALL}"
    return None


# Who hears of each page OCR'd in this context (a build's "OCR scan.pdf: page 3 of 40"): a
# context variable, so a reader deep in a format needs no progress argument, and threads don't share it.
_PAGE_PROGRESS: ContextVar[Callable[[int, int], None] | None] = ContextVar("qa_ocr_page_progress", default=None)


@contextmanager
def reporting_pages(progress: Callable[[int, int], None] | None) -> Iterator[None]:
    """Within this block, read_pages tells `progress(done, total)` after each page it reads."""
    token = _PAGE_PROGRESS.set(progress)
    try:
        yield
    finally:
        _PAGE_PROGRESS.reset(token)


def read_pages(
    data: bytes,
    numbers: Sequence[int],
    render: Callable[[int], tuple[object, float]],
    progress: Callable[[int, int], None] | None = None,
) -> dict[int, OcrPage]:
    """The OCR'd text of the file `data`'s pages `numbers` (0-based), from the cache where it
    has them. `render(number)` gives a page's image (a numpy array or a PIL image) and its
    pixels per output unit (scale/72 for a PDF page, 1 for an image); `progress(done, total)`
    is called after each page the engine reads."""
    progress = progress or _PAGE_PROGRESS.get()
    digest = hashlib.sha256(data).hexdigest()
    cache = _load_cache(digest)
    found = {number: cache[number] for number in numbers if number in cache}
    missing = [number for number in numbers if number not in found]
    for done, number in enumerate(missing, 1):
        image, per_unit = render(number)
        try:
            found[number] = recognize(image, per_unit)
        except Exception as exc:  # a broken install or an engine error skips the file with its reason, never stops a build
            raise UnreadableFile(f"OCR failed ({type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''})") from None
        if progress is not None:
            progress(done, len(missing))
    if missing:
        cache.update({number: found[number] for number in missing})
        _save_cache(digest, cache)
    return found


# --- the engine ---------------------------------------------------------------------------

_engine = None


class _Engine:
    """RapidOCR with the models its wheel ships, on at most 4 threads, quiet."""

    def __init__(self) -> None:
        import rapidocr
        from rapidocr import RapidOCR

        models = Path(rapidocr.__file__).parent / "models"

        def model(kind: str) -> str:
            found = sorted(models.glob(f"*{kind}*.onnx"))
            if not found:
                raise RuntimeError(f"rapidocr ships no {kind} model in {models}; reinstall it: {INSTALL}")
            return str(found[0])

        threads = min(4, os.cpu_count() or 1)
        self.ocr = RapidOCR(
            params={
                "Global.log_level": "error",
                "Global.text_score": TEXT_SCORE,
                "Global.max_side_len": MAX_SIDE,  # qa scales pages itself; the engine's own 2000 px loses small print
                # Explicit paths: without them the engine checks its model hub and may download.
                "Det.model_path": model("det"),
                "Cls.model_path": model("cls"),
                "Rec.model_path": model("rec"),
                "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
            }
        )
        # The line classifier turns each upside-down line before it is read; how many it
        # turned tells an upside-down page, which the result itself does not say.
        self.turned_lines: list[bool] = []
        classify = self.ocr.cls_and_rotate

        def cls_and_rotate(crops):
            crops, result = classify(crops)
            self.turned_lines = [label == "180" for label, _ in (result.cls_res or ())]
            return crops, result

        self.ocr.cls_and_rotate = cls_and_rotate

    def __call__(self, image) -> tuple[list[tuple[list, str, float]], float, float]:
        """(quad, text, score) per line; the share of multi-char lines set vertically, and of lines turned 180°."""
        self.turned_lines = []
        result = self.ocr(image)
        lines = [(box.tolist(), text, float(score)) for box, text, score in zip(result.boxes, result.txts, result.scores)] if len(result) else []
        long = [quad for quad, text, _ in lines if len(text) >= 2]
        vertical = sum(1 for quad in long if _side(quad[0], quad[3]) >= 1.5 * _side(quad[0], quad[1])) / len(long) if long else 0.0
        upside_down = sum(self.turned_lines) / len(self.turned_lines) if self.turned_lines else 0.0
        return lines, vertical, upside_down


def _side(a: list, b: list) -> float:
    return ((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5


def _get_engine() -> _Engine:
    global _engine
    if _engine is None:
        _engine = _Engine()
    return _engine


def recognize(image, per_unit: float = 1.0) -> OcrPage:
    """Read one page image. A page whose lines run vertically, or that the line classifier
    mostly turned, is turned upright and read again; that reading is kept unless it is clearly
    worse (vertical writing is not a turned page)."""
    import numpy as np

    pixels = np.asarray(image)
    engine = _get_engine()
    lines, vertical, upside_down = engine(pixels)
    turns = 0
    if vertical > 0.6:
        # A crop set vertically is turned 90° counter-clockwise before it is read; upright
        # after that means the page was turned clockwise, so turning it back is counter-clockwise.
        turns = 3 if upside_down > 0.5 else 1
    elif upside_down > 0.6:
        turns = 2
    if turns:
        turned = np.ascontiguousarray(np.rot90(pixels, turns))
        again, _, _ = engine(turned)
        if _weight(again) >= 0.9 * _weight(lines):  # (upside down, the classifier already read the lines; only their order was wrong)
            lines, pixels = again, turned
        else:
            turns = 0
    read = []
    for quad, text, score in lines:
        text = collapse_spaces(text)
        if text:
            xs, ys = [point[0] for point in quad], [point[1] for point in quad]
            box = tuple(round(value / per_unit, 1) for value in (min(xs), min(ys), max(xs), max(ys)))
            read.append(OcrLine(text, box, round(score, 4)))
    height, width = pixels.shape[:2]
    return OcrPage(tuple(read), (round(width / per_unit, 1), round(height / per_unit, 1)), 90 * turns)


def _weight(lines: list) -> float:
    return sum(score * len(text) for _, text, score in lines)


# --- the cache ----------------------------------------------------------------------------


def cache_dir() -> Path:
    """Where OCR results are kept."""
    return user_cache_dir() / "ocr"


def _engine_key() -> str:
    """What the cached lines depend on: a new engine or resolution means reading again."""
    spec = importlib.util.find_spec("rapidocr")
    models = sorted(p.name for p in Path(spec.submodule_search_locations[0], "models").glob("*.onnx")) if spec and spec.submodule_search_locations else []
    return f"rapidocr {importlib.metadata.version('rapidocr')} {' '.join(models)} {DPI}dpi max{MAX_SIDE} score{TEXT_SCORE}"


def _load_cache(digest: str) -> dict[int, OcrPage]:
    try:
        stored = json.loads((cache_dir() / f"{digest}.json").read_text(encoding="utf-8"))
        if stored.get("version") != CACHE_VERSION or stored.get("engine") != _engine_key():
            return {}
        return {
            int(number): OcrPage(tuple(OcrLine(text, tuple(box), score) for text, box, score in page["lines"]), tuple(page["size"]), page["turned"])
            for number, page in stored["pages"].items()
        }
    except (OSError, ValueError, KeyError, TypeError):  # none yet, or damaged: read again
        return {}


def _save_cache(digest: str, pages: dict[int, OcrPage]) -> None:
    stored = {
        "version": CACHE_VERSION,
        "engine": _engine_key(),
        "pages": {str(n): {"size": list(p.size), "turned": p.turned, "lines": [[line.text, list(line.box), line.score] for line in p.lines]} for n, p in sorted(pages.items())},
    }
    directory = cache_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        # Written under a temporary name, then renamed: a killed build leaves no half file.
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{digest[:16]}-", suffix=".tmp")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(stored, out, ensure_ascii=False)
            os.replace(temporary, directory / f"{digest}.json")
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        pass  # a cache that can't be written costs a second OCR next time, nothing else


# --- lines to paragraphs ------------------------------------------------------------------


@dataclass
class _Row:
    """OCR lines side by side on one row of a column, left to right."""

    lines: list[OcrLine]

    @property
    def x0(self) -> float:
        return self.lines[0].box[0]

    @property
    def x1(self) -> float:
        return max(line.box[2] for line in self.lines)

    @property
    def y0(self) -> float:
        return min(line.box[1] for line in self.lines)

    @property
    def y1(self) -> float:
        return max(line.box[3] for line in self.lines)

    def joiners(self) -> list[str]:
        """What goes between the row's lines: nothing (or a space between words) where the
        detector cut one line in two, a space between cells set apart."""
        result = []
        for before, after in zip(self.lines, self.lines[1:]):
            apart = after.box[0] - before.box[2] > max(before.height, after.height)
            result.append(" " if apart else line_joiner(before.text, after.text))
        return result

    @property
    def text(self) -> str:
        return "".join(joiner + line.text for joiner, line in zip([""] + self.joiners(), self.lines))

    @property
    def cells(self) -> int:
        return 1 + self.joiners().count(" ") if len(self.lines) > 1 else 1


@dataclass
class Paragraph:
    lines: list[OcrLine]  # in reading order
    joiners: list[str]  # what goes before each line after the first ("" or " ")
    heading: int = 0  # the heading level of a numbered line standing alone; 0 for body text

    @property
    def text(self) -> str:
        return self.lines[0].text + "".join(joiner + line.text for joiner, line in zip(self.joiners, self.lines[1:]))


def running_lines(pages: Sequence[OcrPage]) -> set[str]:
    """Texts in the top or bottom tenth of three pages or more: running headers and footers."""
    seen: dict[str, int] = {}
    for page in pages:
        for text in {line.text.replace(" ", "") for line in page.lines if _in_margin(line, page)}:
            seen[text] = seen.get(text, 0) + 1
    return {text for text, count in seen.items() if count >= 3}


def _in_margin(line: OcrLine, page: OcrPage) -> bool:
    return line.box[3] < 0.1 * page.size[1] or line.box[1] > 0.9 * page.size[1]


def paragraphs(page: OcrPage, running: set[str] = frozenset()) -> list[Paragraph]:
    """The page's paragraphs in reading order, its page number and `running` lines left out."""
    lines = [
        line for line in page.lines
        if not (_in_margin(line, page) and (_PAGE_NUMBER.match(line.text) or line.text.replace(" ", "") in running))
    ]
    result = []
    for column in _columns(lines):
        rows = _rows(column)
        labels = _figure_labels(rows)
        result += _join([row for row in rows if id(row) not in labels])
    return result


def _figure_labels(rows: list[_Row]) -> set[int]:
    """ids of a figure's labels: rows of short lines in a run of short rows, each starting
    where neither row beside it does, LABEL_RUN or more of them in the run."""
    if not rows:
        return set()
    height = statistics.median(line.height for row in rows for line in row.lines)
    labels: set[int] = set()
    run: list[_Row] = []
    for row in rows + [None]:
        if row is not None and all(len(line.text.replace(" ", "")) <= LABEL_CHARS for line in row.lines):
            run.append(row)
            continue
        stray = [
            row for index, row in enumerate(run)
            if not any(abs(row.x0 - other.x0) < height for other in run[max(0, index - 1) : index] + run[index + 1 : index + 2])
        ]
        if len(stray) >= LABEL_RUN:
            labels.update(id(row) for row in stray)
        run = []
    return labels


def _columns(lines: list[OcrLine]) -> list[list[OcrLine]]:
    """The lines in blocks of reading order: a band of the page with a gutter is read left
    side first, then the right; lines across the gutter (a title) are bands of their own."""
    gutter = _gutter(lines)
    if gutter is None:
        return [lines] if lines else []
    blocks: list[list[OcrLine]] = []
    band: list[OcrLine] = []

    def close_band() -> None:
        left = [line for line in band if line.box[2] <= gutter]
        right = [line for line in band if line.box[0] >= gutter]
        blocks.extend(_columns(left) + _columns(right))
        band.clear()

    for line in sorted(lines, key=lambda line: line.box[1]):
        if line.box[0] < gutter < line.box[2]:
            close_band()
            blocks.append([line])
        else:
            band.append(line)
    close_band()
    return blocks


def _gutter(lines: list[OcrLine]) -> float | None:
    """The x of a vertical gap that splits the lines into two columns of text, or None.

    The gap must be at least a line height wide, crossed by at most a quarter of the lines,
    with three lines or more on each side whose median length is that of text, not of
    table cells (a table's columns are read row by row)."""
    if len(lines) < 6:
        return None
    height = statistics.median(line.height for line in lines)
    edges = sorted({round(line.box[2]) for line in lines})
    best = None
    for x in edges:  # a gap starts where some line ends
        start = x
        end = min((line.box[0] for line in lines if line.box[0] >= start), default=None)
        if end is None or end - start < height:
            continue
        middle = (start + end) / 2
        left = [line for line in lines if line.box[2] <= middle]
        right = [line for line in lines if line.box[0] >= middle]
        crossing = len(lines) - len(left) - len(right)
        if crossing > max(1, len(lines) / 4) or len(left) < 3 or len(right) < 3:
            continue
        if min(statistics.median(len(line.text) for line in side) for side in (left, right)) < 5:
            continue
        rank = (crossing, -min(len(left), len(right)))  # the gap fewest lines cross, then the most even split
        if best is None or rank < best[0]:
            best = (rank, middle)
    return best[1] if best else None


def _rows(lines: list[OcrLine]) -> list[_Row]:
    """Lines on one row (overlapping by half their height) become one row, left to right."""
    rows: list[_Row] = []
    for line in sorted(lines, key=lambda line: (line.box[1] + line.box[3]) / 2):
        if rows:
            row = rows[-1]
            overlap = min(row.y1, line.box[3]) - max(row.y0, line.box[1])
            if overlap > 0.5 * min(line.height, row.y1 - row.y0):
                row.lines.append(line)
                row.lines.sort(key=lambda line: line.box[0])
                continue
        rows.append(_Row([line]))
    return rows


def _join(rows: list[_Row]) -> list[Paragraph]:
    """Rows joined into paragraphs where the layout says one goes on."""
    if not rows:
        return []
    height = statistics.median(line.height for row in rows for line in row.lines)
    right_edge = _right_edge(rows)
    pitches = [b.y0 - a.y0 for a, b in zip(rows, rows[1:]) if b.y0 > a.y0]
    pitch = statistics.median(pitches) if pitches else 0.0
    result: list[Paragraph] = []
    previous: _Row | None = None
    for row in rows:
        starts_new = (
            previous is None
            or row.cells > 1  # cells side by side: a table row stands alone
            or previous.cells > 1
            or result[-1].heading > 0
            or _numbered(row.text)
            or previous.x1 < right_edge - 1.5 * height  # the line before stopped short: its paragraph ended
            or row.x0 > previous.x0 + 0.8 * height  # indented: a first line
            or row.x0 < previous.x0 - 2.5 * height  # further left than a paragraph's lines go
            or (pitch > 0 and row.y0 - previous.y0 > 1.6 * pitch)  # a gap wider than the line spacing
            or abs(row.y1 - row.y0 - height) > 0.5 * height  # a different type size
        )
        if starts_new:
            result.append(Paragraph(list(row.lines), row.joiners(), _heading_level(row)))
        else:
            paragraph = result[-1]
            paragraph.joiners += [line_joiner(paragraph.lines[-1].text, row.lines[0].text)] + row.joiners()
            paragraph.lines += row.lines
        previous = row
    return result


def _right_edge(rows: list[_Row]) -> float:
    """Where the column's full lines end: nine rows in ten end before it. Rows of cells (a
    table's, a status bar's) and rows that start in the column's right half (a window's close
    button beside the page) are not lines of text, and don't count."""
    left = statistics.median(row.x0 for row in rows)
    middle = left + (max(row.x1 for row in rows) - left) / 2
    rights = sorted(row.x1 for row in rows if row.cells == 1 and row.x0 < middle) or sorted(row.x1 for row in rows)
    return rights[(len(rights) * 9) // 10]


def _numbered(text: str) -> bool:
    return bool(_SECTION_NUMBER.match(text) or _FUSED_NUMBER.match(text) or _LIST_ITEM.match(text))


def _heading_level(row: _Row) -> int:
    """A short numbered row without a sentence's punctuation ("5.1.2 气温") is a heading, one level per depth."""
    text = row.text
    match = _SECTION_NUMBER.match(text) or _FUSED_NUMBER.match(text)
    if row.cells > 1 or not match or len(text) > 40 or _SENTENCE_END.search(text) or re.search(r"[。，；,;]", text):
        return 0
    number = match.group(0).strip()
    return min(6, number.count(".") + 1) if number[:1].isdigit() else 1


def cover_title(page: OcrPage) -> str:
    """The page's largest type, as a cover states a document's title (assemble.cover_title): a
    cover sets its title in two sizes, and a box's height varies with the glyphs in it, hence
    the loose TITLE_SIZE."""
    return assemble.cover_title(page.lines, _type_size, TITLE_SIZE, lambda lines: [line for row in _rows(lines) for line in row.lines])


def _type_size(line: OcrLine) -> float:
    """The line's type size: its box's height, or less where its width says so (a line on a
    page photographed askew has a box taller than its type; an ideograph is one em wide, a
    Latin letter about half)."""
    ems = sum(1.0 if _CJK.match(char) else 0.55 for char in line.text if not char.isspace())
    return min(line.height, (line.box[2] - line.box[0]) / ems) if ems else line.height


def lay_out(assembler: TextAssembler, page: OcrPage, start: int, page_number: int | None, running: set[str] = frozenset()) -> list[tuple]:
    """Write the page's paragraphs to `assembler`, whose text is `start` chars long, and return
    (page_number, char_start, char_end, box, score) for each OCR line, where it lies in the text."""
    spans = []
    offset = start
    for paragraph in paragraphs(page, running):
        text = paragraph.text
        assembler.line(text, heading=paragraph.heading > 0, level=paragraph.heading or 1)
        at = offset
        for index, line in enumerate(paragraph.lines):
            if index:
                at += len(paragraph.joiners[index - 1])
            spans.append((page_number, at, at + len(line.text), line.box, line.score))
            at += len(line.text)
        offset += len(text) + 1  # the paragraph and its "\n" (its text is already collapsed)
    return spans


def note(pages: dict[int, OcrPage], total: int) -> str:
    """The layout note: "OCR on 7 of 7 pages (mean line confidence 0.93; 2% of lines low-confidence)"."""
    scores = [line.score for page in pages.values() for line in page.lines]
    where = f"OCR on {len(pages)} of {total} page{'s' if total != 1 else ''}" if total else "OCR"
    if not scores:
        return f"{where} (no text found)"
    low = sum(1 for score in scores if score < LOW_CONFIDENCE) / len(scores)
    turned = sum(1 for page in pages.values() if page.turned)
    extra = f"; {turned} turned upright" if turned else ""
    return f"{where} (mean line confidence {statistics.mean(scores):.2f}; {low:.0%} of lines low-confidence{extra})"
