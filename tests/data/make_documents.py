"""Writes the document fixtures in tests/data/documents/ with the real tools that make such files.

    pip install reportlab python-docx pillow   # tools for this script only; qa does not need them
    apt-get install libreoffice-writer-nogui   # saves the .doc in tests/data/legacy/
    python tests/data/make_documents.py

The files are committed; run this again only to change them. See tests/data/README.md.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

OUT_DIR = Path(__file__).parent / "documents"

REPORT_PARAGRAPHS = [
    "截至2023年6月，我国网民规模达10.79亿人，较2022年12月增长1109万人，互联网普及率达76.4%。",
    "我国移动网络的终端连接总数已达40.14亿户，其中“物联网”终端连接数达21.23亿户，占移动网终端连接数的比重达52.9%。",
    "短视频用户规模增长最为明显，达10.26亿人，较2022年12月增长1380万人，占网民整体的95.2%。",
    "农村地区互联网普及率为60.5%，较2022年12月提升1.7个百分点，城乡数字鸿沟进一步缩小。",
    "网络支付用户规模达9.43亿人，较2022年12月增长3176万人，占网民整体的87.5%。",
    "在线医疗用户规模达3.64亿人，较2022年12月增长1035万人，占网民整体的33.8%。",
]


def make_report_pdf(path: Path, encrypt: str | None = None) -> None:
    """Three A5 pages of Chinese text: a heading, a table, a running header and page numbers."""
    from reportlab.lib.pagesizes import A5
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    body = ParagraphStyle("body", fontName="STSong-Light", fontSize=10.5, leading=16, wordWrap="CJK", firstLineIndent=21, spaceAfter=6)
    heading = ParagraphStyle("heading", fontName="STSong-Light", fontSize=16, leading=22, spaceAfter=10)

    def running_header(canvas, doc):
        canvas.saveState()
        canvas.setFont("STSong-Light", 8)
        canvas.drawString(40, A5[1] - 30, "中国互联网发展状况统计报告 · 第52次")
        canvas.drawCentredString(A5[0] / 2, 25, f"- {doc.page} -")
        canvas.restoreState()

    story = [Paragraph("第一章 网民规模", heading)]
    story += [Paragraph(text, body) for text in REPORT_PARAGRAPHS[:2]]
    story += [PageBreak(), Paragraph("第二章 应用发展", heading)]
    story += [Paragraph(text, body) for text in REPORT_PARAGRAPHS[2:4]]
    table = Table(
        [["应用", "用户规模（亿人）", "网民使用率"], ["网络视频", "10.44", "96.8%"], ["即时通信", "10.47", "97.1%"]],
        style=[("FONT", (0, 0), (-1, -1), "STSong-Light", 9)],
    )
    story += [Spacer(1, 8), table, PageBreak()]
    story += [Paragraph(text, body) for text in REPORT_PARAGRAPHS[4:]]
    kwargs = {"encrypt": encrypt} if encrypt else {}
    SimpleDocTemplate(str(path), pagesize=A5, title="中国互联网发展状况统计报告", **kwargs).build(
        story, onFirstPage=running_header, onLaterPages=running_header
    )


def make_scanned_pdf(path: Path, text_pages: int) -> None:
    """`text_pages` pages with a line of text, then one page that is only a picture (as a scan is)."""
    from PIL import Image, ImageDraw
    from reportlab.lib.pagesizes import A5
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen.canvas import Canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    canvas = Canvas(str(path), pagesize=A5)
    for _ in range(text_pages):
        canvas.setFont("STSong-Light", 11)
        canvas.drawString(50, 500, "这一页有文字层：扫描件的封面说明。")
        canvas.showPage()
    picture = Image.new("L", (300, 400), 255)
    draw = ImageDraw.Draw(picture)
    for y in range(40, 380, 24):
        draw.line((30, y, 270, y), fill=0, width=3)  # lines of "text", as pixels
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    canvas.drawImage(ImageReader(io.BytesIO(buffer.getvalue())), 40, 60, width=340, height=460)
    canvas.showPage()
    canvas.save()


def make_traditional_docx(path: Path) -> None:
    """Traditional Chinese with Title/Heading 1/Heading 2 styles and a table."""
    import docx

    document = docx.Document()
    document.core_properties.title = "臺灣高山簡介"
    document.add_heading("臺灣高山簡介", level=0)
    document.add_heading("玉山", level=1)
    document.add_paragraph("玉山主峰海拔3952公尺，是臺灣最高峰，也是東北亞第一高峰。")
    document.add_paragraph("玉山國家公園成立於1985年，園區橫跨南投、嘉義、高雄、花蓮四縣市。")
    document.add_heading("雪山", level=1)
    document.add_paragraph("雪山主峰海拔3886公尺，為臺灣第二高峰，山頂冬季常有積雪。")
    document.add_heading("高度比較", level=2)
    table = document.add_table(rows=3, cols=2)
    for row, cells in zip(table.rows, [("山名", "海拔（公尺）"), ("玉山", "3952"), ("雪山", "3886")]):
        for cell, text in zip(row.cells, cells):
            cell.text = text
    document.add_paragraph("以上高度依據內政部公告的三角點測量結果。")
    document.save(str(path))


GBK_HTML = """<!DOCTYPE html>
<html><head>
<meta http-equiv="Content-Type" content="text/html; charset=gbk">
<title>龙井茶简介</title>
<style>body { font-family: serif; } .nav { color: red; }</style>
<script>var tracking = "龙井茶广告脚本"; document.write("脚本文字");</script>
</head><body>
<nav><a href="/">首页</a> | <a href="/tea">茶叶频道</a> | <a href="/about">关于我们</a></nav>
<h1>龙井茶</h1>
<p>龙井茶是中国十大名茶之一，产于浙江省杭州市西湖一带，已有一千二百余年历史。</p>
<h2>产地</h2>
<p>西湖龙井的核心产区包括狮峰、龙井、云栖、虎跑、梅家坞，<b>狮峰龙井</b>品质最佳。</p>
<h3>采摘时间</h3>
<p>清明节前采摘的称为“明前茶”，价格最高；谷雨前采摘的称为“雨前茶”。</p>
<ul><li>色绿</li><li>香郁</li><li>味甘</li><li>形美</li></ul>
<footer>版权所有 2023 茶叶网 京ICP备00000000号</footer>
</body></html>
"""

EPUB_CONTAINER = """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>
"""

EPUB_OPF = """<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="id">qa-test-book</dc:identifier><dc:title>黄山游记</dc:title><dc:language>zh</dc:language>
  </metadata>
  <manifest>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
    <item id="c2" href="text/chapter2.xhtml" media-type="application/xhtml+xml"/>
    <item id="c1" href="text/chapter1.xhtml" media-type="application/xhtml+xml"/>
  </manifest>
  <spine><itemref idref="c1"/><itemref idref="c2"/></spine>
