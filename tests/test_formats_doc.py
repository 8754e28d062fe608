"""Word 97-2003 .doc: tests/data/legacy/standard.doc (saved by LibreOffice, see tests/data/README.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import cited_passages
from qa.ingest.formats import UnreadableFile, detect_format, doc
from qa.ingest.formats import extract as extract_format
from qa.ingest.reader import read_file

LEGACY_DIR = Path(__file__).parent / "data" / "legacy"


def extract(name: str = "standard.doc"):
    return doc.extract((LEGACY_DIR / name).read_bytes())


def test_a_cover_title_paragraphs_headings_by_number_and_by_style_and_a_field_s_result():
    extracted = extract()
    lines = extracted.text.splitlines()
    assert lines[:4] == ["ICS 67.060", "射阳大米质量标准", "1 范围", "本标准规定了射阳大米的术语和定义、质量要求、检验方法和标志。"]
    assert extracted.title == "射阳大米质量标准", "the cover's largest type"
    headings = [(extracted.text[start:].split("\n", 1)[0], level) for start, level in zip(extracted.heading_starts, extracted.heading_levels)]
    assert headings == [("1 范围", 1), ("2 质量指标", 1), ("检验方法", 2)], "the last is a heading by its style alone"
    assert lines[-1] == "本页页码：1", "a PAGE field reads as its result, not its code"


def test_a_table_keeps_its_rows_labelled_from_its_header_and_its_empty_cell():
    extracted = extract()
    assert "项目: 垩白度/% | 一级: ≤2.0 | 二级:" in extracted.text.splitlines()
    assert "1 table" in extracted.layout


def test_every_passage_is_the_text_its_offsets_point_at():
    document = read_file(LEGACY_DIR / "standard.doc", "standard.doc")
    assert document.format == "doc"
    assert any("垩白度" in passage.text for passage in cited_passages(document))


def test_a_paragraph_s_outline_level_is_read_from_its_properties():
    from qa.ingest.formats.doc_styles import _OUTLINE_LEVEL, _operand

    assert _operand(bytes.fromhex("4026" "01"), _OUTLINE_LEVEL) == b"\x01"  # sprmPOutLvl, level 2
    assert _operand(bytes.fromhex("0324" "01" "4026" "00"), _OUTLINE_LEVEL) == b"\x00", "after another one-byte sprm"
    assert _operand(bytes.fromhex("0324" "01"), _OUTLINE_LEVEL) is None


def test_rows_are_found_only_when_the_marks_fall_into_rows():
    assert doc._rows(["项目", "一级", "", "a", "1", ""]) == [["项目", "一级"], ["a", "1"]]
    assert doc._rows(["段落一", "段落二", "x"]) == [], "no empty end mark where a row would end"


def test_a_table_of_contents_field_is_left_out_and_other_fields_show_their_result():
    text = "\x13 TOC \\o \"1-3\" \x141 范围\t\x13 PAGEREF _Toc1 \x141\x15\r\x15正文\x13 PAGE \x142\x15"
    assert doc._field_results(text)[0] == "正文2"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ((LEGACY_DIR / "standard.doc").read_bytes()[:4000], "damaged Word 97-2003 file"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "damaged Word 97-2003 file"),
    ],
)
def test_a_damaged_doc_is_named_not_a_crash(data, reason):
    assert detect_format("x.doc", data) == "doc"
    with pytest.raises(UnreadableFile, match=reason):
        doc.extract(data)


def test_only_a_doc_is_read_as_word_97_2003():
    assert detect_format("sheet.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") is None, "a legacy Excel file is not read"
    assert detect_format("locked.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1") == "ole"


def test_a_web_page_or_rtf_saved_under_a_doc_name_is_told_apart(tmp_path):
    page = "<html><head><meta charset='utf-8'><title>通知</title></head><body><p>本通知自发布之日起施行。</p></body></html>".encode()
    assert detect_format("notice.doc", page) == "html"
    (tmp_path / "notice.doc").write_bytes(page)
    assert "本通知自发布之日起施行。" in read_file(tmp_path / "notice.doc", "notice.doc").text
    rtf = b"{\\rtf1\\ansi\\ansicpg936 {\\fonttbl}\\'b1\\'be}"
    assert detect_format("old.doc", rtf) == "rtf"
    assert extract_format("rtf", rtf).text.strip() == "本"
