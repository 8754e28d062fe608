"""An image file (PNG, JPEG, TIFF, WebP, BMP): its text, read by OCR (formats/ocr.py).

An image is one page-less document. Pillow reads it (it comes with the OCR extra); its size
is checked from the header before anything is decoded, so a decompression bomb is refused
without costing memory. A photo's EXIF orientation is applied, a transparent background
becomes white (text drawn on it would otherwise vanish into black), and a large image is
scaled down to what the OCR reads well. A multi-page TIFF is read on its first page only.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import replace

from . import ocr
from .assemble import Extracted, TextAssembler, UnreadableFile

MAX_PIXELS = 89_000_000  # Pillow's own bomb limit; a 600 dpi A3 scan is 70 Mpx. More is refused before decoding.


def extract(data: bytes) -> Extracted:
    why_not = ocr.unavailable()
    if why_not:
        raise UnreadableFile(f"an image: qa reads its text by OCR, and {why_not}")
    if not data:
        raise UnreadableFile("empty file (0 bytes)")
    image, frames = _decode(data)
    page = ocr.read_pages(data, [0], lambda _: (image, 1.0))[0]
    if not page.lines:
        raise UnreadableFile("no text found in the image (OCR)")
    assembler = TextAssembler()
    spans = ocr.lay_out(assembler, page, 0, None)
    notes = (f"only the first of its {frames} pages read",) if frames > 1 else ()
    result = assembler.result("image", title=ocr.cover_title(page), warnings=notes, layout=(ocr.note({0: page}, 0),))
    return replace(result, ocr_lines=tuple(spans))


def _decode(data: bytes):
    """The image as upright RGB on white, at most ocr.MAX_SIDE px a side, and its number of frames."""
    from PIL import Image, ImageOps

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise UnreadableFile(f"image too large ({width}×{height} pixels; qa reads images up to {MAX_PIXELS // 1_000_000} megapixels)")
        frames = getattr(image, "n_frames", 1)
        image.draft("RGB", (ocr.MAX_SIDE, ocr.MAX_SIDE))  # a large JPEG is decoded at a reduced size
        image = ImageOps.exif_transpose(image)
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
            rgba = image.convert("RGBA")
            image = Image.new("RGB", rgba.size, "white")
            image.paste(rgba, mask=rgba.getchannel("A"))
        elif image.mode in ("I;16", "I;16B", "I;16L", "I"):
            image = image.point(lambda value: value / 256).convert("L").convert("RGB")  # 16-bit greys
        else:
            image = image.convert("RGB")
        image.thumbnail((ocr.MAX_SIDE, ocr.MAX_SIDE))
        return image, frames
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UnreadableFile(f"image too large (over {Image.MAX_IMAGE_PIXELS // 1_000_000} megapixels: refused before decoding)") from None
    except UnreadableFile:
        raise
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError… for damaged files
        raise UnreadableFile(f"damaged or unsupported image ({str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__})") from None
