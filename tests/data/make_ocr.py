"""Write the OCR test files in tests/data/ocr/: page images of Chinese text, as a scanner or a
screenshot makes them (see tests/test_ocr.py for what each exercises).

Needs Pillow, reportlab and a CJK TrueType font (Debian: `apt-get install fonts-wqy-microhei`;
any font `fc-list :lang=zh` lists works, or pass its path as the first argument):
    python tests/data/make_ocr.py [FONT]
qa itself needs none of them to read the files.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

OUT_DIR = Path(__file__).parent / "ocr"
DPI = 150  # the "scanner's" resolution: small files, still read well

PANDA = "大熊猫主要生活在四川、陕西和甘肃的山区，以竹子为主要食物，每天要花十几个小时进食，成年大熊猫每天吃掉十二到十五公斤竹子。"
WOLONG = "卧龙自然保护区始建于一九六三年，是中国建立最早的以保护大熊猫为主的自然保护区之一，位于四川省阿坝州汶川县。"
BREEDING = "大熊猫的繁殖率很低，雌性每年只发情一次，通常每胎产一到两只幼崽，幼崽出生时只有一百克左右。"
HUANGSHAN = "黄山位于安徽省南部，以奇松、怪石、云海、温泉四绝著称，一九九零年被列入世界文化与自然遗产名录。"
TAISHAN = "泰山位于山东省中部，主峰玉皇顶海拔一千五百四十五米，古代帝王常在这里举行封禅大典。"
TURNED = ["长江是中国第一长河，全长约六千三百公里。", "它发源于青藏高原，最后注入东海。"]
XIHU = "西湖位于浙江省杭州市西部，湖面面积约六点四平方公里，苏堤和白堤把湖面分成五个部分。"
LIJIANG = "漓江发源于桂林兴安县的猫儿山，从桂林到阳朔的一段水路长约八十三公里，两岸多是石灰岩山峰。"
TEXT_PAGES = ["第一页有文字层：故宫位于北京市中心，是明清两代的皇家宫殿。", "第三页有文字层：颐和园是清代的皇家园林，以昆明湖和万寿山为基址。"]


def font_path() -> str:
    if len(sys.argv) > 1:
        return sys.argv[1]
    found = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True).stdout.split()
    if not found:
        sys.exit("no CJK font found: apt-get install fonts-wqy-microhei, or pass a font file")
    return found[0].rstrip(":")


def wrap(draw: ImageDraw.ImageDraw, text: str, font, width: float, indent: float) -> list[str]:
    """The text broken into lines that fit `width` (the first one `indent` less), as a typesetter would."""
    lines, line = [], ""
    for char in text:
        room = width - (indent if not lines else 0)
        if line and draw.textlength(line + char, font=font) > room:
            lines.append(line)
            line = ""
        line += char
    return lines + [line] if line else lines


def paragraph(draw, text: str, font, x: float, y: float, width: float, size: int) -> float:
    """Draw a paragraph with a two-character first-line indent; the y below it."""
    for number, line in enumerate(wrap(draw, text, font, width, 2 * size)):
        draw.text((x + (2 * size if number == 0 else 0), y), line, font=font, fill=0)
        y += int(size * 1.7)
    return y + size // 2


def page(size_px: tuple[int, int]) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("L", size_px, 255)
    return image, ImageDraw.Draw(image)


def scanned_pdf(path: Path, font_file: str) -> None:
    """Two A5 pages that are only images (a scan): two paragraphs on page 1, one on page 2, whose
    page also has a thin text layer (its page number), as scanning software stamps it."""
    from reportlab.lib.pagesizes import A5
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    size = 28  # px at 150 dpi: 13.4 pt
    font = ImageFont.truetype(font_file, size)
    width_px, height_px = round(A5[0] / 72 * DPI), round(A5[1] / 72 * DPI)
    canvas = Canvas(str(path), pagesize=A5)
    for number, texts in enumerate([[PANDA, WOLONG], [BREEDING]], 1):
        image, draw = page((width_px, height_px))
        y = 120
        for text in texts:
            y = paragraph(draw, text, font, 90, y, width_px - 180, size)
        buffer = io.BytesIO()
        image.convert("1").save(buffer, format="PNG", optimize=True)  # bilevel, as office scanners save text
        canvas.drawImage(ImageReader(io.BytesIO(buffer.getvalue())), 0, 0, width=A5[0], height=A5[1])
        if number == 2:
            canvas.setFont("Helvetica", 9)
            canvas.drawString(A5[0] / 2, 20, str(number))
        canvas.showPage()
    canvas.save()


def _scan_page(texts: list[str], font_file: str, turned: int = 0) -> bytes:
    """An A5 page image at DPI with `texts` as indented paragraphs, turned by `turned` degrees
    (counter-clockwise, as a page fed sideways or upside down), as a bilevel PNG."""
    from reportlab.lib.pagesizes import A5

    size = 28
    font = ImageFont.truetype(font_file, size)
    image, draw = page((round(A5[0] / 72 * DPI), round(A5[1] / 72 * DPI)))
    y = 120
    for text in texts:
        y = paragraph(draw, text, font, 90, y, image.width - 180, size)
    if turned:
        image = image.rotate(turned, expand=True, fillcolor=255)
    buffer = io.BytesIO()
    image.convert("1").save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def turned_pdf(path: Path, font_file: str) -> None:
    """Two scanned A5 pages, the second scanned upside down (turned 180°)."""
    from reportlab.lib.pagesizes import A5
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen.canvas import Canvas

    canvas = Canvas(str(path), pagesize=A5)
    for texts, turned in (([XIHU], 0), ([LIJIANG], 180)):
        canvas.drawImage(ImageReader(io.BytesIO(_scan_page(texts, font_file, turned))), 0, 0, width=A5[0], height=A5[1])
        canvas.showPage()
    canvas.save()


def mixed_pdf(path: Path, font_file: str) -> None:
    """Three A5 pages: text layers on pages 1 and 3, a scan (an image only) on page 2."""
    from reportlab.lib.pagesizes import A5
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen.canvas import Canvas

    pdfmetrics.registerFont(TTFont("CJK", font_file, subfontIndex=0))
    canvas = Canvas(str(path), pagesize=A5)
    for number in (1, 2, 3):
        if number == 2:
            canvas.drawImage(ImageReader(io.BytesIO(_scan_page([XIHU], font_file))), 0, 0, width=A5[0], height=A5[1])
        else:
            canvas.setFont("CJK", 12)
            text = TEXT_PAGES[0 if number == 1 else 1]
            for line_number, start in enumerate(range(0, len(text), 24)):
                canvas.drawString(50, A5[1] - 80 - 18 * line_number, text[start : start + 24])
        canvas.showPage()
    canvas.save()


def photo_jpg(path: Path, font_file: str) -> None:
    """A phone photo of a page: grey paper, the page turned 3°, a little blur and noise, JPEG at quality 60."""
    from PIL import ImageFilter

    size = 30
    font = ImageFont.truetype(font_file, size)
    image = Image.new("L", (1100, 520), 232)
    draw = ImageDraw.Draw(image)
    y = 60
    for text in (XIHU, LIJIANG):
        y = paragraph(draw, text, font, 60, y, 980, size)
    image = image.rotate(3, resample=Image.BICUBIC, expand=True, fillcolor=200).filter(ImageFilter.GaussianBlur(0.8))
    noisy = np.asarray(image, dtype=np.float32) + np.random.default_rng(0).normal(0, 6, (image.height, image.width))
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(path, format="JPEG", quality=60)


def two_columns_png(path: Path, font_file: str) -> None:
    """A full-width title, then two columns whose lines share baselines."""
    size = 24
    font, title_font = ImageFont.truetype(font_file, size), ImageFont.truetype(font_file, 36)
    image, draw = page((1000, 560))
    draw.text((330, 40), "中国名山简介", font=title_font, fill=0)
    column = 430
    paragraph(draw, HUANGSHAN, font, 50, 130, column, size)
    paragraph(draw, TAISHAN, font, 520, 130, column, size)
    image.convert("1").save(path, optimize=True)


def rotated_png(path: Path, font_file: str) -> None:
    """Two lines of text on a page turned 90° counter-clockwise (a landscape scan fed sideways)."""
    size = 26
    font = ImageFont.truetype(font_file, size)
    image, draw = page((700, 200))
    for number, line in enumerate(TURNED):
        draw.text((40, 50 + number * 60), line, font=font, fill=0)
    image.rotate(90, expand=True).convert("1").save(path, optimize=True)


def main() -> None:
    OUT_DIR.mkdir(exist_ok=True)
    font_file = font_path()
    scanned_pdf(OUT_DIR / "scanned.pdf", font_file)
    two_columns_png(OUT_DIR / "two-columns.png", font_file)
    rotated_png(OUT_DIR / "rotated.png", font_file)
    turned_pdf(OUT_DIR / "turned.pdf", font_file)
    mixed_pdf(OUT_DIR / "mixed.pdf", font_file)
    photo_jpg(OUT_DIR / "photo.jpg", font_file)
    for file in sorted(OUT_DIR.iterdir()):
        print(f"{file.name}: {file.stat().st_size} bytes")


if __name__ == "__main__":
    main()
