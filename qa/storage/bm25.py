"""qa's BM25, as both backends score it: the words of a text (search-mode jieba tokens of its
normalized form, stop words and punctuation left out), the parameters, the idf, and how a
question's words (with an English question's translations) cover a collection.

The local leg (qa.storage.lexical) and Milvus's server-side BM25 (qa.storage.milvus) both
cut and weigh words here, so the two backends rank alike.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable

import numpy as np

from ..ingest.normalize import normalize

K1 = 1.2
B = 0.75

# Punctuation, and function and question words that say nothing about which passage answers.
STOP_WORDS = frozenset(
    """的 了 是 在 和 与 及 或 也 都 而 并 等 这 那 之 其 为 以 于 对 把 被 从 到 个 有 着 过 就 又 还 将 所
    吗 呢 吧 啊 么 什么 怎么 怎样 如何 多少 几 谁 哪 哪里 哪个 哪些 为何 为什么 是否 是不是 请问
    我 你 他 她 它 我们 你们 他们 她们 它们 一个 一种 该 此 即 则 但 因为 所以 如果 可以 会 能
    the a an of to in on for and or is are was were be by with as at what which who whom how why when where does do did""".split()
)
_TOKEN = re.compile(r"\w", re.UNICODE)
_jieba_lock = threading.Lock()


def full_tokenizer():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba.dt


def _keep(token: str) -> bool:
    return bool(_TOKEN.search(token)) and token not in STOP_WORDS


def idf(n_docs: int, df: np.ndarray) -> np.ndarray:
    """BM25 idf; the ceiling of a query must use the same formula as the index weights."""
    return np.log(1 + (n_docs - df + 0.5) / (df + 0.5))


def query_groups(tokens: list[str], translations: list[list[str]] | None) -> list[list[str]]:
    """A question's words for BM25, each with its alternatives: its tokens as they are or, for a
    question in other letters than the text (qa.retrieve.crosslingual), its English words' translation
    groups and the tokens that are not Latin (a Chinese name in it, café)."""
    if translations is None:
        return [[token] for token in tokens]
    return translations + [[token] for token in tokens if not token.isascii()]


def coverage(groups: list[list[str]], tokens_of: Callable[[str], list[str]], known: Callable[[str], bool]) -> float:
    """Share of the groups (a query's words, each with its alternatives) that the collection
    has an alternative of, every word of it: a question about something else shares few."""

    def has(text: str) -> bool:
        tokens = tokens_of(text)
        return bool(tokens) and all(known(token) for token in tokens)

    return sum(any(has(alternative) for alternative in group) for group in groups) / len(groups) if groups else 0.0


def tokenize(text: str, tokenizer=None, normalized: bool = False) -> list[str]:
    """Search-mode jieba tokens of the normalized text, minus stop words and punctuation.

    Pass `normalized=True` when `text` already went through `normalize`.
    """
    tokenizer = tokenizer or full_tokenizer()
    form = text if normalized else normalize(text)
    with _jieba_lock:  # jieba's lazy initialization is not thread-safe
        tokens = tokenizer.lcut_for_search(form)
    return [token for token in (t.strip() for t in tokens) if token and _keep(token)]
