"""Reading PDF, DOCX, HTML and EPUB: the text, pages, headings, and why a file is skipped."""

import io
import shutil
import zipfile
from pathlib import Path

import pytest

from conftest import cited_passages
from qa.ingest.chunker import split_document
from qa.ingest.formats import detect_format
from qa.ingest.reader import Skipped, read_corpus, read_file

DOCUMENTS_DIR = Path(__file__).parent / "data" / "documents"
READABLE = ["report.pdf", "scanned.pdf", "mountains.docx", "tea.html", "huangshan.epub", "allowance.rtf"]


def read(name: str, path: Path | None = None):
    result = read_file(path or DOCUMENTS_DIR / name, name)
    assert not isinstance(result, Skipped), result
    return result


def sections(document) -> dict[str, str]:
    """First words of each line of each passage → the passage's section."""
    return {line[:6]: p.section for p in split_document(document) for line in p.text.splitlines()}


@pytest.mark.parametrize("name", READABLE)
def test_every_passage_is_the_text_its_offsets_and_page_point_at(name):
    document = read(name)
    passages = cited_passages(document)
    for passage in passages:
        if document.format == "pdf":
            start = document.page_starts[passage.page - 1]
            end = document.page_starts[passage.page] if passage.page < len(document.page_starts) else len(document.text)
            assert start <= passage.char_start < passage.char_end <= end, "a passage stays on its page"
        else:
            assert passage.page is None


def test_pdf_pages_headings_and_tables_without_running_headers():
    document = read("report.pdf")
    assert document.format == "pdf" and len(document.page_starts) == 3
    assert document.title == "中国互联网发展状况统计报告"
    assert "第52次" not in document.text, "the running header is left out"
    assert "- 2 -" not in document.text, "page numbers are left out"
    # Lines wrapped by the layout are joined into their paragraph again.
    assert "截至2023年6月，我国网民规模达10.79亿人，较2022年12月增长1109万人，互联网普及率达76.4%。\n" in document.text
    assert "网络视频 10.44 96.8%\n" in document.text, "a table row is a line"
    passages = split_document(document)

    def page_of(text: str) -> int | None:
        return next(p.page for p in passages if text in p.text)

    assert page_of("截至2") == 1 and page_of("短视频") == 2 and page_of("网络视频") == 2 and page_of("在线医") == 3
    assert sections(document)["短视频用户规"] == "第二章 应用发展"


def test_a_pdf_with_pages_that_are_only_images_says_so():
    # With the OCR extra the picture page is read too, and found to hold no text (tests/test_ocr.py).
    document = read("scanned.pdf")
    assert document.warnings in (
        ("1 of 2 pages have no text layer — scanned? (OCR is not installed: pip install -e '.[ocr]')",),
        ("1 of 2 pages have no text layer, and OCR found no text on it",),
    )
    skipped = read_file(DOCUMENTS_DIR / "image-only.pdf", "image-only.pdf")
    assert isinstance(skipped, Skipped) and "no text" in skipped.reason and "of its 1 page" in skipped.reason


def test_docx_heading_styles_become_sections_and_table_rows_lines():
    document = read("mountains.docx")
    assert document.format == "docx" and document.title == "臺灣高山簡介"
    found = sections(document)
    assert found["玉山主峰海拔"] == "玉山" and found["雪山主峰海拔"] == "雪山"
    assert found["山名 | 海"] == "雪山 › 高度比較", "Heading 2 under Heading 1"
    assert "山名: 玉山 | 海拔（公尺）: 3952\n" in document.text, "a table row carries its header's labels"


def test_html_declared_gbk_without_scripts_navigation_or_footer():
    document = read("tea.html")
    assert document.format == "html" and document.encoding == "gb18030"
    assert document.title == "龙井茶简介"
    for noise in ("脚本", "tracking", "首页", "版权所有", "font-family"):
        assert noise not in document.text
    assert "梅家坞，狮峰龙井品质最佳。" in document.text, "inline markup stays in its line"
    found = sections(document)
    assert found["西湖龙井的核"] == "龙井茶 › 产地" and found["清明节前采摘"] == "龙井茶 › 产地 › 采摘时间"


def test_epub_chapters_in_spine_order_with_titles_from_the_table_of_contents():
    document = read("huangshan.epub")
    assert document.format == "epub" and document.title == "黄山游记"
    assert document.text.index("迎客松") < document.text.index("云海以冬季")
    found = sections(document)
    assert found["黄山松多生长"] == "第一章 奇松"
    assert found["黄山云海以冬"] == "第二章 云海", "a chapter without a heading is titled from the TOC"


