"""Writes the PDF layout fixtures in tests/data/layouts/ with reportlab, as real PDFs are made.

    pip install reportlab   # a tool for this script only; qa does not need it
    python tests/data/make_layouts.py

Each file shows one layout qa's PDF reader must handle (tests/test_formats_pdf.py): two
columns under a full-width title, a ruled table with an empty cell, a bold body line, a
contents page, a running header that changes by section, an indented quotation, a
formula displayed in large type, type set at size 1 and scaled, a diagonal watermark, a drawing of ruled lines that is not a table, tables drawn with three rules and no vertical ones. Lines are placed one by one, so each file says exactly where its text
is. The files are committed; run this again only to change them. See tests/data/README.md.
"""

from __future__ import annotations

from pathlib import Path

OUT_DIR = Path(__file__).parent / "layouts"
FONT = "STSong-Light"  # a built-in CID font: nothing is embedded, the files stay small


def _register_font() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont

    pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _canvas(name: str):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    _register_font()
    return Canvas(str(OUT_DIR / name), pagesize=A4, pageCompression=1)


def _lines(canvas, x: float, y: float, lines: list[str], size: float = 10.5, leading: float = 16) -> float:
    """Draw lines top down from y; return the y below them."""
    canvas.setFont(FONT, size)
    for line in lines:
        canvas.drawString(x, y, line)
        y -= leading
    return y


def _wrap(text: str, width: int) -> list[str]:
    """Chinese text cut into lines of `width` characters, as a typesetter wraps it."""
    return [text[i : i + width] for i in range(0, len(text), width)]


LEFT_COLUMN = (
    "左栏第一段讲水稻的种植季节。早稻在三月下旬播种，七月中旬收获；晚稻在六月下旬播种，十月下旬收获，"
    "两季之间的农时很紧，需要提前准备秧田和肥料，安排好劳力和农机。"
)
RIGHT_COLUMN = (
    "右栏第一段讲灌溉用水的来源。灌区的水主要引自上游水库，经干渠和支渠送到田间，"
    "汛期要注意排涝，旱季要按轮灌制度分配用水，保证每块稻田都能按时灌溉。"
)


def make_two_columns() -> None:
    """A full-width title and summary, then two columns of body text (left column first)."""
    canvas = _canvas("two-columns.pdf")
    canvas.setFont(FONT, 18)
    canvas.drawString(60, 780, "稻田管理手册")
    _lines(canvas, 60, 750, ["摘要：本手册分两栏介绍水稻的种植季节和灌溉用水，供基层农技人员参考使用，全文共两部分内容。"], size=10.5)
    _lines(canvas, 60, 715, _wrap(LEFT_COLUMN, 20))
    _lines(canvas, 315, 715, _wrap(RIGHT_COLUMN, 20))
    canvas.showPage()
    canvas.save()


def make_table() -> None:
    """A ruled table: a header row, and a row with an empty cell."""
    from reportlab.lib.pagesizes import A5
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table
    from reportlab.lib.styles import ParagraphStyle

    _register_font()
    body = ParagraphStyle("body", fontName=FONT, fontSize=10.5, leading=16, wordWrap="CJK")
    table = Table(
        [["品种", "播种期", "亩产（公斤）"], ["早稻", "3月下旬", "450"], ["晚稻", "6月下旬", ""], ["中稻", "5月上旬", "520"]],
        style=[("FONT", (0, 0), (-1, -1), FONT, 10), ("GRID", (0, 0), (-1, -1), 0.5, "black")],
    )
    story = [Paragraph("各季水稻的播种期和产量见下表。", body), Spacer(1, 8), table, Spacer(1, 8), Paragraph("表中空格表示尚无统计。", body)]
    SimpleDocTemplate(str(OUT_DIR / "table.pdf"), pagesize=A5).build(story)


RULES_BEFORE = "进入施工现场的人员应当遵守本章的各项规定，服从现场管理人员的指挥，不得擅自进入危险区域，不得在施工现场吸烟、打闹或者饮酒。"
RULES_AFTER = "违反上述规定的人员，由项目部进行批评教育；情节严重的，责令其离开施工现场，并通报其所在单位。"


