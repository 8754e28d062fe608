"""Ruled tables on a PDF page: the grid drawn by its lines, the merged cells, the text of each cell.

A table is found from its rulings (thin path objects, and the edges of drawn rectangles),
as the lines that touch each other. Cells come from the grid of their x and y positions: two
neighbouring grid cells with no ruling between them are one merged cell.

A three-line table (三线表, the usual table of papers and reports) has no vertical rules: a
rule above it, one under its header and one below it, all of one width. Its columns are
where white space runs down every body row (find_open_tables).
"""

from __future__ import annotations

import ctypes
from bisect import bisect_right
from dataclasses import dataclass, field

from .assemble import line_joiner

SNAP = 2.0  # points: rulings this close are one
THIN = 2.0  # a path object thinner than this is a ruling
MAX_REPEAT_CHARS = 20  # a merged cell's text repeats on each row it spans only if it is this short
# A grid with text in fewer of its cells than this is a drawing (a schematic, a diagram's
# frame), not a table: its labels stay text. On the PDFs measured, tables held text in 0.67
# or more of their cells (empty ones included), drawings in 0.36 or fewer.
MIN_FILLED = 0.5
# A three-line table: its header, between the first two rules, holds at most this many lines
# (a wider band is a page's header rule above its text); columns are set apart by white space
# this many points wide, which a row in this share of the body rows at most may cross (a note
# or a group's title spanning the table).
OPEN_HEADER_LINES = 3
OPEN_GAP = 3.0
OPEN_SPANNING = 0.1
OPEN_MOVE = 10.0  # points a column's edge may move when a row ruled off below joins the table
# The largest page side a PDF may have (200 inches, ISO 32000 Annex C): a table wider than this
# is a damaged or hostile file, and its white space is not looked for point by point.
MAX_PAGE_POINTS = 14_400


@dataclass
class Table:
    left: float
    right: float
    top: float
    bottom: float
    rows: list[list[str]] = field(default_factory=list)
    header_rows: int | None = None  # None: the reader guesses (qa.ingest.formats.assemble.labeled_rows)
    bounds: list[float] = field(default_factory=list)  # a three-line table's x between columns


def rulings(page) -> tuple[list[tuple[float, float, float]], list[tuple[float, float, float]]]:
    """Horizontal (y, x0, x1) and vertical (x, y0, y1) rulings drawn on the page."""
    import pypdfium2.raw as raw

    horizontal: list[tuple[float, float, float]] = []
    vertical: list[tuple[float, float, float]] = []
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    for index in range(raw.FPDFPage_CountObjects(page)):
        obj = raw.FPDFPage_GetObject(page, index)
        if raw.FPDFPageObj_GetType(obj) != raw.FPDF_PAGEOBJ_PATH:
            continue
        if not raw.FPDFPageObj_GetBounds(obj, left, bottom, right, top):
            continue
        x0, y0, x1, y1 = left.value, bottom.value, right.value, top.value
        if y1 - y0 < THIN and x1 - x0 > THIN:
            horizontal.append(((y0 + y1) / 2, x0, x1))
        elif x1 - x0 < THIN and y1 - y0 > THIN:
            vertical.append(((x0 + x1) / 2, y0, y1))
        elif x1 - x0 > THIN and _is_rectangle(raw, obj):  # a cell's frame or fill: its four edges
            horizontal += [(y0, x0, x1), (y1, x0, x1)]
            vertical += [(x0, y0, y1), (x1, y0, y1)]
    return horizontal, vertical


def _is_rectangle(raw, obj) -> bool:
    """Four or five straight segments (a closed rectangle), no curves."""
    count = raw.FPDFPath_CountSegments(obj)
    if not 4 <= count <= 5:
        return False
    return all(raw.FPDFPathSegment_GetType(raw.FPDFPath_GetPathSegment(obj, i)) != raw.FPDF_SEGMENT_BEZIERTO for i in range(count))


