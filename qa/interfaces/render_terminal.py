"""Hits, a passage in its context and an evaluation as terminal text (JSON is render_json's). No retrieval logic here."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.text import Text

from ..models import Hit, Passage

PLAIN_MARK = ("[[", "]]")  # marks the answer when the output is not a terminal
NOT_ANSWERED = "No passage seems to answer this question. The nearest ones:"


def citation(passage: Passage) -> str:
    """`report.pdf p.12 ¶3 L40-41 chars 5120-5391`: file, page (paged formats), paragraph, lines, offsets."""
    p = passage
    lines = f"L{p.line_start}" if p.line_start == p.line_end else f"L{p.line_start}-{p.line_end}"
    return f"{short_citation(p.doc_path, p.paragraph, p.page)} {lines} chars {p.char_start}-{p.char_end}"


def short_citation(doc_path: str, paragraph: int, page: int | None) -> str:
    """`report.pdf p.12 ¶3`, or `notes.txt ¶3` for a format without pages."""
    return f"{doc_path}{f' p.{page}' if page is not None else ''} ¶{paragraph}"


def _styled(console: Console) -> bool:
    """Highlight with colour on a terminal; elsewhere mark with PLAIN_MARK."""
    return console.is_terminal and not console.no_color


def print_hits(console: Console, hits: list[Hit], answered: bool = True) -> None:
    """Each hit with its citation and the answer highlighted; dimmed, under a warning, where the
    search said the top hit does not seem to answer (SearchResult.answered)."""
    if not hits:
        console.print("No passage matches that question.")
        return
    if not answered:
        # Still show the nearest passages, dimmed and without a highlighted answer: the reader
        # may know better, but nothing here claims to answer.
        console.print(Text(NOT_ANSWERED, style="bold yellow"))
        console.print()
    for hit in hits:
        p = hit.passage
        header = Text(f"[{hit.rank}] ", style="bold cyan" if answered else "dim")
        header.append(citation(p), style="bold" if answered else "dim")
        confidence = "" if hit.confidence is None else f" · confidence {hit.confidence:.2f}"
        recognised = " · text recognised by OCR" if p.ocr else ""
        header.append(f"  id {p.id}  score {hit.score:.3f}{confidence}{recognised}", style="dim")
        console.print(header)
        heading = p.title if not p.section or p.section == p.title else f"{p.title} › {p.section}"
        if heading:
            console.print(Text(f"    {heading}", style="italic" if answered else "dim italic"))
        console.print(_passage_text(console, hit, answered), soft_wrap=True)
        if hit.also_in:
            console.print(Text(f"    also in: {also_in_line(hit)}", style="dim"))
        console.print()


def also_in_line(hit: Hit) -> str:
    """`000.txt ¶1, 001.txt ¶3 (2 passages)`: the copies' places, each named once."""
    labels = [short_citation(s.doc_path, s.paragraph, s.page) for s in hit.also_in]
    counts = Counter(labels)
    return ", ".join(label if counts[label] == 1 else f"{label} ({counts[label]} passages)" for label in dict.fromkeys(labels))


def _passage_text(console: Console, hit: Hit, answered: bool = True) -> Text:
    p = hit.passage
    text = Text("    ")
    if hit.answer is None or not answered:
        text.append(p.text, style="" if answered else "dim")
        return text
    start = hit.answer.char_start - p.char_start
    end = hit.answer.char_end - p.char_start
    text.append(p.text[:start])
    if _styled(console):
        text.append(p.text[start:end], style="bold black on yellow")
    else:
        text.append(PLAIN_MARK[0] + p.text[start:end] + PLAIN_MARK[1])
    text.append(p.text[end:])
    return text


def print_context(console: Console, context) -> None:
    """The cited passages between their neighbours; the cited ones marked, the others dimmed."""
    section = None
    for passages, cited in ((context.before, False), (context.cited, True), (context.after, False)):
        for p in passages:
            if p.section != section and p.section:
                console.print(Text(f"  § {p.section}", style="italic"))
            section = p.section
            marker = Text("▶ " if cited else "  ", style="bold yellow")
            marker.append(citation(p), style="bold" if cited else "dim")
            marker.append(f"  id {p.id}" + (" · text recognised by OCR" if p.ocr else ""), style="dim")
            console.print(marker)
            body = Text(f"    {p.text}", style="" if cited else "dim")
            if cited and not _styled(console):
                body = Text(f"    {PLAIN_MARK[0]}{p.text}{PLAIN_MARK[1]}")
            console.print(body, soft_wrap=True)
            console.print()


def print_eval(console: Console, report, changes: list[str] | None) -> None:
    from rich.table import Table

    table = Table(show_edge=False, pad_edge=False)
    for column in ("query", "question", "rank", "answer", "result"):
        table.add_column(column)
    for r in report.results:
        answer = "" if r.answer_hit is None else ("yes" if r.answer_hit else "no")
        verdict = Text("pass", style="green") if r.passed else Text("FAIL" + (" (must pass)" if r.must_pass else ""), style="bold red")
        question = r.question if len(r.question) <= 30 else r.question[:29] + "…"
        rank = (str(r.rank) if r.rank else "not found") + f" /{r.top_k}"
        if r.unanswerable:
            rank, answer = "unanswerable", ("answered anyway" if r.answered else "declared unanswerable")
        table.add_row(r.id, question, rank, answer, verdict)
    console.print(table)
    m = report.metrics
    n = len(report.results)
    # answer_hit is NaN when no query says what its answer must contain
    answer_hit = "n/a (no query names an answer)" if m["answer_hit"] != m["answer_hit"] else f"{m['answer_hit']:.3f}"
    console.print(
        f"{n} {'query' if n == 1 else 'queries'}, {m['passed']:.1%} passed · "
        + " ".join(f"R@{k} {m[f'recall@{k}']:.3f}" for k in (1, 3, 5, 10))
        + f" · MRR@10 {m['mrr@10']:.3f} · nDCG@10 {m['ndcg@10']:.3f} · answer hit {answer_hit}"
        + ("" if m["unanswerable_correct"] != m["unanswerable_correct"] else f" · unanswerable declared so {m['unanswerable_correct']:.3f}")
    )
    if changes is not None:
        console.print(f"\n{len(changes)} changed since the snapshot" + (":" if changes else "."))
        for line in changes:
            console.print(Text(line))
