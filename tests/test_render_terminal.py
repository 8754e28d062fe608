from qa.models import Hit, Passage, Source
from qa.interfaces.render_terminal import also_in_line


def source(doc_path, paragraph, start):
    return Source(passage_id=f"{doc_path}-{start}", doc_path=doc_path, paragraph=paragraph, line_start=paragraph, line_end=paragraph, char_start=start, char_end=start + 10)


def test_also_in_names_each_place_once_and_counts_passages_that_share_it():
    passage = Passage(id="p", doc_path="000.txt", title="", section="", paragraph=1, line_start=1, line_end=1, char_start=0, char_end=4, text="同一内容")
    hit = Hit(passage=passage, score=1.0, rank=1, also_in=(source("001.txt", 8, 0), source("002.txt", 3, 0), source("001.txt", 8, 40)))
    assert also_in_line(hit) == "001.txt ¶8 (2 passages), 002.txt ¶3"


def test_a_hit_read_by_ocr_says_so():
    from rich.console import Console

    from qa.models import Hit, Passage
    from qa.interfaces.render_terminal import print_hits

    passage = Passage("p1", "scan.pdf", "扫描件", "", 1, 1, 1, 0, 8, "大熊猫吃竹子。", page=1, ocr=True)
    console = Console(record=True, width=200)
    print_hits(console, [Hit(passage=passage, score=0.9, rank=1, confidence=0.9)])
    assert "text recognised by OCR" in console.export_text()

    from qa.citations import PassageContext
    from qa.interfaces.render_terminal import print_context

    shown = Console(record=True, width=200)
    print_context(shown, PassageContext(doc_path="scan.pdf", before=(), cited=(passage,), after=()))
    assert "text recognised by OCR" in shown.export_text(), "qa show says so too"
