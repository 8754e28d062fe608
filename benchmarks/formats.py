"""Does reading a format cost retrieval quality? CMRC2018's paragraphs as .txt, PDF, DOCX and HTML.

Writes the same paragraphs four ways — .txt and .html one file per paragraph, .docx one per
paragraph, PDF several paragraphs per file, one per page, set in a real CJK font — indexes
each set and asks all questions. Prints Recall@1, MRR@10 and the top hit's answer hit per
format (a PDF hit counts when it is the right file and page), and the extraction speed
(pages/s and MB/s of input) of each format.

    python benchmarks/formats.py [--data ../shared/bench/cmrc2018_dev.json] [--limit N]

The four indexes are built one after another in one index folder, so a sentence whose
extracted text is the same as in the format before is not embedded again (the embedding
cache); what differs is embedded afresh, so the figures are those of separate builds.
Needs reportlab and python-docx to write the files (not qa's own dependencies).
"""

from __future__ import annotations

import argparse
import html
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))

from cmrc2018 import load_cmrc  # noqa: E402

from qa import build_index, load_index  # noqa: E402
from qa.evaluation import GoldenQuery, contains_any, evaluate  # noqa: E402
from qa.ingest.reader import read_corpus  # noqa: E402

PARAGRAPHS_PER_PDF = 8
CJK_FONT_PATHS = ["/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"]


def write_txt(paragraphs: dict[str, str], out_dir: Path) -> dict[str, dict]:
    for pid, text in paragraphs.items():
        (out_dir / f"{pid}.txt").write_text(text, encoding="utf-8")
    return {pid: {"docs": (f"{pid}.txt",)} for pid in paragraphs}


def write_html(paragraphs: dict[str, str], out_dir: Path) -> dict[str, dict]:
    for pid, text in paragraphs.items():
        page = f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body><nav><a href='/'>首页</a></nav><p>{html.escape(text)}</p><footer>版权所有</footer></body></html>"
        (out_dir / f"{pid}.html").write_text(page, encoding="utf-8")
    return {pid: {"docs": (f"{pid}.html",)} for pid in paragraphs}


def write_docx(paragraphs: dict[str, str], out_dir: Path) -> dict[str, dict]:
    import docx

    for pid, text in paragraphs.items():
        document = docx.Document()
        document.add_paragraph(text)
        document.save(str(out_dir / f"{pid}.docx"))
    return {pid: {"docs": (f"{pid}.docx",)} for pid in paragraphs}


def write_pdf(paragraphs: dict[str, str], out_dir: Path) -> dict[str, dict]:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    font = _register_cjk_font(pdfmetrics)
    style = ParagraphStyle("body", fontName=font, fontSize=10, leading=15, wordWrap="CJK", firstLineIndent=20)
    gold, ids = {}, list(paragraphs)
    for start in range(0, len(ids), PARAGRAPHS_PER_PDF):
        name = f"part{start // PARAGRAPHS_PER_PDF:04d}.pdf"
        story = []
        for page, pid in enumerate(ids[start : start + PARAGRAPHS_PER_PDF], start=1):
            story += [Paragraph(html.escape(paragraphs[pid]), style), PageBreak()]
            gold[pid] = {"docs": (name,), "page": page}
        SimpleDocTemplate(str(out_dir / name), pagesize=A4).build(story[:-1])
    return gold


def _register_cjk_font(pdfmetrics) -> str:
    from reportlab.pdfbase.ttfonts import TTFont

    for path in CJK_FONT_PATHS:
        if Path(path).exists():
            pdfmetrics.registerFont(TTFont("CJK", path, subfontIndex=0))  # embedded, subset: as real PDFs are
            print(f"PDF font: {path}")
            return "CJK"
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    print("PDF font: STSong-Light (no CJK TrueType font found; apt-get install fonts-wqy-microhei)")
    return "STSong-Light"


WRITERS = {"txt": write_txt, "pdf": write_pdf, "docx": write_docx, "html": write_html}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "bench" / "cmrc2018_dev.json")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/qa-bench-formats"))
    parser.add_argument("--formats", default="txt,pdf,docx,html")
    parser.add_argument("--limit", type=int, default=None, help="only the first N paragraphs (and their questions)")
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"error: benchmark data not found: {args.data}")

    paragraphs, queries = load_cmrc(args.data, None)
    if args.limit:
        paragraphs = dict(list(paragraphs.items())[: args.limit])
    # The paragraph each question was written from, by its gold .txt name.
    queries = [q for q in queries if q.docs[0][: -len(".txt")] in paragraphs]
    index_dir = args.work_dir / "index"
    print(f"{len(paragraphs)} paragraphs, {len(queries)} questions\n")
    rows = []
    for name in args.formats.split(","):
        corpus_dir = args.work_dir / name
        shutil.rmtree(corpus_dir, ignore_errors=True)
        corpus_dir.mkdir(parents=True)
        gold = WRITERS[name](paragraphs, corpus_dir)
        size = sum(p.stat().st_size for p in corpus_dir.iterdir())

        started = time.perf_counter()
        documents, skipped = read_corpus(corpus_dir)
        read_seconds = time.perf_counter() - started
        pages = sum(len(d.page_starts) or 1 for d in documents)
        assert not skipped, skipped[:3]

        report = build_index(corpus_dir, index_dir, replace=True)  # one collection, each format in turn
        index = load_index(index_dir)
        located = [GoldenQuery(id=q.id, question=q.question, answer=q.answer, top_k=10, **gold[q.docs[0][: -len(".txt")]]) for q in queries]
        result = evaluate(index, located, mode="hybrid")
        top_hit = sum(bool(r.hits and r.hits[0]["answer"] and contains_any(r.hits[0]["answer"], q.answer)) for r, q in zip(result.results, located))
        m = result.metrics
        rows.append(
            f"| {name} | {len(documents)} | {pages} | {m['recall@1']:.4f} | {m['mrr@10']:.4f} | {top_hit / len(located):.4f} "
            f"| {pages / read_seconds:.0f} | {size / 1e6 / read_seconds:.2f} | {report.embedded} |"
        )
        print(f"{name}: read {read_seconds:.2f} s, index {report.seconds:.1f} s ({report.embedded} sentences embedded)", flush=True)
    print("\n| format | files | pages | R@1 | MRR@10 | answer hit (top hit) | pages/s read | MB/s read | sentences embedded |")
    print("|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
