"""Embedders importable by spec (`py:fakes:SlowFakeEmbedder`) for subprocess tests."""

import os
import time

import numpy as np

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


class CharAligner:
    """A fake token aligner (qa.retrieve.align): one token per character, matching only itself."""

    dim = 512

    def __init__(self):
        self.calls: list[list[list[str]]] = []

    def token_states(self, texts, is_query=False):
        from qa.models import TokenStates

        self.calls.append(texts)
        out = []
        for parts in texts:
            chars = [(number, ch) for number, part in enumerate(parts) for ch in part if not ch.isspace()]
            vectors = np.zeros((len(chars), self.dim), dtype=np.float32)
            for row, (_, ch) in enumerate(chars):
                vectors[row, ord(ch) % self.dim] = 1.0
            weights = np.array([1.0 if ch.isalnum() else 0.0 for _, ch in chars], dtype=np.float32)
            pieces = tuple(ch for _, ch in chars)
            out.append(TokenStates(vectors=vectors, parts=np.array([n for n, _ in chars], dtype=int), weights=weights, pieces=pieces))
        return out


class EmbedsWithStates:
    """A fake engine that is both an index's embedder and its aligner, as the default one is:
    it gives a question's vector and token states at once."""

    spec, dim = FakeEmbedder.spec, FakeEmbedder.dim

    def __init__(self):
        self.embedder, self.aligner = FakeEmbedder(), CharAligner()
        self.both = 0  # questions embedded with their states
        self.with_states: list[str] = []  # the texts of those questions

    def embed(self, texts, is_query=False):
        return self.embedder.embed(texts, is_query)

    def token_states(self, texts, is_query=False):
        return self.aligner.token_states(texts, is_query)

    def embed_query_with_states(self, text):
        self.both += 1
        self.with_states.append(text)
        return self.embed([text], is_query=True)[0], self.token_states([[text]], is_query=True)[0]


class PrefersTea:
    """A fake cross-encoder: scores a passage by whether it mentions tea."""

    def __init__(self):
        self.seen = []

    def score(self, question, texts):
        self.seen.append(len(texts))
        return [1.0 if "茶" in text else 0.0 for text in texts]


class ListedBackend:
    """A backend of named collections that only says what it was asked (qa.storage.store.Backend):
    the seam takes any class BACKENDS names."""

    asked: list = []

    def __init__(self, index_dir, uri):
        self.where = (index_dir, uri)

    def open_store(self, collection):
        ListedBackend.asked.append(("store", collection))
        return f"store of {collection}"

    def open_writer(self, collection, mode):
        ListedBackend.asked.append(("writer", collection, mode))
        return f"writer of {collection}"

    def published_generation(self, collection):
        return f"gen-{collection}"

    def list_collections(self):
        return [{"name": "zebra"}, {"name": "apple"}]