</package>
"""

EPUB_NAV = """<?xml version="1.0" encoding="utf-8"?>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops"><head><title>目录</title></head>
<body><nav epub:type="toc"><ol><li><a href="text/chapter1.xhtml">第一章 奇松</a></li><li><a href="text/chapter2.xhtml">第二章 云海</a></li></ol></nav></body></html>
"""

EPUB_CHAPTER = """<?xml version="1.0" encoding="utf-8"?>
<html xmlns="http://www.w3.org/1999/xhtml"><head><title>{title}</title></head>
<body>{heading}{paragraphs}</body></html>
"""


def make_epub(path: Path) -> None:
    """Two chapters, listed in the manifest out of order: the spine decides the order.
    The second chapter has no heading of its own; its title comes from the table of contents."""
    chapter1 = EPUB_CHAPTER.format(
        title="第一章",
        heading="<h1>第一章 奇松</h1>",
        paragraphs="<p>黄山松多生长于海拔800米以上的花岗岩石缝中，迎客松是其中最著名的一棵。</p><p>迎客松树龄已有一千三百多年。</p>",
    )
    chapter2 = EPUB_CHAPTER.format(
        title="第二章",
        heading="",
        paragraphs="<p>黄山云海以冬季最为壮观，一年中约有两百天可见云海。</p><p>观赏云海的最佳地点是光明顶和排云亭。</p>",
    )
    with zipfile.ZipFile(path, "w") as book:
        book.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")  # first and stored, as EPUB requires
        book.writestr("META-INF/container.xml", EPUB_CONTAINER, zipfile.ZIP_DEFLATED)
        book.writestr("OEBPS/content.opf", EPUB_OPF, zipfile.ZIP_DEFLATED)
        book.writestr("OEBPS/nav.xhtml", EPUB_NAV, zipfile.ZIP_DEFLATED)
        book.writestr("OEBPS/text/chapter1.xhtml", chapter1, zipfile.ZIP_DEFLATED)
        book.writestr("OEBPS/text/chapter2.xhtml", chapter2, zipfile.ZIP_DEFLATED)


LEGACY_DIR = Path(__file__).parent / "legacy"


def make_legacy_doc(path: Path) -> None:
    """A Word 97-2003 .doc, as LibreOffice saves one: a cover with its title in large type,
    headings numbered in their text and one known by its style alone, paragraphs, a table with
    a header row and an empty cell, a page-number field."""
    import shutil
    import subprocess
    import tempfile

    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    from docx.shared import Pt

    document = docx.Document()
    document.add_paragraph("ICS 67.060")
    document.add_paragraph().add_run("射阳大米质量标准").font.size = Pt(22)  # the cover's title, by its size
    document.add_heading("1 范围", level=1)
    document.add_paragraph("本标准规定了射阳大米的术语和定义、质量要求、检验方法和标志。")
    document.add_heading("2 质量指标", level=1)
    table = document.add_table(rows=3, cols=3)
    for row, cells in zip(table.rows, [("项目", "一级", "二级"), ("垩白度/%", "≤2.0", ""), ("直链淀粉/%", "13.0～20.0", "13.0～20.0")]):
        for cell, text in zip(row.cells, cells):
            cell.text = text
    document.add_heading("检验方法", level=2)  # a heading by its style alone, no number in its text
    document.add_paragraph("垩白度按GB/T 1354的规定执行。")
    paragraph = document.add_paragraph("本页页码：")
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
        run = paragraph.add_run()
        if kind:
            mark = OxmlElement("w:fldChar")
            mark.set(qn("w:fldCharType"), kind)
            run._r.append(mark)
        elif text == " PAGE ":
            code = OxmlElement("w:instrText")
            code.text = text
            run._r.append(code)
        else:
            run.text = text
    with tempfile.TemporaryDirectory() as work_dir:
        source = Path(work_dir) / (path.stem + ".docx")
        document.save(source)
        subprocess.run(["soffice", "--headless", "--convert-to", "doc", "--outdir", work_dir, str(source)], check=True, capture_output=True)
        shutil.copyfile(Path(work_dir) / path.name, path)


def _rtf_escaped(text: str) -> str:
    """Text as Word writes it in RTF with code page 936: each GBK byte as \\'xx."""
    return "".join(ch if ch.isascii() else "".join(f"\\'{b:02x}" for b in ch.encode("gbk")) for ch in text)