def _headed_page(name: str, heading: str, paragraph: str):
    """A canvas with a 16 pt heading and a wrapped paragraph under it; the y below them."""
    canvas = _canvas(name)
    canvas.setFont(FONT, 16)
    canvas.drawString(60, 780, heading)
    return canvas, _lines(canvas, 60, 750, _wrap(paragraph, 45))


def make_bold_rule() -> None:
    """A heading in larger type, and a rule set in bold at body size between two paragraphs (not a heading)."""
    canvas, y = _headed_page("bold-rule.pdf", "第一章 安全规定", RULES_BEFORE)
    text = canvas.beginText(60, y)
    text.setFont(FONT, 10.5)
    text.setTextRenderMode(2)  # fill and stroke: how Word sets a CJK font in bold
    text.textLine("所有人员必须佩戴安全帽")
    canvas.drawText(text)
    _lines(canvas, 60, y - 16, _wrap(RULES_AFTER, 45))
    canvas.showPage()
    canvas.save()


FORMULA_BEFORE = "设每亩的用水量为 g(x)，渗漏量为 h(x)，其中 x 是灌溉的天数，则总用水量按下式计算："
FORMULA_AFTER = "式中的系数由当地的土壤条件决定，沙土取大值，黏土取小值。"


def make_formula() -> None:
    """A heading in larger type, then a formula displayed in larger type than the body (not a heading)."""
    canvas, y = _headed_page("formula.pdf", "第二节 用水计算", FORMULA_BEFORE)
    canvas.setFont("Helvetica", 16)
    canvas.drawString(200, y - 10, "f(x) = 1 + x × [ g(x) + h(x) ]")
    _lines(canvas, 60, y - 44, _wrap(FORMULA_AFTER, 45))
    canvas.showPage()
    canvas.save()


SCALED_BODY = (
    "The converter takes an input from three to fifteen volts and keeps its output at the set value. "
    "The inductor is chosen for a ripple of thirty percent of the output current at the switching frequency."
)


def make_scaled_type() -> None:
    """Every font set at size 1 and scaled by the text matrix, as some PDF writers do: a 16 pt
    heading, then a paragraph at 10.5 pt wrapped over lines (words a space apart)."""
    canvas = _canvas("scaled-type.pdf")
    text = canvas.beginText()
    text.setFont("Helvetica", 1)
    text.setTextTransform(16, 0, 0, 16, 60, 780)
    text.textOut("Sizing the inductor")
    y = 750
    for line in _wrap_words(SCALED_BODY, 80):
        text.setTextTransform(10.5, 0, 0, 10.5, 60, y)
        text.textOut(line)
        y -= 15
    canvas.drawText(text)
    canvas.showPage()
    canvas.save()


