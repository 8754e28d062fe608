"""Embedders importable by spec (`py:fakes:SlowFakeEmbedder`) for subprocess tests."""

import os
import time

from conftest import FakeEmbedder


class SlowFakeEmbedder(FakeEmbedder):
    """The fake embedder, slowed down so a build can be interrupted part-way."""

    def embed(self, texts, is_query=False):
        if not is_query:
            time.sleep(float(os.environ.get("QA_FAKE_EMBED_SECONDS", "0.05")) * len(texts))
        return super().embed(texts, is_query)


class SlowQueryEmbedder(FakeEmbedder):
    """The fake embedder, taking `query_seconds` to embed a question (a slow search)."""

    def __init__(self, query_seconds: float = 1.0):
        super().__init__()
        self.query_seconds = query_seconds

    def embed(self, texts, is_query=False):
        if is_query:
            time.sleep(self.query_seconds)
        return super().embed(texts, is_query)