def test_files_are_recognised_by_content_before_name(tmp_path):
    renamed = tmp_path / "report.txt"
    shutil.copy(DOCUMENTS_DIR / "report.pdf", renamed)
    document = read("report.txt", renamed)
    assert document.format == "pdf" and "%PDF" not in document.text and "10.79亿" in document.text
    shutil.copy(DOCUMENTS_DIR / "mountains.docx", tmp_path / "notes.txt")
    assert read("notes.txt", tmp_path / "notes.txt").format == "docx"
    shutil.copy(DOCUMENTS_DIR / "mountains.docx", tmp_path / "download")  # no extension at all
    assert read("download", tmp_path / "download").format == "docx"
    (tmp_path / "junk-first.pdf").write_bytes(b"\r\n" * 10 + (DOCUMENTS_DIR / "report.pdf").read_bytes())
    assert read("junk-first.pdf", tmp_path / "junk-first.pdf").format == "pdf"
    assert detect_format("book.zip", (DOCUMENTS_DIR / "huangshan.epub").read_bytes()) == "epub"


@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("encrypted.pdf", None, "encrypted PDF"),
        ("cut.pdf", (DOCUMENTS_DIR / "report.pdf").read_bytes()[:600], "damaged PDF"),
        ("bad.docx", b"PK\x03\x04" + b"\x00" * 200, "damaged DOCX"),
        ("bad.epub", b"not a zip at all", "damaged EPUB"),
        ("archive.txt", None, "ZIP archive that is neither DOCX nor EPUB"),
        ("locked.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "password-protected or legacy"),
        ("picture.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary file"),
        ("empty.html", b"<html><body><script>x()</script></body></html>", "no text in the HTML page"),
    ],
)
def test_unreadable_files_are_skipped_with_the_reason(tmp_path, name, data, reason):
    path = tmp_path / name
    if name == "encrypted.pdf":
        shutil.copy(DOCUMENTS_DIR / name, path)
    elif name == "archive.txt":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("data.csv", "a,b\n1,2\n")
        path.write_bytes(buffer.getvalue())
    else:
        path.write_bytes(data)
    result = read_file(path, name)
    assert isinstance(result, Skipped) and result.kind == "unreadable"
    assert reason in result.reason


def test_a_folder_of_mixed_files_reads_what_it_can_and_names_the_rest(tmp_path):
    shutil.copytree(DOCUMENTS_DIR, tmp_path / "docs")
    (tmp_path / "docs" / "table.xlsx").write_bytes(b"PK\x03\x04not really")
    (tmp_path / "docs" / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "docs" / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    documents, skipped = read_corpus(tmp_path / "docs")
    assert sorted(d.path for d in documents) == sorted(READABLE)
    unsupported = sorted(s.path for s in skipped if s.kind == "unsupported")
    assert unsupported == ["table.xlsx"]
    unreadable = {s.path: s.reason for s in skipped if s.kind == "unreadable"}
    assert set(unreadable) == {"encrypted.pdf", "image-only.pdf", "photo.png", "old.doc"}, "an image is read by OCR: a damaged one is skipped"
    assert "damaged Word 97-2003 file" in unreadable["old.doc"]


def test_docx_custom_heading_styles_contents_lines_and_a_placeholder_title(tmp_path):
    # Localized templates: headings by an outline level on a custom style (or on the style it
    # is based on), a table of contents in Word's `toc 1` style, and a placeholder left as the
    # core properties' title while the cover states the real one in large type.
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    document = docx.Document()
    document.core_properties.title = "标准名称"
    document.styles["Normal"].font.size = Pt(10.5)  # as Chinese templates set it

    def style(name, outline=None, base=None):
        made = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        if base is not None:
            made.base_style = base
        if outline is not None:
            level = OxmlElement("w:outlineLvl")
            level.set(qn("w:val"), str(outline))
            made.element.get_or_add_pPr().append(level)
        return made

    chapter = style("章标题", outline=0)
    clause_base = style("条标题基础", outline=1)
    clause = style("一级条标题", base=clause_base)
    cover = style("封面标准名称")
    cover.font.size = Pt(26)
    toc = document.styles.add_style("toc 1", WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("中华人民共和国能源行业标准")
    document.add_paragraph("核电厂定期安全评价", style=cover)
    document.add_paragraph("1 范围\t1", style=toc)
    document.add_paragraph("范围", style=chapter)
    document.add_paragraph("总体要求", style=clause)
    document.add_paragraph("本部分规定了核电厂定期安全评价的通用要求。")
    path = tmp_path / "psr.docx"
    document.save(path)

    extracted = read_file(path, "psr.docx")
    assert extracted.title == "核电厂定期安全评价", "the cover's largest type, not the placeholder"
    assert "1 范围\t1" not in extracted.text and "1 范围" not in extracted.text.splitlines()
    assert "table of contents (1 lines) left out" in extracted.layout
    (passage,) = [p for p in split_document(extracted) if "通用要求" in p.text]
    assert passage.section == "范围 › 总体要求", "levels from the style and from the style it is based on"
