"""Reading RTF: the declared code page, \\uN characters, tables with their header's labels.

The fixture tests/data/documents/allowance.rtf is written by tests/data/make_documents.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import cited_passages
from qa.ingest.formats import UnreadableFile, detect_format, rtf
from qa.ingest.reader import read_file

ALLOWANCE = Path(__file__).parent / "data" / "documents" / "allowance.rtf"


def test_an_rtf_file_is_read_in_its_code_page_with_its_table_rows_labelled():
    extracted = rtf.extract(ALLOWANCE.read_bytes())
    lines = extracted.text.splitlines()
    assert lines[0] == "关于发放高温津贴的通知", "\\'xx escapes read as GBK, the code page it declares"
    assert "地区: 北京 | 高温津贴（元/月）: 180" in lines
    assert "用人单位不得以防暑降温饮料充抵高温津贴。" in lines, "\\uN characters"
    assert [extracted.text[start:].split("\n", 1)[0] for start in extracted.heading_starts] == ["1 发放标准", "2 监督检查"]
    assert extracted.layout == ("1 table",)


def test_an_rtf_file_is_indexed_with_exact_citations():
    document = read_file(ALLOWANCE, "allowance.rtf")
    assert document.format == "rtf"
    passages = cited_passages(document)
    assert any("上海 | 高温津贴（元/月）: 300" in passage.text for passage in passages)


def test_raw_bytes_of_the_declared_code_page_are_read_as_such():
    data = b"{\\rtf1\\ansi\\ansicpg936 " + "原始字节也能读出。".encode("gbk") + b"\\par}"
    assert rtf.extract(data).text.strip() == "原始字节也能读出。"


def test_a_bar_in_a_cell_does_not_split_it():
    data = b"{\\rtf1\\ansi \\trowd\\cellx1000\\cellx2000 \\pard\\intbl Name\\cell \\pard\\intbl Range\\cell \\row\n\\trowd\\cellx1000\\cellx2000 \\pard\\intbl gain\\cell \\pard\\intbl 1|10\\cell \\row\n}"
    assert "Name: gain | Range: 1|10" in rtf.extract(data).text.splitlines()


def test_a_paragraph_between_two_tables_is_no_cell_of_either():
    def row(*cells: str) -> bytes:
        return b"\\trowd\\cellx1000\\cellx2000 " + b"".join(b"\\pard\\intbl " + cell.encode() + b"\\cell " for cell in cells) + b"\\row\n"

    data = b"{\\rtf1\\ansi " + row("Part", "Qty") + row("bolt", "4") + b"\\pard Table 2 Spare parts\\par\n" + row("Part", "Qty") + row("nut", "6") + b"}"
    lines = rtf.extract(data).text.splitlines()
    assert lines == ["Part | Qty", "Part: bolt | Qty: 4", "Table 2 Spare parts", "Part | Qty", "Part: nut | Qty: 6"]


def test_rtf_saved_under_a_doc_name_is_read(tmp_path):
    (tmp_path / "old.doc").write_bytes(ALLOWANCE.read_bytes())
    assert detect_format("old.doc", ALLOWANCE.read_bytes()) == "rtf"
    assert "各地标准如下表。" in read_file(tmp_path / "old.doc", "old.doc").text


def test_an_rtf_file_without_text_is_named_as_such():
    with pytest.raises(UnreadableFile, match="no text"):
        rtf.extract(b"{\\rtf1\\ansi {\\fonttbl{\\f0 Arial;}}}")


@pytest.mark.parametrize("damage", [b"\\u99999999?", b"\\u" + b"9" * 30 + b"?", b"\\uc "])  # beyond Unicode, beyond a C int, a count without its number
def test_a_damaged_rtf_file_is_named_so_and_left_out(damage, tmp_path):
    data = b"{\\rtf1 " + damage + b" abc\\par}"
    with pytest.raises(UnreadableFile, match="damaged RTF file"):
        rtf.extract(data)
    (tmp_path / "bad.rtf").write_bytes(data)
    skipped = read_file(tmp_path / "bad.rtf", "bad.rtf")
    assert "damaged RTF file" in skipped.reason, "the build goes on without it"