def _wrap_words(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


TOC = [("第一章 总则", 2), ("1.1 适用范围", 2), ("1.2 术语", 2), ("第二章 种植要求", 3), ("2.1 播种", 3)]


def make_toc() -> None:
    """A contents page with dot leaders, then the chapters it lists."""
    canvas = _canvas("toc.pdf")
    canvas.setFont(FONT, 16)
    canvas.drawCentredString(297, 780, "目  录")
    canvas.setFont(FONT, 10.5)
    y = 740
    for title, page in TOC:
        canvas.drawString(60, y, title)
        canvas.drawString(60 + canvas.stringWidth(title, FONT, 10.5) + 6, y, " ." * int((440 - canvas.stringWidth(title, FONT, 10.5)) / 5.9))
        canvas.drawRightString(535, y, str(page))
        y -= 20
    canvas.showPage()
    chapters = [
        ("第一章 总则", "本规程适用于全县范围内的水稻种植、田间管理和收获储藏，其他粮食作物可以参照执行本规程的有关规定。"),
        ("第二章 种植要求", "播种前应选晴天晒种两天，再用清水浸种一昼夜，捞出沥干后催芽，芽长约两毫米时即可播种，不宜过长。"),
    ]
    for chapter, paragraph in chapters:
        canvas.setFont(FONT, 16)
        canvas.drawString(60, 780, chapter)
        _lines(canvas, 60, 750, _wrap(paragraph, 45))
        canvas.showPage()
    canvas.save()


SECTIONS = [
    ("第一章 土壤", ["土壤以滨海盐渍型水稻土为主，有机质含量较高，保水保肥能力强。"]),
    ("", ["耕层深度一般在十五到二十厘米，犁底层发育良好，适合机械化作业。"]),
    ("第二章 气候", ["全年日照时数约二千二百小时，无霜期二百二十天左右。"]),
    ("", ["年平均降水量约一千毫米，主要集中在六月到八月的梅雨和台风季节。"]),
]


def make_running_header() -> None:
    """Four pages whose running header carries the current chapter title, and a footer `V1.2 N`."""
    canvas = _canvas("running-header.pdf")
    current = ""
    for number, (chapter, lines) in enumerate(SECTIONS, 1):
        current = chapter or current
        canvas.setFont(FONT, 9)
        canvas.drawString(60, 805, f"水稻种植规程 · {current}")
        canvas.drawRightString(535, 30, f"V1.2 {number}")
        y = 760
        if chapter:
            canvas.setFont(FONT, 16)
            canvas.drawString(60, y, chapter)
            y -= 30
        _lines(canvas, 60, y, lines)
        canvas.showPage()
    canvas.save()


def make_tight_header() -> None:
    """Three pages whose header, the same words on each, sits just 5 pt above the first body line."""
    canvas = _canvas("tight-header.pdf")
    for text in (LEFT_COLUMN, RIGHT_COLUMN, RULES_BEFORE):
        canvas.setFont(FONT, 9)
        canvas.drawString(300, 786, "JX-2R-01 系列机芯规格书-V1.7")
        _lines(canvas, 60, 770, _wrap(text, 20))
        canvas.showPage()
    canvas.save()


QUOTE = "孔子曰：学而时习之，不亦说乎？有朋自远方来，不亦乐乎？人不知而不愠，不亦君子乎？诸葛亮在出师表里写道：鞠躬尽瘁，死而后已。"


def make_quotation() -> None:
    """A paragraph, a quotation indented on both sides and wrapped over four lines, a paragraph."""
    canvas = _canvas("quotation.pdf")
    y = _lines(canvas, 60, 780, _wrap("古人论学习的话很多，下面这段常被引用，也常被人断章取义地理解，这里照录原文如下，以便对照阅读：", 45))
    y = _lines(canvas, 102, y - 6, _wrap(QUOTE, 17))
    _lines(canvas, 60, y - 6, ["以上引文出自《论语》和《出师表》。"])
    canvas.showPage()
    canvas.save()


def make_watermark() -> None:
    """Two pages of body text under a large grey diagonal watermark."""
    canvas = _canvas("watermark.pdf")
    for lines in (["灌溉用水取自射阳河上游，水质符合农田灌溉标准。"], ["收获后的稻谷应在两天内晒干入库。"]):
        canvas.saveState()
        canvas.setFillGray(0.85)
        canvas.setFont(FONT, 48)
        canvas.translate(300, 420)
        canvas.rotate(45)
        canvas.drawCentredString(0, 0, "内部资料 请勿外传")
        canvas.restoreState()
        _lines(canvas, 60, 780, lines)
        canvas.showPage()
    canvas.save()


def make_drawing() -> None:
    """A circuit-like drawing made of ruled lines (a 6×6 grid of wires) with a few part labels,
    between two paragraphs: its lines touch like a table's, but few of its cells hold text."""
    canvas = _canvas("drawing.pdf")
    y = _lines(canvas, 60, 780, ["下图是控制板的电源接线示意。"])
    top, left, step = y - 10, 80, 40
    canvas.setLineWidth(0.5)
    for i in range(7):
        canvas.line(left, top - i * step, left + 6 * step, top - i * step)
        canvas.line(left + i * step, top, left + i * step, top - 6 * step)
    canvas.setFont(FONT, 8)
    for (row, column), label in {(0, 0): "VCC", (2, 3): "R1", (5, 5): "GND"}.items():
        canvas.drawString(left + column * step + 4, top - row * step - 14, label)
    _lines(canvas, 60, top - 6 * step - 24, ["接线完成后先用万用表检查电源与地之间没有短路。"])
    canvas.showPage()
    canvas.save()


SOWING = [("地区", "播种期", "收获期"), ("江苏", "4月上旬", "7月下旬"), ("浙江", "3月下旬", "7月中旬"), ("广东", "3月上旬", "7月上旬")]
LATE_SOWING = [("地区", "播种期", "收获期"), ("江苏", "6月中旬", "10月下旬"), ("浙江", "6月下旬", "11月上旬"), ("广东", "7月上旬", "11月中旬"), ("广西", "7月中旬", "11月下旬")]
WATER = [("灌溉方式", "定额"), ("淹灌", "每亩450立方米"), ("湿润灌溉", "每亩320立方米"), ("间歇灌溉", "每亩280立方米"), ("控制灌溉", "每亩240立方米")]
BESIDE_TABLE = (
    "右栏这一段讲节水的做法。推广控制灌溉以后，稻田不再长期淹水，而是在分蘖末期晒田，"
    "孕穗期保持浅水，灌浆期干湿交替，既省水又能增产，还可以减少病虫害的发生。"
    "各地的试验表明，控制灌溉比淹灌每亩少用水两百立方米左右，产量不减反增，"
    "稻米的品质也有所提高，因此值得在灌区普遍推广，并配套建设量水设施。"
)


def _three_line_table(canvas, left: float, right: float, y: float, rows: list[tuple[str, ...]], step: float = 18, every_row: bool = False) -> float:
    """A table with three rules only (top, under the header, bottom), its columns set apart by
    white space (`every_row`: a rule under each row too); returns the y below it."""
    columns = len(rows[0])
    width = (right - left) / columns
    canvas.setLineWidth(0.8)
    canvas.line(left, y, right, y)
    for r, row in enumerate(rows):
        baseline = y - 13 - r * step - (4 if r else 0)
        canvas.setFont(FONT, 10)
        for c, cell in enumerate(row):
            canvas.drawString(left + 6 + c * width, baseline, cell)
        if r == 0 or (every_row and r < len(rows) - 1):
            canvas.setLineWidth(0.5)
            canvas.line(left, baseline - 7, right, baseline - 7)
    bottom = y - step * len(rows) - 8
    canvas.setLineWidth(0.8)
    canvas.line(left, bottom, right, bottom)
    return bottom


def make_three_line_tables() -> None:
    """Tables drawn with three rules and no vertical ones. Page 1: one full width under its
    caption, on a page whose running header and footer are ruled off by rules of the text's
    width. Page 2: one in the left column of two, beside the right column's text. Page 3: one
    with a rule under every row."""
    canvas = _canvas("three-line-table.pdf")
    for page in (1, 2, 3):
        canvas.setFont(FONT, 9)
        canvas.drawString(60, 800, "稻田管理手册")
        canvas.setLineWidth(0.5)
        canvas.line(60, 792, 535, 792)
        canvas.line(60, 60, 535, 60)
        canvas.drawString(295, 45, str(page))
        if page == 1:
            y = _lines(canvas, 60, 760, _wrap(LEFT_COLUMN, 44))
            _lines(canvas, 240, y - 10, ["表 1 各地早稻播种期"])
            y = _three_line_table(canvas, 60, 535, y - 22, SOWING)
            _lines(canvas, 60, y - 24, _wrap(RIGHT_COLUMN, 44))
        elif page == 2:
            _lines(canvas, 100, 760, ["表 2 灌溉用水定额"])
            _three_line_table(canvas, 60, 280, 748, WATER)
            _lines(canvas, 315, 760, _wrap(BESIDE_TABLE, 20))
        else:
            _lines(canvas, 240, 760, ["表 3 各地晚稻播种期"])
            y = _three_line_table(canvas, 60, 535, 748, LATE_SOWING, every_row=True)
            _lines(canvas, 60, y - 24, ["晚稻的播种期比早稻晚三个月左右。"])
        canvas.showPage()
    canvas.save()


def main() -> None:
    OUT_DIR.mkdir(exist_ok=True)
    make_two_columns()
    make_table()
    make_bold_rule()
    make_formula()
    make_scaled_type()
    make_toc()
    make_running_header()
    make_tight_header()
    make_quotation()
    make_watermark()
    make_drawing()
    make_three_line_tables()
    for path in sorted(OUT_DIR.glob("*.pdf")):
        print(f"{path.name}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
