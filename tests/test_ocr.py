"""OCR of scanned PDF pages and images (qa/ingest/formats/ocr.py, image.py): text, paragraphs, columns,
rotation, pages, offsets, the cache, QA_OCR=0 and bad input. The files are made by
tests/data/make_ocr.py; the tests that run the engine skip where the OCR extra is missing."""

import importlib.util
import io
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from qa.ingest.chunker import split_document
from qa.ingest.formats import extract, ocr
from qa.ingest.reader import Skipped, read_file

OCR_DIR = Path(__file__).parent / "data" / "ocr"
INSTALL = "pip install -e '.[ocr]'"
needs_ocr = pytest.mark.skipif(importlib.util.find_spec("rapidocr") is None, reason=f"OCR is not installed: {INSTALL}")


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def ocr_on(monkeypatch, shared_cache):
    """OCR on, its cache in a folder of this module's (shared by its tests: each file is read once)."""
    monkeypatch.delenv("QA_OCR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(shared_cache))


def read(path: Path, name: str | None = None):
    document = read_file(path, name or path.name)
    assert not isinstance(document, Skipped), document
    for passage in split_document(document):
        assert document.text[passage.char_start : passage.char_end] == passage.text
    return document


def lines(document) -> list[str]:
    return document.text.splitlines()


@needs_ocr
def test_a_scanned_pdf_is_read_page_by_page_in_its_paragraphs():
    document = read(OCR_DIR / "scanned.pdf")
    assert document.format == "pdf" and len(document.page_starts) == 2
    assert document.layout[-1].startswith("OCR on 2 of 2 pages (mean line confidence")
    assert document.warnings == ()
    # Each paragraph is one line: wrapped lines joined, the indented first line starts the next.
    assert len(lines(document)) == 3, document.text
    first, second, third = lines(document)
    assert first.startswith("大熊猫主要生活在") and first.endswith("十五公斤竹子。")
    assert second.startswith("卧龙自然保护区") and second.endswith("汶川县。")
    assert third.startswith("大熊猫的繁殖率很低"), "page 2's number (text layer and scan) is left out"
    pages = {passage.page for passage in split_document(document) if "繁殖率" in passage.text}
    assert pages == {2}
    assert {passage.page for passage in split_document(document) if "卧龙" in passage.text} == {1}
    assert all(passage.ocr for passage in split_document(document)), "a hit says its text was recognised"


@needs_ocr
def test_an_indexed_scan_keeps_its_ocr_lines_and_marks_its_hits(tmp_path, fake_embedder):
    import json
    import shutil

    from qa import build_index, load_index

    corpus = tmp_path / "docs"
    corpus.mkdir()
    shutil.copy(OCR_DIR / "scanned.pdf", corpus / "scanned.pdf")
    (corpus / "notes.txt").write_text("大熊猫的笔记：这一行是打出来的文字，不是扫描。", encoding="utf-8")
    build_index(corpus, tmp_path / "index", embedder=fake_embedder)
    index = load_index(tmp_path / "index", embedder=fake_embedder)
    hits = {hit.passage.doc_path: hit for hit in index.search("大熊猫", top_k=5)}
    assert hits["scanned.pdf"].to_dict()["ocr"] is True and hits["notes.txt"].to_dict()["ocr"] is False
    kept = index.store.document("scanned.pdf").ocr_lines  # boxes and confidences, as read
    assert kept and all(len(box) == 4 and 0 < score <= 1 for _, _, _, box, score in kept)
    json.dumps([list(line) for line in kept])


@needs_ocr
def test_each_ocr_line_keeps_its_box_and_confidence():
    extracted = extract("pdf", (OCR_DIR / "scanned.pdf").read_bytes())
    assert extracted.ocr_lines
    for page, start, end, box, score in extracted.ocr_lines:
        assert page in (1, 2) and 0 < score <= 1
        assert extracted.page_starts[page - 1] <= start < end
        assert "\n" not in extracted.text[start:end]
        x0, y0, x1, y1 = box
        assert 0 <= x0 < x1 <= 420 and 0 <= y0 < y1 <= 596, "in points on an A5 page"
    covered = "".join(extracted.text[start:end] for _, start, end, _, _ in extracted.ocr_lines)
    assert covered == extracted.text.replace("\n", ""), "the lines cover the text, in order"


@needs_ocr
def test_an_image_is_one_document_without_pages_and_columns_are_not_interleaved():
    document = read(OCR_DIR / "two-columns.png")
    assert document.format == "image" and document.page_starts == ()
    assert all(passage.page is None for passage in split_document(document))
    assert document.layout[0].startswith("OCR (mean line confidence")
    title, left, right = lines(document)
    assert title == "中国名山简介"
    assert document.title == "中国名山简介", "the largest type is the document's title"
    assert left.startswith("黄山位于安徽省南部") and left.endswith("自然遗产名录。")
    assert right.startswith("泰山位于山东省中部") and right.endswith("封禅大典。")


@needs_ocr
@pytest.mark.parametrize("more", [0, 90, 180])  # the file is turned 90°: then 180° and 270°
def test_a_turned_page_is_read_upright(tmp_path, more):
    from PIL import Image

    path = tmp_path / "turned.png"
    Image.open(OCR_DIR / "rotated.png").rotate(more, expand=True).save(path)
    document = read(path)
    text = document.text.replace("\n", "")
    assert "长江是中国第一长河" in text and "它发源于青藏高原" in text
    assert text.index("长江") < text.index("它发源于")
    assert "turned upright" in document.layout[0]


@needs_ocr
def test_a_scan_with_a_page_upside_down_reads_both_pages_upright_on_their_pages():
    document = read(OCR_DIR / "turned.pdf")
    assert lines(document) == [
        "西湖位于浙江省杭州市西部，湖面面积约六点四平方公里，苏堤和白堤把湖面分成五个部分。",
        "漓江发源于桂林兴安县的猫儿山，从桂林到阳朔的一段水路长约八十三公里，两岸多是石灰岩山峰。",
    ]
    assert "1 turned upright" in document.layout[0]
    assert [passage.page for passage in split_document(document)] == [1, 2]


@needs_ocr
def test_a_scanned_page_among_text_pages_is_read_by_ocr_and_only_it():
    document = read(OCR_DIR / "mixed.pdf")
    assert document.layout[-1].startswith("OCR on 1 of 3 pages")
    passages = split_document(document)
    assert [(passage.page, passage.ocr) for passage in passages] == [(1, False), (2, True), (3, False)]
    assert passages[1].text.startswith("西湖位于浙江省杭州市西部") and "苏堤和白堤" in passages[1].text
    assert passages[0].text.startswith("第一页有文字层") and passages[2].text.startswith("第三页有文字层")


@needs_ocr
def test_a_photo_taken_askew_is_read_in_its_paragraphs():
    document = read(OCR_DIR / "photo.jpg")
    assert document.format == "image"
    assert [line[:8] for line in lines(document)] == ["西湖位于浙江省杭", "漓江发源于桂林兴"]
    assert "苏堤和白堤" in document.text and "石灰岩山峰" in document.text
    assert document.title == "", "lines set askew have tall boxes, not a title's type"


@needs_ocr
def test_a_second_read_comes_from_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    calls = []
    recognize = ocr.recognize
    monkeypatch.setattr(ocr, "recognize", lambda *args: calls.append(1) or recognize(*args))
    first = read(OCR_DIR / "two-columns.png")
    assert len(calls) == 1
    cached = list((tmp_path / "qa" / "ocr").iterdir())
    assert [path.suffix for path in cached] == [".json"]
    assert json.loads(cached[0].read_text(encoding="utf-8"))["pages"]["0"]["lines"]
    second = read(OCR_DIR / "two-columns.png", "copy.png")
    assert len(calls) == 1 and second.text == first.text


def test_qa_ocr_0_skips_scans_and_images_saying_so(monkeypatch):
    monkeypatch.setenv("QA_OCR", "0")
    skipped = read_file(OCR_DIR / "scanned.pdf", "scanned.pdf")
    assert isinstance(skipped, Skipped)
    assert "no text layer on any of its 2 pages" in skipped.reason and "OCR is turned off (QA_OCR=0)" in skipped.reason
    skipped = read_file(OCR_DIR / "two-columns.png", "two-columns.png")
    assert isinstance(skipped, Skipped) and "QA_OCR=0" in skipped.reason


def test_without_the_extra_the_reason_names_the_install_command(monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None if name == "rapidocr" else find_spec(name, *args))
    for name in ("scanned.pdf", "two-columns.png"):
        skipped = read_file(OCR_DIR / name, name)
        assert isinstance(skipped, Skipped) and INSTALL in skipped.reason


def png_header(width: int, height: int) -> bytes:
    """A PNG that says it is width×height but holds one empty row: a bomb's header."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    chunk = lambda kind, body: struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00")) + chunk(b"IEND", b"")


def blank_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (400, 300), 255).save(buffer, format="PNG")
    return buffer.getvalue()


@needs_ocr
@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("empty.png", b"", "empty file"),
        ("broken.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "damaged or unsupported image"),
        ("broken.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 300, "damaged or unsupported image"),
        ("huge.png", png_header(20000, 20000), "image too large"),
        ("wide.png", png_header(100_000, 1000), "image too large"),
        ("blank.png", None, "no text found in the image"),
    ],
)
def test_bad_images_are_skipped_with_a_one_line_reason(tmp_path, monkeypatch, name, data, reason):
    if name in ("huge.png", "wide.png"):  # refused from the header, never decoded or read
        monkeypatch.setattr(ocr, "recognize", lambda *args: pytest.fail("a bomb was decoded"))
    path = tmp_path / name
    path.write_bytes(blank_png() if data is None else data)
    skipped = read_file(path, name)
    assert isinstance(skipped, Skipped) and skipped.kind == "unreadable"
    assert reason in skipped.reason and "\n" not in skipped.reason


def test_reading_a_pdf_with_a_text_layer_loads_no_ocr_engine():
    report = Path(__file__).parent / "data" / "documents" / "report.pdf"
    probe = (
        f"from qa.ingest.reader import read_file\nread_file(__import__('pathlib').Path({str(report)!r}), 'report.pdf')\n"
        "import sys, json\nprint(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    modules = set(json.loads(out.strip().splitlines()[-1]))
    assert not {"rapidocr", "cv2", "PIL"} & modules


@needs_ocr
def test_a_build_says_which_page_ocr_is_reading(tmp_path, fake_embedder, monkeypatch):
    import shutil

    from qa import build_index

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # nothing read before
    corpus = tmp_path / "docs"
    corpus.mkdir()
    shutil.copy(OCR_DIR / "scanned.pdf", corpus / "scanned.pdf")
    stages: list[str] = []
    build_index(corpus, tmp_path / "index", embedder=fake_embedder, stage=stages.append)
    assert [s for s in stages if s.startswith("OCR")] == ["OCR scanned.pdf: page 1 of 2", "OCR scanned.pdf: page 2 of 2"]
    stages.clear()
    build_index(corpus, tmp_path / "index", embedder=fake_embedder, stage=stages.append, rebuild=True)
    assert not [s for s in stages if s.startswith("OCR")], "a rebuild takes the pages from the OCR cache"


def ocr_line(text: str, x0: float, y0: float, height: float = 12.0) -> ocr.OcrLine:
    return ocr.OcrLine(text, (x0, y0, x0 + height * len(text), y0 + height), 0.99)


def test_a_figures_labels_scattered_over_the_page_are_left_out_but_a_short_list_is_kept():
    sentence = ocr_line("盘锦大米地理标志产品保护范围见图A.1。", 100, 100)
    places = [("北", 160), ("青年水库", 220), ("八一水库", 380), ("海", 95), ("兴隆台区", 300), ("荣兴水库", 317), ("东", 187), ("营口市", 414)]
    labels = [ocr_line(text, x0, 150 + 40 * number) for number, (text, x0) in enumerate(places)]
    items = [ocr_line(text, 100, 500 + 20 * number) for number, text in enumerate(["稻谷", "大米", "小麦", "玉米", "大豆", "高粱"])]
    page = ocr.OcrPage(tuple([sentence, *labels, *items]), (600.0, 800.0))
    text = "\n".join(paragraph.text for paragraph in ocr.paragraphs(page))
    assert sentence.text in text
    assert not any(label.text in text for label in labels), text
    assert all(item.text in text for item in items), "a list's items start where the one above does"


def test_a_scanned_covers_largest_type_is_its_title():
    cover = ocr.OcrPage(
        (
            ocr_line("ICS 67.060", 74, 30, 11),
            ocr_line("中华人民共和国国家标准", 70, 114, 37),
            ocr_line("盘锦大米", 356, 326, 32),  # read first by the engine, set right of the line's start
            ocr_line("地理标志产品", 163, 327, 31),
            ocr_line("Product of geographical indication", 172, 380, 17),
            ocr_line("2008-07-31 发布", 76, 716, 15),
            ocr_line("中华人民共和国国家质量监督检验检疫总局", 142, 749, 23),
        ),
        (595.0, 842.0),
    )
    assert ocr.cover_title(cover) == "中华人民共和国国家标准 地理标志产品 盘锦大米"
    body = ocr.OcrPage(tuple(ocr_line(f"第{n}行正文的文字", 50, 50 + 20 * n) for n in range(6)), (600.0, 800.0))
    assert ocr.cover_title(body) == "", "nothing stands out on a page of body text"


def test_a_stray_mark_right_of_the_page_does_not_stop_its_lines_joining():
    def at(text, x0, y0, x1):
        return ocr.OcrLine(text, (x0, y0, x1, y0 + 30), 0.99)

    page = ocr.OcrPage(
        (
            at("×", 1397, 8, 1421),  # the window's close button
            at("本病属于中医疫病范畴，病因为感受疫戾之气，", 612, 92, 1247),
            at("各地可根据病情、证候及气候等情况，参照下列方案进行辨", 558, 144, 1250),
            at("证论治。涉及超药典剂量，应当在医师指导下使用。针对非", 559, 195, 1250),
            at("重点人群的早期新冠病毒感染者，可参照居家指引", 557, 243, 1251),
            at("协定方，进行居家治疗。", 560, 297, 836),
            at("19 / 30", 484, 930, 547),  # the reader's status bar
            at("100%", 795, 933, 844),
            at("尺寸：[8.27 *11.69 英寸]", 1157, 933, 1342),
        ),
        (1440.0, 960.0),
    )
    texts = [paragraph.text for paragraph in ocr.paragraphs(page)]
    assert "本病属于中医疫病范畴，病因为感受疫戾之气，各地可根据病情、证候及气候等情况，参照下列方案进行辨证论治。" in "".join(texts)
    assert any(text.startswith("本病属于") and text.endswith("进行居家治疗。") for text in texts), texts


def test_a_section_number_read_without_its_space_or_as_a_line_of_its_own_still_makes_a_heading():
    def at(text, x0, y0, x1, height=12):
        return ocr.OcrLine(text, (x0, y0, x1, y0 + height), 0.99)

    page = ocr.OcrPage(
        (
            at("1范围", 40, 100, 76),
            at("本标准规定了方正大米的术语和定义、要求和检验方法。", 59, 120, 400),
            at("术语和定义", 56, 150, 108, 13),  # the engine read the number apart, a little lower
            at("4", 45, 153, 52, 9),
            at("下列术语和定义适用于本标准。", 63, 170, 240),
            at("4月上旬，采用大中棚钵盘育苗技术。", 40, 190, 260),
        ),
        (500.0, 700.0),
    )
    found = [(paragraph.heading, paragraph.text) for paragraph in ocr.paragraphs(page)]
    assert (1, "1范围") in found and (1, "4术语和定义") in found, found
    assert (0, "4月上旬，采用大中棚钵盘育苗技术。") in found
