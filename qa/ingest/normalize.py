"""Text normalization for matching only.

What users see, and what offsets point into, is always the original text; the
normalized form is what gets embedded and tokenized, so that segmentation
artifacts, glued pinyin, full-width forms and traditional script don't stop a
question from matching its passage.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# CJK ideographs and CJK punctuation / full-width forms.
_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
# A pinyin reading glued after a character: 網(wǎng) or 網（wǎng）. Readings are
# lowercase Latin letters, optionally with tone marks, at most 7 letters.
_PINYIN = re.compile(rf"(?<=[\u3400-\u9fff])[(（][a-zü{_TONED}]{{1,7}}[)）]")
# Whitespace that separates two CJK items, or a CJK item and anything else.
_SPACE_AROUND_CJK = re.compile(rf"(?<=[{_CJK}])\s+|\s+(?=[{_CJK}])")
# A `/` that separates segmented words: not between two ASCII letters/digits
# (which keeps "TCP/IP" and "2023/06" intact).
_SEGMENT_SLASH = re.compile(r"(?<![A-Za-z0-9])/|/(?![A-Za-z0-9])")
_SPACES = re.compile(r"\s+")


@functools.lru_cache(maxsize=1)
def _t2s():
    import opencc  # small and fast to import; still, only when needed

    return opencc.OpenCC("t2s")


def strip_pinyin(text: str) -> str:
    """`網(wǎng)絡(luò)` → `網絡`."""
    return _PINYIN.sub("", text)


def join_segmented(text: str) -> str:
    """Undo word segmentation with `/` or spaces between CJK words.

    Spaces between two Latin words survive, so English text keeps its words.
    """
    text = _SEGMENT_SLASH.sub("", text) if _looks_slash_segmented(text) else text
    return _SPACE_AROUND_CJK.sub("", text)


def _looks_slash_segmented(text: str) -> bool:
    # A slash every few characters is segmentation, not a date or a path.
    slashes = text.count("/")
    return slashes >= 3 and slashes * 8 >= len(text)


def to_simplified(text: str) -> str:
    return _t2s().convert(text)


def normalize(text: str) -> str:
    """The matching form of `text`: NFKC, pinyin stripped, segmentation joined, simplified."""
    # Join before NFKC: NFKC turns full-width brackets into ASCII ones, which
    # would hide the CJK context that tells a separator from a real space.
    text = join_segmented(strip_pinyin(text))
    text = unicodedata.normalize("NFKC", text)
    text = _SPACES.sub(" ", text).strip()
    return to_simplified(text).lower()
