import re

from hypothesis import given, settings
from hypothesis import strategies as st

from qa.ingest.chunker import MAX_SENTENCE_CHARS, TARGET_CHARS, _TRIM, dense_units, sentence_spans, split_document
from qa.models import Document
from qa.ingest.reader import read_corpus

from conftest import SEED_CORPUS_DIR


def seed_passages():
    documents, _ = read_corpus(SEED_CORPUS_DIR)
    return documents, {d.path: split_document(d) for d in documents}


def test_every_seed_passage_is_exactly_its_slice_of_the_file():
    documents, passages = seed_passages()
    assert len(documents) == 5
    for document in documents:
        raw = (SEED_CORPUS_DIR / document.path).read_text(encoding="utf-8")
        for p in passages[document.path]:
            assert raw[p.char_start : p.char_end] == p.text
            assert p.text == p.text.strip(_TRIM)
            lines = raw.splitlines()
            assert p.text.splitlines()[0] in lines[p.line_start - 1]
            assert p.line_end - p.line_start == p.text.count("\n")


def test_single_line_documents_become_several_passages_of_bounded_length():
    _, passages = seed_passages()
    for path in ("000_a579f5ec6a3faa96.txt", "003_750903580433f991.txt"):
        assert len(passages[path]) >= 5
        assert all(len(p.text) <= TARGET_CHARS + MAX_SENTENCE_CHARS for p in passages[path])


def test_passages_end_at_sentence_ends():
    _, passages = seed_passages()
    for p in passages["003_750903580433f991.txt"][:-1]:
        assert p.text[-1] in "。！？；!?…”’」』）)】》", p.text[-10:]


def test_markdown_headings_are_sections_and_repeated_heading_counts_once():
    _, passages = seed_passages()
    md = passages["004_6555140d0db160fb.txt"]
    assert not any(p.text.startswith("#") for p in md)
    assert md[0].title == "中央网信办：阔步迈向网络强国"
    assert md[0].paragraph == 1, "the repeated heading is not a paragraph"
    assert md[0].section == "中央网信办：阔步迈向网络强国"
    sections = {p.section for p in md}
    assert "一、高瞻远瞩、举旗定向，网络强国战略目标鲜明指引信息时代强国之路" in sections, "a numbered heading under the title heading"


def test_ids_are_stable_and_unique():
    _, first = seed_passages()
    _, second = seed_passages()
    ids = [p.id for ps in first.values() for p in ps]
    assert ids == [p.id for ps in second.values() for p in ps]
    assert len(set(ids)) == len(ids)


LONG = "这是一段足够长的正文，它独自成为一个段落，不和邻居合并，因为它已经说了一件完整的事情，长度也超过了下限。"


def test_id_survives_an_edit_elsewhere_in_the_file():
    before = split_document(Document("a.txt", "第一段内容在这里。" + LONG + "\n第二段内容也在这里。" + LONG, "utf-8"))
    after = split_document(Document("a.txt", "第一段内容改过了。" + LONG + "\n第二段内容也在这里。" + LONG, "utf-8"))
    assert before[1].id == after[1].id
    assert before[0].id != after[0].id


def test_sentence_spans_keep_closing_quotes_and_trim_separators():
    text = "他说：“好。”/然后/走了！/最后"
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == ["他说：“好。”", "然后/走了！", "最后"]


def test_dense_units_join_very_short_sentences():
    doc = Document("a.txt", "他强调：要加快推进网络强国建设工作。好。", "utf-8")
    (passage,) = split_document(doc)
    units = dense_units(passage)
    assert len(units) == 1
    assert doc.text[units[0][0] : units[0][1]] == passage.text


def test_crlf_and_lone_cr_line_ends():
    text = f"第一段落的文字。{LONG}\r\n\r\n第二段落的文字。{LONG}\r第三段落的文字。{LONG}"
    passages = split_document(Document("a.txt", text, "utf-8"))
    assert [p.text[:8] for p in passages] == ["第一段落的文字。", "第二段落的文字。", "第三段落的文字。"]
    assert [p.line_start for p in passages] == [1, 3, 4]
    assert [p.paragraph for p in passages] == [1, 2, 3]


def test_short_paragraphs_join_their_neighbours_within_a_section():
    text = "# 一章\n下列情形之一的：\na) 甲；\nb) 乙；\n" + LONG + "\n# 二章\n短句。\n"
    passages = split_document(Document("a.md", text, "utf-8"))
    assert [p.text for p in passages] == ["一章\n下列情形之一的：\na) 甲；\nb) 乙；\n" + LONG, "二章\n短句。"], "a heading opens its section"
    assert [(p.section, p.paragraph, p.line_start, p.line_end) for p in passages] == [("一章", 1, 1, 5), ("二章", 5, 6, 7)]


