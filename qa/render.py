"""Turning hits into terminal text or JSON. No retrieval logic here."""

from __future__ import annotations

import json

from rich.console import Console
from rich.text import Text

from .models import Hit, Passage

PLAIN_MARK = ("[[", "]]")  # marks the answer when the output is not a terminal


def hits_json(question: str, hits: list[Hit], mode: str) -> str:
    return json.dumps({"question": question, "mode": mode, "hits": [hit.to_dict() for hit in hits]}, ensure_ascii=False, indent=2)


def citation(passage: Passage) -> str:
    """`report.pdf p.12 ¶3 L40-41 chars 5120-5391`: file, page (paged formats), paragraph, lines, offsets."""
    p = passage
    page = f" p.{p.page}" if p.page is not None else ""
    lines = f"L{p.line_start}" if p.line_start == p.line_end else f"L{p.line_start}-{p.line_end}"
    return f"{p.doc_path}{page} ¶{p.paragraph} {lines} chars {p.char_start}-{p.char_end}"


def short_citation(doc_path: str, paragraph: int, page: int | None) -> str:
    return f"{doc_path}{f' p.{page}' if page is not None else ''} ¶{paragraph}"


def print_hits(console: Console, hits: list[Hit]) -> None:
    if not hits:
        console.print("No passage matches that question.")
        return
    for hit in hits:
        p = hit.passage
        header = Text(f"[{hit.rank}] ", style="bold cyan")
        header.append(citation(p), style="bold")
        header.append(f"  id {p.id}  score {hit.score:.3f}", style="dim")
        console.print(header)
        heading = p.title if not p.section or p.section == p.title else f"{p.title} › {p.section}"
        if heading:
            console.print(Text(f"    {heading}", style="italic"))
        console.print(_passage_text(console, hit), soft_wrap=True)
        if hit.also_in:
            others = ", ".join(short_citation(s.doc_path, s.paragraph, s.page) for s in hit.also_in)
            console.print(Text(f"    also in: {others}", style="dim"))
        console.print()


def _passage_text(console: Console, hit: Hit) -> Text:
    p = hit.passage
    text = Text("    ")
    if hit.answer is None:
        text.append(p.text)
        return text
    start = hit.answer.char_start - p.char_start
    end = hit.answer.char_end - p.char_start
    text.append(p.text[:start])
    if console.is_terminal and not console.no_color:
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
            marker.append(f"  id {p.id}", style="dim")
            console.print(marker)
            body = Text(f"    {p.text}", style="" if cited else "dim")
            if cited and not (console.is_terminal and not console.no_color):
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
        table.add_row(r.id, question, (str(r.rank) if r.rank else "not found") + f" /{r.top_k}", answer, verdict)
    console.print(table)
    m = report.metrics
    n = len(report.results)
    # answer_hit is NaN when no query says what its answer must contain
    answer_hit = "n/a (no query names an answer)" if m["answer_hit"] != m["answer_hit"] else f"{m['answer_hit']:.3f}"
    console.print(
        f"{n} {'query' if n == 1 else 'queries'}, {m['passed']:.1%} passed · "
        + " ".join(f"R@{k} {m[f'recall@{k}']:.3f}" for k in (1, 3, 5, 10))
        + f" · MRR@10 {m['mrr@10']:.3f} · nDCG@10 {m['ndcg@10']:.3f} · answer hit {answer_hit}"
    )
    if changes is not None:
        console.print(f"\n{len(changes)} changed since the snapshot" + (":" if changes else "."))
        for line in changes:
            console.print(Text(line))
