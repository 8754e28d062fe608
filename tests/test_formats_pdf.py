"""Reading PDF layouts: columns, tables (ruled, and drawn with three rules), headings, contents pages, running headers, quotations, watermarks.

The fixtures in tests/data/layouts/ are written by tests/data/make_layouts.py (reportlab).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import cited_passages
from qa.ingest.formats import pdf, pdf_tables
from qa.ingest.formats.pdf_layout import Line, Page, reading_order
from qa.ingest.reader import read_file

LAYOUTS = Path(__file__).parent / "data" / "layouts"


def extract(name: str):
    return pdf.extract((LAYOUTS / name).read_bytes())


def lines(name: str) -> list[str]:
    return extract(name).text.splitlines()


def headings(extracted) -> list[tuple[str, int]]:
    return [(extracted.text[start:].split("\n", 1)[0], level) for start, level in zip(extracted.heading_starts, extracted.heading_levels)]


@pytest.mark.parametrize("name", sorted(path.name for path in LAYOUTS.glob("*.pdf")))
def test_every_passage_is_the_text_its_offsets_point_at(name):
    document = read_file(LAYOUTS / name, name)
    cited_passages(document)


def test_two_columns_are_read_left_column_first_under_the_full_width_title():
    extracted = extract("two-columns.pdf")
    text = extracted.text
    assert text.index("稻田管理手册") < text.index("摘要：") < text.index("左栏第一段") < text.index("右栏第一段")
    # Each column's wrapped lines are one paragraph, not interleaved with the other column's.
    assert any(line.startswith("左栏第一段") and line.endswith("安排好劳力和农机。") for line in text.splitlines())
    assert any(line.startswith("右栏第一段") and line.endswith("保证每块稻田都能按时灌溉。") for line in text.splitlines())
    assert "1 two-column page" in extracted.layout
    assert extracted.title == "稻田管理手册", "no title in the metadata: the first page's largest type"


def test_a_ruled_table_keeps_its_columns_and_labels_each_row():
    extracted = extract("table.pdf")
    assert "品种: 早稻 | 播种期: 3月下旬 | 亩产（公斤）: 450" in extracted.text.splitlines()
    assert "品种: 晚稻 | 播种期: 6月下旬 | 亩产（公斤）:" in extracted.text.splitlines(), "the empty cell keeps its column"
    assert "1 table" in extracted.layout
    text = extracted.text
    assert text.index("见下表") < text.index("品种: 早稻") < text.index("表中空格"), "the table stands where it is on the page"


def test_a_table_drawn_with_three_rules_labels_each_row_with_its_header():
    extracted = extract("three-line-table.pdf")
    rows = extracted.text.splitlines()
    assert "地区: 江苏 | 播种期: 4月上旬 | 收获期: 7月下旬" in rows
    assert "灌溉方式: 湿润灌溉 | 定额: 每亩320立方米" in rows
    # The running header and footer are ruled off by rules of the table's width: the text
    # between them is no table.
    assert any(row.startswith("左栏第一段") and row.endswith("安排好劳力和农机。") for row in rows)
    assert extracted.text.index("表 1 各地早稻播种期") < extracted.text.index("地区: 江苏") < extracted.text.index("右栏第一段")


def test_a_table_ruled_under_every_row_keeps_its_header_on_every_row():
    rows = extract("three-line-table.pdf").text.splitlines()
    assert "地区: 浙江 | 播种期: 6月下旬 | 收获期: 11月上旬" in rows
    assert "地区: 广西 | 播种期: 7月中旬 | 收获期: 11月下旬" in rows, "no row is taken for a second header"
    assert "晚稻的播种期比早稻晚三个月左右。" in rows


def test_a_table_in_one_column_is_read_before_the_column_beside_it():
    text = extract("three-line-table.pdf").text
    beside = next(row for row in text.splitlines() if row.startswith("右栏这一段"))
    assert beside.endswith("并配套建设量水设施。"), "the right column's lines are one paragraph, no table row among them"
    assert text.index("表 2 灌溉用水定额") < text.index("灌溉方式: 控制灌溉") < text.index("右栏这一段")


def test_a_row_centred_on_the_gutter_between_full_width_rows_stays_whole():
    def line(text, left, right, top):
        return Line(text, left, right, top, top - 9, 9.0, 9.0)

    column = [line(f"左栏第{n}行正文" * 3, 50, 280, 400 - 12 * n) for n in range(8)] + [line(f"右栏第{n}行正文" * 3, 310, 540, 400 - 12 * n) for n in range(8)]
    caption = [line("图 2", 250, 275, 500), line("通栏图片示例", 285, 340, 500)]
    wide = [line("公式跨过两栏的一行", 100, 480, 515), line("Fig. 2 An example graph in one column", 200, 400, 485)]
    blocks, two_column = reading_order(Page(595.0, 842.0, column + caption + wide))
    assert two_column
    texts = [row.text for block in blocks for row in block]
    assert "图 2 通栏图片示例" in texts, "one row, not its halves in two columns"
    assert texts.index("图 2 通栏图片示例") < texts.index("左栏第0行正文左栏第0行正文左栏第0行正文")


def test_three_rules_wider_than_any_page_frame_no_table():
    def line(text, left, right, top):
        return Line(text, left, right, top, top - 9, 9.0, 9.0)

    far = 1e12  # a damaged or hostile file: looking for white space point by point would never end
    rules = [(700.0, 0.0, far), (680.0, 0.0, far), (600.0, 0.0, far)]
    segments = [line("名称", 10, 40, 695), line("数量", far - 40, far - 10, 695), line("螺栓", 10, 40, 660), line("4", far - 40, far - 10, 660)]
    assert pdf_tables.find_open_tables([rules], segments) == []


def test_a_drawing_of_ruled_lines_with_few_labels_is_not_a_table():
    extracted = extract("drawing.pdf")
    assert "table" not in " ".join(extracted.layout)
    assert "|" not in extracted.text, "no rows of empty cells"
    assert "下图是控制板的电源接线示意。" in extracted.text.splitlines()
    assert "接线完成后先用万用表检查电源与地之间没有短路。" in extracted.text


def test_a_bold_body_line_is_not_a_heading():
    extracted = extract("bold-rule.pdf")
    assert headings(extracted) == [("第一章 安全规定", 1)]
    assert "所有人员必须佩戴安全帽" in extracted.text.splitlines(), "the bold rule is its own paragraph"


def test_a_formula_displayed_in_large_type_is_not_a_heading():
    extracted = extract("formula.pdf")
    assert headings(extracted) == [("第二节 用水计算", 1)]
    assert "f(x) = 1 + x × [ g(x) + h(x) ]" in extracted.text.splitlines()


def test_formulas_are_told_from_headings_with_symbols():
    for formula in ("√ a + b 2 x=0 = a + b", "1 + x × [ f(x) + g(x) ] c", "D = 1 − Vin", "dt", "1260 315 1260 21"):
        assert pdf._is_formula(formula), formula
    for title in ("C++ 程序设计", "2.1 分类说明", "A + B 测试方法", "附录 最小示例", "Scope"):
        assert not pdf._is_formula(title), title


def test_type_set_at_size_one_and_scaled_by_its_matrix_has_its_drawn_size():
    extracted = extract("scaled-type.pdf")
    assert headings(extracted) == [("Sizing the inductor", 1)], "found by its size"
    body = extracted.text.splitlines()[1]
    assert body.startswith("The converter takes") and body.endswith("the switching frequency."), "wrapped lines make one paragraph"


def _line(text: str, size: float) -> Line:
    return Line(text=text, left=57, right=300, top=710, bottom=700, size=size, first_word=20)


def test_body_text_in_larger_type_is_not_a_heading():
    assert pdf._heading_kind(_line("第二节 用水计算", 14.0), 12.0) == "size"
    assert pdf._heading_kind(_line("多项精芯公司之专利设计使打印更均匀、运行更平稳；机芯具有体积小", 14.0), 12.0) is None
    assert pdf._heading_kind(_line("◆易装纸", 14.0), 12.0) is None


def test_a_fractions_line_beside_a_formula_is_not_a_heading():
    block = [_line("L > Vin 2 × ( Vout Vin − ) × 1", 12.0), _line("Fpwm Vout 2 Iripple", 12.0), _line("The chosen value is L = 82 µH.", 10.0)]
    assert pdf._heading_kind(block[1], 10.0) == "size" and pdf._in_formula(block, 1)
    assert not pdf._in_formula([_line("L = 1", 12.0), _line("附录 最小示例", 12.0)], 1), "a heading in Chinese after a formula stays"


def test_a_number_with_a_chinese_enumeration_comma_makes_a_section_heading():
    assert pdf._heading_kind(_line("1.1、 微型热敏打印机芯", 10.5), 10.5) == "number"
    assert pdf._heading_kind(_line("3.2、最大允许参数", 10.5), 10.5) == "number"
    assert pdf._heading_kind(_line("1、易装纸，体积小", 10.5), 10.5) is None  # a list item


def test_a_contents_page_with_dot_leaders_is_left_out():
    extracted = extract("toc.pdf")
    assert ". ." not in extracted.text and "目  录" not in extracted.text and "1.1 适用范围" not in extracted.text
    assert extracted.text.count("第一章 总则") == 1, "the chapter heading, not its contents entry"
    assert "TOC on page 1 left out" in extracted.layout
    assert [title for title, _ in headings(extracted)] == ["第一章 总则", "第二章 种植要求"]


def test_a_running_header_that_changes_by_section_and_its_footer_are_left_out():
    extracted = extract("running-header.pdf")
    assert "水稻种植规程" not in extracted.text and "V1.2" not in extracted.text
    assert extracted.text.count("第二章 气候") == 1
    # Body text on the pages without a chapter heading stays.
    assert "耕层深度一般在十五到二十厘米" in extracted.text and "年平均降水量约一千毫米" in extracted.text
    assert "running headers, footers and page numbers left out" in extracted.layout


def test_a_running_header_set_close_to_the_text_is_left_out_when_its_words_recur():
    extracted = extract("tight-header.pdf")
    assert "规格书" not in extracted.text
    assert extracted.text.splitlines()[0].startswith("左栏第一段") and extracted.text.splitlines()[0].endswith("劳力和农机。")


def test_an_indented_quotation_is_one_paragraph():
    found = lines("quotation.pdf")
    assert found[1].startswith("孔子曰") and found[1].endswith("死而后已。"), found
    assert found[2] == "以上引文出自《论语》和《出师表》。"


def test_a_diagonal_watermark_is_left_out():
    extracted = extract("watermark.pdf")
    assert "内部资料" not in extracted.text and "请勿外传" not in extracted.text
    assert extracted.text.splitlines() == ["灌溉用水取自射阳河上游，水质符合农田灌溉标准。", "收获后的稻谷应在两天内晒干入库。"]
    assert "watermark left out on 2 pages" in extracted.layout


def test_contents_lines_and_page_numbers_are_recognised():
    from qa.ingest.formats.pdf_layout import PAGE_NUMBER, is_toc_line

    assert is_toc_line("1.2 安装 ........ 5") and is_toc_line("Setting the timer . . . . . . 14")
    assert is_toc_line("1、简介 ................ - 3 -")
    assert not is_toc_line("价格是 5.00 元") and not is_toc_line("见第 5 页。")
    for number in ("5/34", "–3/11–", "- 2 -", "第 3 页", "Page 4 of 10"):
        assert PAGE_NUMBER.match(number), number


def test_a_numbered_heading_may_list_its_subjects():
    assert pdf._heading_kind(_line("6.2.5 杂质、不完善粒含量检验", 10.5), 10.5) == "number"


def test_a_metadata_title_left_as_a_hex_string_is_decoded():
    word = "4D6963726F736F667420576F7264202D20" + "CEA2D0CDB4F2D3A1BBFA" + "2E646F63"  # "Microsoft Word - 微型打印机.doc" in GBK
    assert pdf._decoded_title(f"<{word}>") == "Microsoft Word - 微型打印机.doc"
    assert pdf._decoded_title("<FEFF5C04963359277C73>") == "射阳大米"  # UTF-16 with its byte order mark
    assert pdf._decoded_title("<FEFF 5C04 9633 5927 7C73>") == "射阳大米"
    assert pdf._decoded_title("射阳大米质量标准") == "射阳大米质量标准"