def test_paragraphs_on_two_pages_stay_apart():
    text = "第一页的短句。\n第二页的短句。\n"
    passages = split_document(Document("a.pdf", text, format="pdf", page_starts=(0, 8)))
    assert [(p.text, p.page) for p in passages] == [("第一页的短句。", 1), ("第二页的短句。", 2)]


def test_a_list_announced_by_its_lead_in_goes_on_across_a_page_break():
    text = "有下列情况之一的应进行型式检验：\na）新产品投产；\nb）产品停产一年以上；\nc）连续生产三年。\n第二页的另一段话。\n"
    passages = split_document(Document("a.pdf", text, format="pdf", page_starts=(0, text.index("b）"))))
    assert [(p.page, p.text) for p in passages] == [(1, text[: text.index("\n第二页")]), (2, "第二页的另一段话。")]


def test_a_lead_in_keeps_the_list_it_announces_even_when_both_are_long_enough_to_stand_alone():
    lead_in = "2.1.1 Setting constants\nThere are three constants defined in the header file of the firmware:"
    item = "1. DEBUG: this constant is used to enable timer D and to make the converter's trigger visible."
    text = f"{lead_in}\n{item}\nThe firmware then starts the converter and its control loop at the frequency chosen above."
    passages = split_document(Document("a.pdf", text, format="pdf", page_starts=(0,)))
    assert passages[0].text == f"{lead_in}\n{item}"
    assert passages[1].text.startswith("The firmware"), "a paragraph after one that ends no lead-in stands alone"


def test_an_items_number_ends_no_sentence():
    text = "There are 3 constants:\n1. DEBUG: used for debug.\n2. RANGE_ON: used. It works."
    found = [text[a:b] for a, b in sentence_spans(text, lines_are_paragraphs=True)]
    assert found == ["There are 3 constants:", "1. DEBUG: used for debug.", "2. RANGE_ON: used.", "It works."]


def test_code_is_grouped_and_a_passage_without_words_is_left_out():
    code = "\n".join(["```python", "# a comment, not a heading", "def f(x):", "    return {", "        'a': x,", "    }", "```"])
    text = f"# Code\nSee below.\n{code}\n# Next\n}}\n"
    passages = split_document(Document("a.md", text, "utf-8"))
    assert len(passages) == 1, [p.text for p in passages]
    assert passages[0].text.startswith("Code\nSee below.\n```python\n# a comment")
    assert passages[0].section == "Code"


def test_a_long_code_block_is_cut_at_line_ends_only():
    body = [f"    total_{i} = compute(a, b, c)  # step {i}, then the next" for i in range(30)]
    code = "\n".join(["```python", "def run(a, b, c):", *body, "```"])
    text = f"Run it as below.\n{code}\n"
    passages = split_document(Document("a.md", text, "utf-8"))
    assert len(passages) > 1 and all(len(p.text) <= TARGET_CHARS for p in passages)
    lines = set(text.splitlines())
    for passage in passages:
        assert all(line in lines for line in passage.text.splitlines()), "no line of code is cut in two"
    assert "".join(p.text for p in passages).count("total_") == 30


def test_heading_path_keeps_the_levels_above_a_passage():
    text = "第三章 国家机构\n第一节 全国人民代表大会\n第五十七条 全国人民代表大会是最高国家权力机关。\n第二节 中华人民共和国主席\n第七十九条 主席、副主席由全国人民代表大会选举。\n"
    passages = split_document(Document("a.txt", text, "utf-8"))
    assert [p.section for p in passages] == ["第三章 国家机构 › 第一节 全国人民代表大会", "第三章 国家机构 › 第二节 中华人民共和国主席"]


def test_a_row_of_numbered_cells_is_not_a_heading():
    text = "表 3 理化指标\n项目 水分/% 直链淀粉含量/%\n一、四季度 二、三季度\n指标 15.5 14.5 15.0~20.0\n一、总则\n本标准适用于大米。\n"
    passages = split_document(Document("a.txt", text, "utf-8"))
    assert [p.section for p in passages] == ["", "一、总则"]
    assert "二、三季度" in passages[0].text and "14.5" in passages[0].text, "the table's rows stay together"


def test_extracted_heading_levels_make_the_path():
    text = "总则\n适用范围\n本标准适用于射阳大米。\n要求\n水分不超过百分之十五。\n"
    doc = Document("a.docx", text, format="docx", title="射阳大米", heading_starts=(0, 3, 20), heading_levels=(1, 2, 1))
    assert [p.section for p in split_document(doc)] == ["总则 › 适用范围", "要求"]