def make_rtf(path: Path) -> None:
    """An RTF file as Word saves one, written by hand: code page 936 (GBK) declared, a font table
    with a GB2312 font, the text as \\'xx escapes, one paragraph as \\uN characters, headings
    numbered in their text, and a table (\\trowd … \\cell … \\row) with a header row."""
    cells = [("地区", "高温津贴（元/月）"), ("北京", "180"), ("上海", "300")]
    rows = "".join(
        "\\trowd\\cellx2000\\cellx5000 " + "".join(f"\\pard\\intbl {_rtf_escaped(cell)}\\cell " for cell in row) + "\\row\n"
        for row in cells
    )
    unicode_paragraph = "".join(f"\\u{ord(ch)}?" for ch in "用人单位不得以防暑降温饮料充抵高温津贴。")
    body = [
        "{\\rtf1\\ansi\\ansicpg936\\deff0{\\fonttbl{\\f0\\fnil\\fcharset134 \\'cb\\'ce\\'cc\\'e5;}}",
        "{\\info{\\title " + _rtf_escaped("高温津贴通知") + "}}",
        "\\pard " + _rtf_escaped("关于发放高温津贴的通知") + "\\par",
        "\\pard " + _rtf_escaped("1 发放标准") + "\\par",
        "\\pard " + _rtf_escaped("各地标准如下表。") + "\\par",
        rows,
        "\\pard " + _rtf_escaped("2 监督检查") + "\\par",
        "\\pard\\uc1 " + unicode_paragraph + "\\par",
        "}",
    ]
    path.write_bytes("\n".join(body).encode("ascii"))


def main() -> None:
    OUT_DIR.mkdir(exist_ok=True)
    make_report_pdf(OUT_DIR / "report.pdf")
    make_report_pdf(OUT_DIR / "encrypted.pdf", encrypt="secret")
    make_scanned_pdf(OUT_DIR / "scanned.pdf", text_pages=1)
    make_scanned_pdf(OUT_DIR / "image-only.pdf", text_pages=0)
    make_traditional_docx(OUT_DIR / "mountains.docx")
    (OUT_DIR / "tea.html").write_bytes(GBK_HTML.encode("gbk"))
    make_epub(OUT_DIR / "huangshan.epub")
    make_rtf(OUT_DIR / "allowance.rtf")
    LEGACY_DIR.mkdir(exist_ok=True)
    make_legacy_doc(LEGACY_DIR / "standard.doc")  # needs LibreOffice (soffice)
    for path in sorted(OUT_DIR.iterdir()):
        print(f"{path.name}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