def find_tables(horizontal: list, vertical: list) -> list[tuple[list[float], list[float], list, list]]:
    """Groups of touching rulings that make a grid of at least 2×2 cells: (xs, ys top-down, h, v)."""
    horizontal, vertical = _merge(horizontal), _merge(vertical)
    parent = list(range(len(horizontal) + len(vertical)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, (y, x0, x1) in enumerate(horizontal):
        for j, (x, y0, y1) in enumerate(vertical, len(horizontal)):
            if x0 - SNAP <= x <= x1 + SNAP and y0 - SNAP <= y <= y1 + SNAP:
                parent[root(i)] = root(j)
    groups: dict[int, tuple[list, list]] = {}
    for i, line in enumerate(horizontal + vertical):
        groups.setdefault(root(i), ([], []))[i >= len(horizontal)].append(line)
    grids = []
    for h, v in groups.values():
        if not h or not v:
            continue
        # The outer edges count even where the table is drawn open at the sides.
        xs = _snap([x for x, _, _ in v] + [min(x0 for _, x0, _ in h), max(x1 for _, _, x1 in h)])
        ys = _snap([y for y, _, _ in h] + [min(y0 for _, y0, _ in v), max(y1 for _, _, y1 in v)])[::-1]
        if len(xs) >= 3 and len(ys) >= 3:
            grids.append((xs, ys, h, v))
    return grids


def open_table_rules(horizontal: list, vertical: list) -> list[list[tuple[float, float, float]]]:
    """Rules that may frame three-line tables: groups of three or more of one width, top down,
    touching no vertical rule (a running header's rule alone, or a footnote's, is none)."""
    vertical = _merge(vertical)
    widths: list[list[tuple[float, float, float]]] = []
    for y, x0, x1 in sorted(_merge(horizontal), key=lambda rule: -rule[0]):
        if any(x0 - SNAP <= x <= x1 + SNAP and y0 - SNAP <= y <= y1 + SNAP for x, y0, y1 in vertical):
            continue
        group = next((g for g in widths if abs(g[0][1] - x0) <= 2 * SNAP and abs(g[0][2] - x1) <= 2 * SNAP), None)
        if group is None:
            widths.append([(y, x0, x1)])
        else:
            group.append((y, x0, x1))
    return [rules for rules in widths if len(rules) >= 3]


def find_open_tables(groups: list[list[tuple[float, float, float]]], segments: list) -> list[Table]:
    """Three-line tables: three rules of a group (open_table_rules) that frame a header of a
    few lines and body rows whose text stands in columns. `segments` are the page's runs of
    text (pdf_layout.segments): a cell is one run or more."""
    found = []
    for rules in groups:
        i = 0
        while i + 2 < len(rules):
            table = _open_table(rules[i], rules[i + 1], rules[i + 2], segments)
            if table is None:
                i += 1
                continue
            # A table ruled under every row goes on while each next band is a row of its columns.
            end = i + 2
            while end + 1 < len(rules) and (longer := _open_table(rules[i], rules[i + 1], rules[end + 1], segments, table)) is not None:
                table, end = longer, end + 1
            found.append(table)
            i = end + 1
    return found


def _open_table(top: tuple, middle: tuple, bottom: tuple, segments: list, shorter: Table | None = None) -> Table | None:
    """The table framed by three rules, or None where the text between them is not one. With
    `shorter` (the same table down to the rule above `bottom`), the band that rule adds must
    be a row of a few lines whose words keep to the same columns."""
    left, right = min(top[1], middle[1], bottom[1]) - SNAP, max(top[2], middle[2], bottom[2]) + SNAP
    within = [s for s in segments if left <= (s.left + s.right) / 2 <= right]
    header = _text_lines([s for s in within if middle[0] < s.middle < top[0]])
    body = _text_lines([s for s in within if bottom[0] < s.middle < middle[0]])
    if not header or not body or len(header) > OPEN_HEADER_LINES:
        return None
    bounds = _column_bounds(body, header, left, right)
    # The header's words stand in the columns: a line across them is text above the table.
    if not bounds or any(s.left < bound < s.right for line in header for s in line for bound in bounds):
        return None
    if shorter is not None:
        added = _text_lines([s for s in within if bottom[0] < s.middle < shorter.bottom])
        moved = len(bounds) != len(shorter.bounds) or any(abs(a - b) > OPEN_MOVE for a, b in zip(bounds, shorter.bounds))
        if not added or len(added) > OPEN_HEADER_LINES or moved:
            return None
    columns = len(bounds) + 1

    def cells(line: list) -> list[str]:
        row = [""] * columns
        for s in line:
            c = bisect_right(bounds, (s.left + s.right) / 2)
            row[c] = _joined(row[c], s.text)
        return row

    heading = [""] * columns
    for line in header:
        heading = [_joined(a, b) for a, b in zip(heading, cells(line))]
    rows: list[list[str]] = []
    for line in body:
        row = cells(line)
        filled = sum(1 for cell in row if cell)
        # A cell's text that runs on to another line: the first column is empty and others too.
        if rows and not row[0] and filled < columns - 1:
            rows[-1] = [_joined(a, b) for a, b in zip(rows[-1], row)]
        else:
            rows.append(row)
    texted = sum(1 for c in range(columns) if any(row[c] for row in rows))  # a column of swatches has none
    if sum(1 for row in rows for cell in row if cell) < MIN_FILLED * texted * len(rows):
        return None
    table_rows = _drop_empty_columns([heading, *rows])
    if len(table_rows[0]) < 2:  # white space down a page's ragged right edge, not between columns
        return None
    return Table(left=left, right=right, top=top[0], bottom=bottom[0], rows=table_rows, header_rows=1, bounds=bounds)


def _text_lines(segments: list) -> list[list]:
    """Segments on one baseline as a line, lines top down, each left to right."""
    lines: list[list] = []
    for s in sorted(segments, key=lambda s: -s.middle):
        if lines and abs(lines[-1][0].middle - s.middle) < 0.5 * max(s.top - s.bottom, 1.0):
            lines[-1].append(s)
        else:
            lines.append([s])
    return [sorted(line, key=lambda s: s.left) for line in lines]


def _column_bounds(body: list[list], header: list[list], left: float, right: float) -> list[float]:
    """The x between two columns: the middle of each run of white space, OPEN_GAP wide or more,
    that at most OPEN_SPANNING of the body lines cross, with text on both sides. Header words
    standing inside such a run head columns the body leaves without text (swatches, marks):
    the run is divided around them."""
    allowed = int(OPEN_SPANNING * len(body))
    start = int(max(left, min(s.left for line in body for s in line)))
    end = int(min(right, max(s.right for line in body for s in line))) + 1
    if end - start > MAX_PAGE_POINTS:
        return []
    covered = [0] * (end - start)
    for line in body:
        for s in line:
            for x in range(max(int(s.left), start), min(int(s.right) + 1, end)):
                covered[x - start] += 1
    bounds, run, seen_text = [], None, False
    for x, count in enumerate(covered):
        if count <= allowed:
            run = x if run is None and seen_text else run
        elif run is None:
            seen_text = True
        else:
            if x - run >= OPEN_GAP:
                a, b = start + run, start + x
                heads = sorted((s.left, s.right) for line in header for s in line if a < s.left and s.right < b)
                edges = [a, *(edge for head in heads for edge in head), b]
                bounds += [(edges[k] + edges[k + 1]) / 2 for k in range(0, len(edges), 2)]
            run = None
    return bounds


def _joined(text: str, more: str) -> str:
    """A cell's text and its next piece, as lines of a paragraph are joined (assemble.line_joiner)."""
    return text + line_joiner(text, more) + more if text and more else text or more


def inside(table: Table, char) -> bool:
    """Whether a char is drawn within the table's frame (a three-line table's: its chars are read as its cells)."""
    cx, cy = (char.left + char.right) / 2, (char.bottom + char.top) / 2
    return table.left <= cx <= table.right and table.bottom <= cy <= table.top


def _merge(lines: list[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    """Collinear rulings that touch or overlap joined into one (a table's rule is often drawn cell by cell)."""
    merged: list[list[float]] = []
    for pos, lo, hi in sorted(lines):
        near = (line for line in reversed(merged) if pos - line[0] <= SNAP)
        joined = next((line for line in near if lo <= line[2] + SNAP and line[1] <= hi + SNAP), None)
        if joined is None:
            merged.append([pos, lo, hi])
        else:
            joined[1], joined[2] = min(joined[1], lo), max(joined[2], hi)
    return [tuple(line) for line in merged]


def _snap(values: list[float]) -> list[float]:
    result: list[float] = []
    for value in sorted(values):
        if not result or value - result[-1] > SNAP:
            result.append(value)
    return result


def _by_position(lines: list, positions: list[float]) -> dict[int, list[tuple[float, float]]]:
    """Each ruling's extent, filed under the grid position it lies on."""
    filed: dict[int, list[tuple[float, float]]] = {}
    for pos, lo, hi in lines:
        for index, grid_pos in enumerate(positions):
            if abs(pos - grid_pos) <= SNAP:
                filed.setdefault(index, []).append((lo - SNAP, hi + SNAP))
    return filed


def _covered(filed: dict, index: int, across: float) -> bool:
    return any(lo <= across <= hi for lo, hi in filed.get(index, ()))


def fill_table(grid: tuple, chars: list) -> tuple[Table, list]:
    """The table's rows from the chars inside its grid; returns the table and the chars outside it.

    A grid that is a drawing (MIN_FILLED) comes back as a table without rows, and every char."""
    xs, ys, h, v = grid
    columns, rows = len(xs) - 1, len(ys) - 1
    parent = {(r, c): (r, c) for r in range(rows) for c in range(columns)}

    def root(cell):
        while parent[cell] != cell:
            cell = parent[cell]
        return cell

    v_at, h_at = _by_position(v, xs), _by_position(h, ys)
    for r in range(rows):
        middle_y = (ys[r] + ys[r + 1]) / 2
        for c in range(columns):
            middle_x = (xs[c] + xs[c + 1]) / 2
            if c + 1 < columns and not _covered(v_at, c + 1, middle_y):
                parent[root((r, c + 1))] = root((r, c))
            if r + 1 < rows and not _covered(h_at, r + 1, middle_x):
                parent[root((r + 1, c))] = root((r, c))
    inside: dict[tuple, list] = {}
    outside = []
    descending = [-y for y in ys]
    for char in chars:
        cx, cy = (char.left + char.right) / 2, (char.bottom + char.top) / 2
        if not (xs[0] <= cx <= xs[-1] and ys[-1] <= cy <= ys[0]):
            outside.append(char)
            continue
        c = min(bisect_right(xs, cx) - 1, columns - 1)
        r = min(bisect_right(descending, -cy) - 1, rows - 1)
        inside.setdefault(root((r, c)), []).append(char)
    texts = {cell: cell_text(found) for cell, found in inside.items()}
    cells = {root((r, c)) for r in range(rows) for c in range(columns)}
    if sum(1 for text in texts.values() if text) < MIN_FILLED * len(cells):
        return Table(left=xs[0], right=xs[-1], top=ys[0], bottom=ys[-1]), chars
    table_rows = []
    for r in range(rows):
        row = []
        for c in range(columns):
            cell = root((r, c))
            text = texts.get(cell, "")
            # A merged cell's text on every row it spans (a row group's label), unless it is long.
            if cell[0] != r and len(text) > MAX_REPEAT_CHARS:
                text = ""
            row.append(text)
        table_rows.append(row)
    table_rows = _drop_empty_columns(table_rows)
    table = Table(left=xs[0], right=xs[-1], top=ys[0], bottom=ys[-1], rows=[row for row in table_rows if any(row)])
    return table, outside


def _drop_empty_columns(rows: list[list[str]]) -> list[list[str]]:
    """Columns that are empty, or repeat the column before on every row (a grid line drawn only in places)."""
    keep = []
    for c in range(len(rows[0]) if rows else 0):
        if all(not row[c] for row in rows):
            continue
        if keep and all(row[c] == row[keep[-1]] for row in rows):
            continue
        keep.append(c)
    return [[row[c] for c in keep] for row in rows]


def cell_text(chars: list) -> str:
    """A cell's chars as text: in drawing order, a space where the gap or pdfium says so."""
    text = ""
    previous = None
    for char in chars:
        if previous is not None:
            new_line = abs((char.top + char.bottom) - (previous.top + previous.bottom)) / 2 > 0.5 * char.size
            gap = char.left - previous.right
            if new_line:
                if text[-1:].isascii() and char.text.isascii() and text[-1:] != "-":
                    text += " "
            elif char.space_before or gap > 0.5 * char.size:
                text += " "
        text += char.text
        previous = char
    return text.strip()
