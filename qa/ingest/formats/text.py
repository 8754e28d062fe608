"""Plain text and Markdown: the file's own text, in whatever common encoding it is written."""

from __future__ import annotations

from .assemble import Extracted, UnreadableFile

# A file that is UTF-8 but for a few stray bytes (a bad copy, a cut multi-byte character) is
# read with those bytes replaced, and says so, rather than left out whole.
STRAY_SHARE = 0.01
CANNOT_DETECT = "cannot detect the text encoding"  # decode()'s reason, after which that is tried


def extract(data: bytes) -> Extracted:
    text, encoding = decode(data)
    if text is None and encoding == CANNOT_DETECT:
        text, stray = _nearly_utf8(data)
        if text is not None:
            return Extracted(text=text, format="text", encoding="utf-8", warnings=(f"{stray} places are not UTF-8 and read as �",))
    if text is None:
        raise UnreadableFile(encoding)
    return Extracted(text=text, format="text", encoding=encoding)


def decode(data: bytes) -> tuple[str | None, str]:
    """Return (text, encoding) or (None, reason for skipping)."""
    if not data.strip():
        return None, "empty file"
    # BOMs are unambiguous; check them before any guessing.
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return _strip_nul(data.decode(encoding, errors="replace")), encoding
    try:
        return _strip_nul(data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        pass
    if _looks_binary(data):
        return None, "binary file"
    return guess_encoding(data)


def guess_encoding(data: bytes) -> tuple[str | None, str]:
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=["gb18030", "big5", "utf_16", "utf_16_le", "utf_16_be", "shift_jis", "euc_kr", "cp1252"]).best()
    if best is None:
        return None, CANNOT_DETECT
    return _strip_nul(str(best)), best.encoding


def _nearly_utf8(data: bytes) -> tuple[str | None, int]:
    """(text, how many places were not UTF-8) when few enough were; else (None, that count)."""
    text = data.decode("utf-8", errors="replace")
    stray = text.count("�") - data.decode("utf-8", errors="ignore").count("�")
    return (_strip_nul(text) if stray <= STRAY_SHARE * len(text) else None), stray


def _looks_binary(data: bytes) -> bool:
    head = data[:8192]
    # UTF-16 without BOM has many NULs too, but alternating with text bytes.
    nul = head.count(b"\x00")
    if nul == 0:
        return False
    even, odd = head[0::2].count(b"\x00"), head[1::2].count(b"\x00")
    utf16_like = max(even, odd) > 0.3 * len(head) / 2 and min(even, odd) < 0.05 * len(head) / 2
    return not utf16_like


def _strip_nul(text: str) -> str:
    # A stray NUL is noise; replace it with a space so offsets stay honest to the text we keep.
    return text.replace("\x00", " ")
