"""Ruled tables on a PDF page: the grid drawn by its lines, the merged cells, the text of each cell.

A table is found from its rulings (thin path objects, and the edges of drawn rectangles),
as the lines that touch each other. Cells come from the grid of their x and y positions: two
neighbouring grid cells with no ruling between them are one merged cell. Tables set without
vertical rules (three-line tables) are not found here; their rows stay text lines.
"""

from __future__ import annotations

import ctypes
from bisect import bisect_right
from dataclasses import dataclass, field

SNAP = 2.0  # points: rulings this close are one
THIN = 2.0  # a path object thinner than this is a ruling
MAX_REPEAT_CHARS = 20  # a merged cell's text repeats on each row it spans only if it is this short
# A grid with text in fewer of its cells than this is a drawing (a schematic, a diagram's
# frame), not a table: its labels stay text. On the PDFs measured, tables held text in 0.67
# or more of their cells (empty ones included), drawings in 0.36 or fewer.
MIN_FILLED = 0.5


@dataclass
class Table:
    left: float
    right: float
    top: float
    bottom: float
    rows: list[list[str]] = field(default_factory=list)


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
