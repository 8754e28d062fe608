"""OCR: character error rate and speed on rendered pages, and questions asked of scans.

    python benchmarks/ocr.py [--pages 24] [--font FONT] [--tesseract]

Pages: CMRC2018 paragraphs (../shared/bench), each drawn onto an A5 page image at 150 dpi with
a CJK font (Debian: `apt-get install fonts-wqy-microhei`), as a scanner makes them: clean,
then degraded (blurred, noisy, turned 2°, saved as JPEG at quality 40). Each image is read as
qa reads an image file (qa.ingest.formats.image, the `ocr` extra's RapidOCR), with the OCR
cache off, and set beside its paragraph:

- character error rate: edit distance / characters, both without spaces and line breaks;
- speed: pages a second on this machine (OCR uses the cores it has).

With `--tesseract`, Debian's Tesseract 5 (`apt-get install tesseract-ocr tesseract-ocr-chi-sim`)
reads the same images, for comparison (qa does not ship it).

Questions: the clean pages, saved as image-only PDFs, are indexed beside the paragraphs as
.txt files (two collections), and the paragraphs' questions asked of each: Recall@1 of the
scans against that of the text.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from PIL import Image, ImageDraw, ImageFilter, ImageFont  # noqa: E402  (Pillow comes with the ocr extra)

DPI = 150
PAGE_PX = (874, 1240)  # A5 at 150 dpi
MARGIN = 90
SIZE = 30  # about 14 pt at 150 dpi


def font_path(given: str | None) -> str:
    if given:
        return given
    found = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True).stdout.split()
    if not found:
        sys.exit("no CJK font found: apt-get install fonts-wqy-microhei, or pass --font FILE")
    return found[0].rstrip(":")


class Page:
    """A page image as a file holds it, and the text drawn on it (what a perfect reading gives)."""

    def __init__(self, image: Image.Image, data: bytes, shown: str):
        self.image, self.data, self.shown = image, data, shown


def render(text: str, font) -> Page:
    """The paragraph typeset on a page (PNG): lines wrapped to the text width, a two-character
    indent; what does not fit the page is left off, and out of the reference too."""
    image = Image.new("L", PAGE_PX, 255)
    draw = ImageDraw.Draw(image)
    width = PAGE_PX[0] - 2 * MARGIN
    lines, line = [], ""
    for char in text:
        room = width - (2 * SIZE if not lines else 0)
        if line and draw.textlength(line + char, font=font) > room:
            lines.append(line)
            line = ""
        line += char
    lines.append(line)
    drawn, y = [], MARGIN
    for number, line in enumerate(lines):
        if y > PAGE_PX[1] - MARGIN - SIZE:
            break
        draw.text((MARGIN + (2 * SIZE if number == 0 else 0), y), line, font=font, fill=0)
        drawn.append(line)
        y += int(SIZE * 1.7)
    return Page(image, _encoded(image, "PNG"), "".join(drawn))


def degrade(page: Page, seed: int) -> Page:
    """Blur, noise, a 2° turn and JPEG at quality 40: a poor scan or a phone photo of a page."""
    import numpy as np

    blurred = page.image.filter(ImageFilter.GaussianBlur(0.8))
    pixels = np.asarray(blurred, dtype=np.float32) + np.random.default_rng(seed).normal(0, 18, blurred.size[::-1])
    noisy = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    turned = noisy.rotate(2, resample=Image.BICUBIC, expand=False, fillcolor=255)
    return Page(turned, _encoded(turned, "JPEG", quality=40), page.shown)


def _encoded(image: Image.Image, kind: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, kind, **options)
    return out.getvalue()


def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i]
        for j, y in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def cer(reference: str, read: str) -> float:
    squeeze = lambda text: "".join(text.split())  # noqa: E731
    reference, read = squeeze(reference), squeeze(read)
    return edit_distance(reference, read) / max(len(reference), 1)


def read_with_qa(data: bytes) -> str:
    from qa.ingest.formats import image

    try:
        return image.extract(data).text
    except Exception as exc:  # an image read as having no text counts as all of it lost
        print(f"  qa: {exc}", file=sys.stderr)
        return ""


def read_with_tesseract(data: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".img") as handle:
        handle.write(data)
        handle.flush()
        out = subprocess.run(["tesseract", handle.name, "stdout", "-l", "chi_sim", "--psm", "6"], capture_output=True, text=True)
    return out.stdout


def measure(name: str, read, pages: list[Page]) -> dict[str, float]:
    rates, started = [], time.perf_counter()
    for page in pages:
        rates.append(cer(page.shown, read(page.data)))
    seconds = time.perf_counter() - started
    return {"reader": name, "cer": statistics.mean(rates), "worst": max(rates), "pages_per_s": len(pages) / seconds}


def recall_at_1(pages: dict[str, Page], queries, work_dir: Path) -> tuple[float, float]:
    from qa import build_index, load_index

    text_dir, scan_dir = work_dir / "text", work_dir / "scans"
    for folder in (text_dir, scan_dir):
        folder.mkdir(parents=True, exist_ok=True)
    for pid, page in pages.items():
        (text_dir / f"{pid}.txt").write_text(page.shown, encoding="utf-8")
        page.image.convert("RGB").save(scan_dir / f"{pid}.pdf", "PDF", resolution=DPI)
    found = []
    for folder in (text_dir, scan_dir):
        index_dir = work_dir / f"{folder.name}-index"
        build_index(folder, index_dir)
        index = load_index(index_dir)
        hits = [index.search(q.question, top_k=1) for q in queries]
        found.append(sum(bool(h) and h[0].passage.doc_path.rsplit(".", 1)[0] == q.docs[0].rsplit(".", 1)[0] for h, q in zip(hits, queries)) / len(queries))
    return found[0], found[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "bench" / "cmrc2018_dev.json")
    parser.add_argument("--pages", type=int, default=24, help="paragraphs drawn as pages (every n-th of the dev set)")
    parser.add_argument("--font", default=None)
    parser.add_argument("--tesseract", action="store_true", help="also read the pages with Tesseract (chi_sim)")
    args = parser.parse_args()
    from cmrc2018 import load_cmrc

    from qa.ingest.formats.ocr import unavailable

    if why := unavailable():
        sys.exit(f"OCR is not available: {why}")
    os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="qa-ocr-bench-")  # every page read, none from the cache
    paragraphs, queries = load_cmrc(args.data, None)
    step = max(len(paragraphs) // args.pages, 1)
    chosen = list(paragraphs)[::step][: args.pages]
    font = ImageFont.truetype(font_path(args.font), SIZE)
    clean = {pid: render(paragraphs[pid], font) for pid in chosen}
    degraded = {pid: degrade(page, n) for n, (pid, page) in enumerate(clean.items())}
    print(f"{len(chosen)} CMRC2018 paragraphs as A5 pages at {DPI} dpi ({sum(len(p.shown) for p in clean.values()) / len(chosen):.0f} characters a page); {os.cpu_count()} cores")
    rows = []
    for kind, kept in (("clean", clean), ("degraded", degraded)):
        pages = list(kept.values())
        rows.append({"pages": kind, **measure("qa (RapidOCR)", read_with_qa, pages)})
        if args.tesseract:
            rows.append({"pages": kind, **measure("Tesseract 5 chi_sim", read_with_tesseract, pages)})
    print("\n| pages | reader | character error rate | worst page | pages/s |\n|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['pages']} | {row['reader']} | {row['cer']:.4f} | {row['worst']:.4f} | {row['pages_per_s']:.2f} |")
    # The questions whose answer is on the page (a paragraph longer than a page loses its end).
    asked = [q for q in queries if (pid := q.docs[0].rsplit(".", 1)[0]) in clean and q.answer and q.answer[0] in clean[pid].shown]
    with tempfile.TemporaryDirectory(prefix="qa-ocr-bench-") as work_dir:
        text_r1, scan_r1 = recall_at_1(clean, asked, Path(work_dir))
    print(f"\n{len(asked)} questions about those paragraphs, hybrid Recall@1: text {text_r1:.4f}, clean scans (image-only PDFs) {scan_r1:.4f} ({scan_r1 - text_r1:+.4f})")


if __name__ == "__main__":
    main()
