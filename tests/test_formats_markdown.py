"""Markdown: pipe tables laid out as labelled rows, every line kept on its line."""

from pathlib import Path

from conftest import cited_passages

from qa.ingest.formats import extract
from qa.ingest.formats.markdown import cells
from qa.ingest.reader import read_file

LAYOUTS_DIR = Path(__file__).parent / "data" / "layouts"


def test_a_pipe_table_row_carries_its_headers_labels_and_keeps_an_empty_cell():
    extracted = extract("markdown", (LAYOUTS_DIR / "tables.md").read_bytes())
    lines = extracted.text.splitlines()
    assert "品种 | 播种期 | 亩产（公斤）" in lines, "the header row is its labels, bold unwrapped"
    assert "品种: 早稻 | 播种期: 3月下旬 | 亩产（公斤）: 450" in lines
    assert "品种: 晚稻 | 播种期: 6月下旬 | 亩产（公斤）: " in lines, "the empty cell keeps its column"
    assert "品种: 杂交稻 | 两系 | 播种期: 5月上旬 | 亩产（公斤）: 600" in lines, "an escaped pipe is the cell's own"
    assert extracted.layout == ("1 table",)


def test_every_line_stays_on_its_line_and_code_is_left_as_written():
    source = (LAYOUTS_DIR / "tables.md").read_text(encoding="utf-8")
    text = extract("markdown", source.encode()).text
    assert len(text.splitlines()) == len(source.splitlines())
    for before, after in zip(source.splitlines(), text.splitlines()):
        if "早稻" in before:
            assert "早稻" in after, "a row is rewritten on its own line"
    assert "| 这不是表格 | 只是代码 |\n|---|---|\n| a | b |" in text, "a table inside a code block is code"
    assert "|:---------|" not in text


def test_passages_cite_the_text_qa_read():
    document = read_file(LAYOUTS_DIR / "tables.md", "tables.md")
    passages = cited_passages(document)
    row = next(p for p in passages if "早稻" in p.text)
    assert document.text[row.char_start : row.char_end] == row.text
    assert row.section == "水稻品种表"


def test_a_heading_underline_under_a_line_with_a_pipe_is_no_table():
    source = "输入 a | b 两个值\n---\n正文。\n\na | b\n--- | ---\n1 | 2\n"
    extracted = extract("markdown", source.encode())
    assert extracted.text.startswith("输入 a | b 两个值\n---\n")
    assert "a: 1 | b: 2" in extracted.text.splitlines(), "a table without outer pipes is a table"
    assert extracted.layout == ("1 table",)


def test_cells_split_at_unescaped_pipes_only():
    assert cells("| a | b \\| c | |") == ["a", "b | c", ""]
    assert cells("a | **b**") == ["a", "b"]