pieces = st.sampled_from(list("网络安全信息化。，！？；/ \n\r#、“”abc1") + ["# 标题\n", "一、小节\n", "。”", "\r\n"])
texts = st.lists(pieces, max_size=600).map("".join)


@settings(max_examples=150, deadline=None)
@given(texts)
def test_property_offsets_and_coverage(text):
    passages = split_document(Document("x.md", text, "utf-8"))
    covered = [0] * len(text)
    for p in passages:
        assert text[p.char_start : p.char_end] == p.text
        for i in range(p.char_start, p.char_end):
            covered[i] += 1
    heading_chars = set()
    for match in re.finditer(r"[^\r\n]*", text):
        line = match.group()
        if re.match(r"^\s{0,3}#{1,6}\s+\S", line) or line.strip().startswith("一、"):
            heading_chars.update(range(match.start(), match.end()))
    for i, ch in enumerate(text):
        if ch in _TRIM or not (ch.isalnum() and ch != "_"):
            continue  # a line of punctuation alone is left out
        assert covered[i] + (i in heading_chars) >= 1, f"character {i} ({ch!r}) is in no passage"
        assert covered[i] <= 1, f"character {i} is in two passages"
    assert [p.id for p in passages] == [p.id for p in split_document(Document("x.md", text, "utf-8"))]


def test_a_heading_repeated_below_itself_is_one_step_of_the_path():
    text = "第一章 总纲\n第一章　总　纲\n第一条 中华人民共和国是工人阶级领导的社会主义国家。\n"
    doc = Document("a.epub", text, format="epub", title="宪法", heading_starts=(0,), heading_levels=(1,))
    assert [p.section for p in split_document(doc)] == ["第一章　总　纲"]


def test_in_extracted_text_each_line_ends_a_sentence_but_hand_wrapped_latin_text_goes_on():
    text = "5.2.6 水源\n来自洪泽湖灌溉渠，水质符合一级\n寄存器: SBCR | 默认值: 44h\nThe converter runs at\n250 kHz and the inductor\nis 82 uH."
    lines = [text[a:b] for a, b in sentence_spans(text, lines_are_paragraphs=True)]
    assert lines == ["5.2.6 水源", "来自洪泽湖灌溉渠，水质符合一级", "寄存器: SBCR | 默认值: 44h", "The converter runs at\n250 kHz and the inductor\nis 82 uH."]
    # A text file may wrap its lines anywhere: there a line break ends nothing.
    assert sentence_spans(text) == [(0, len(text))]


def test_a_table_row_is_embedded_after_its_section_and_a_sentence_alone():
    from qa.ingest.chunker import embedding_text
    from qa.ingest.normalize import normalize
    from qa.models import Passage

    passage = Passage(id="x", doc_path="readme.md", title="ChatGLM2-6B", section="评测结果 › C-Eval", paragraph=3, line_start=9, line_end=9, char_start=0, char_end=10, text="")
    row = "Model: ChatGLM2-6B (base) | Average: 51.7 | STEM: 48.6"
    assert embedding_text(passage, row) == f"{normalize(passage.section)}: {row}" and "c-eval" in embedding_text(passage, row)
    assert embedding_text(passage, "我们选取了部分中英文典型数据集进行了评测。") == "我们选取了部分中英文典型数据集进行了评测。"
    assert embedding_text(passage, "注意: 这一句 | 不是表格") == "注意: 这一句 | 不是表格", "one label is not a row of cells"


def test_a_table_row_passage_is_read_under_its_caption():
    rows = [f"品种: 早稻{n}号 | 播种期: 3月下旬 | 收获期: 7月中旬 | 亩产（公斤）: 45{n} | 适宜地区: 长江中下游各省" for n in range(4)]
    text = "\n".join(["1 品种", "各品种的农时见表 1。", "表 1 早稻品种", "品种 | 播种期 | 收获期 | 亩产（公斤） | 适宜地区", *rows, "表后的说明文字。"])
    doc = Document("a.pdf", text, format="pdf", heading_starts=(0,), heading_levels=(1,))
    sections = {p.text.split("\n", 1)[0]: p.section for p in split_document(doc)}
    assert sections[rows[2]] == "1 品种 › 表 1 早稻品种"
    assert sections[rows[3]] == "1 品种 › 表 1 早稻品种", "found again further down the table"
    assert not any(section.endswith("早稻品种") for first, section in sections.items() if first.startswith("1 品种"))
