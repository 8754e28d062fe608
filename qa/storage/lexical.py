"""The local lexical leg on disk: jieba tokens over normalized, simplified text, scored with
BM25 (the words and weights of qa.storage.bm25, which Milvus scores with too).

Lifecycle as in bm25s: `LexicalIndex.index(texts)`, `.retrieve(query)`, `.save(dir)`,
`LexicalIndex.load(dir)`. On disk it is plain arrays (term-major postings) that load
memory-mapped, and a JSON vocabulary: nothing is unpickled.

jieba's full dictionary takes about a second to load. Queries only need the words that
occur in the corpus (any other word scores zero), so the index carries a small jieba
dictionary of exactly those words, which loads in a fraction of the time.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from .bm25 import K1, B, coverage, full_tokenizer, idf, tokenize


class LexicalIndex:
    def __init__(self) -> None:
        self.vocab: dict[str, int] = {}
        self.indptr = np.zeros(1, dtype=np.int64)
        self.doc_ids = np.zeros(0, dtype=np.int32)
        self.weights = np.zeros(0, dtype=np.float32)
        self.n_docs = 0
        self._dictionary_path: Path | None = None
        self._query_tokenizer = None

    def index(self, texts: list[str], normalized: bool = False) -> "LexicalIndex":
        """Index documents; `normalized=True` when the texts are already normalized."""
        tokenizer = full_tokenizer()
        return self.index_tokens([tokenize(text, tokenizer, normalized) for text in texts], query_tokenizer=tokenizer)

    def index_tokens(self, documents: list[list[str]], query_tokenizer=None) -> "LexicalIndex":
        """Index documents given as token lists (what `index` does after tokenizing).

        `query_tokenizer` (a jieba Tokenizer) cuts the questions; by default, jieba's full dictionary.

        Vectorized: one pass in Python to number the tokens, the rest in numpy, so a
        million documents index in seconds, not minutes.
        """
        self.n_docs = len(documents)
        vocab: dict[str, int] = {}
        token_ids = np.fromiter(
            (vocab.setdefault(token, len(vocab)) for tokens in documents for token in tokens),
            dtype=np.int64,
        )
        lengths = np.fromiter((len(tokens) for tokens in documents), dtype=np.int64, count=self.n_docs)
        token_docs = np.repeat(np.arange(self.n_docs, dtype=np.int64), lengths)
        # Renumber terms in sorted order so the on-disk vocabulary is deterministic.
        terms = sorted(vocab)
        rank = np.empty(len(vocab), dtype=np.int64)
        rank[[vocab[t] for t in terms]] = np.arange(len(terms))
        self.vocab = {term: i for i, term in enumerate(terms)}
        keys, tf = np.unique(rank[token_ids] * max(self.n_docs, 1) + token_docs, return_counts=True)
        term_of, doc_of = keys // max(self.n_docs, 1), keys % max(self.n_docs, 1)
        df = np.bincount(term_of, minlength=len(terms))
        weights = idf(self.n_docs, df)
        average = lengths.mean() if self.n_docs and lengths.sum() else 1.0
        norm = K1 * (1 - B + B * lengths[doc_of] / average)
        self.weights = (weights[term_of] * tf * (K1 + 1) / (tf + norm)).astype(np.float32)
        self.doc_ids = doc_of.astype(np.int32)
        self.indptr = np.concatenate([[0], np.cumsum(df)]).astype(np.int64)
        self._query_tokenizer = query_tokenizer
        return self

    def query_tokens(self, query: str) -> list[str]:
        return list(dict.fromkeys(tokenize(query, self.query_tokenizer())))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every document for the query (zeros where no term matches)."""
        return self.token_scores(self.query_tokens(query))

    def token_scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every document for query tokens already cut."""
        scores = np.zeros(self.n_docs, dtype=np.float32)
        for token in tokens:
            term = self.vocab.get(token)
            if term is None:
                continue
            start, end = int(self.indptr[term]), int(self.indptr[term + 1])
            scores[self.doc_ids[start:end]] += self.weights[start:end]
        return scores

    def scores_and_ceiling(self, query: str) -> tuple[np.ndarray, float]:
        """BM25 scores, and the score a document of average length with each query word once would get.

        A query word the corpus lacks counts in the ceiling with the idf of a word in no document,
        so a question whose words mostly aren't in the corpus gets a low lexical share.
        """
        tokens = self.query_tokens(query)
        terms = [self.vocab.get(token) for token in tokens]
        df = np.array([0 if term is None else self.indptr[term + 1] - self.indptr[term] for term in terms], dtype=np.int64)
        return self.token_scores(tokens), float(idf(self.n_docs, df).sum())

    def group_scores_and_ceiling(self, groups: list[list[str]]) -> tuple[np.ndarray, float]:
        """BM25 of a query given as groups of alternative texts (qa.retrieve.crosslingual): each group scores
        as its best-matching alternative, an alternative as the sum of its words (all of which the
        corpus must have), weighed by how rare the group is: the idf of the passages holding any
        of its alternatives. A group is one word of the question, however it is written: "rice"
        is as common in Chinese text that says 米 everywhere as 米 is, and an English island in
        it ("射阳大米 sheyang rice") gets no more for "rice" than a passage saying 大米. The ceiling
        counts that idf for each group the corpus has an alternative of."""
        tokenizer = self.query_tokenizer()
        scores = np.zeros(self.n_docs, dtype=np.float32)
        ceiling = 0.0
        for group in groups:
            best, holding = None, np.zeros(self.n_docs, dtype=bool)
            for alternative in group:
                tokens = list(dict.fromkeys(tokenize(alternative, tokenizer)))
                terms = [self.vocab.get(token) for token in tokens]
                if not terms or None in terms:
                    continue
                has_all = np.ones(self.n_docs, dtype=bool)
                for term in terms:
                    has = np.zeros(self.n_docs, dtype=bool)
                    has[self.doc_ids[self.indptr[term] : self.indptr[term + 1]]] = True
                    has_all &= has
                df = np.array([self.indptr[t + 1] - self.indptr[t] for t in terms], dtype=np.int64)
                own_idf = float(idf(self.n_docs, df).sum())
                found = self.token_scores(tokens) * np.float32(1.0 / own_idf if own_idf > 0 else 0.0)  # per unit of idf
                best = found if best is None else np.maximum(best, found)
                holding |= has_all
            if best is not None:
                group_idf = float(idf(self.n_docs, np.array([holding.sum()], dtype=np.int64))[0])
                scores += best * np.float32(group_idf)
                ceiling += group_idf
        return scores, ceiling

    def coverage(self, groups: list[list[str]]) -> float:
        """Share of the groups (a query's words, each with its alternatives) the collection has."""
        tokenizer = self.query_tokenizer()
        return coverage(groups, lambda text: tokenize(text, tokenizer), self.vocab.__contains__)

    def retrieve(self, query: str, top_k: int = 10) -> list[tuple[int, float]]:
        scores = self.scores(query)
        top = np.argsort(-scores, kind="stable")[:top_k]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]

    def save(self, index_dir: Path) -> None:
        index_dir.mkdir(parents=True, exist_ok=True)
        terms = sorted(self.vocab, key=self.vocab.__getitem__)
        (index_dir / "vocab.json").write_text(json.dumps({"n_docs": self.n_docs, "terms": terms}, ensure_ascii=False), encoding="utf-8")
        np.save(index_dir / "indptr.npy", self.indptr)
        np.save(index_dir / "doc_ids.npy", self.doc_ids)
        np.save(index_dir / "weights.npy", self.weights)
        self._write_query_dictionary(index_dir / "jieba_dict.txt", terms)

    @classmethod
    def load(cls, index_dir: Path) -> "LexicalIndex":
        lexical = cls()
        meta = json.loads((index_dir / "vocab.json").read_text(encoding="utf-8"))
        lexical.n_docs = int(meta["n_docs"])
        lexical.vocab = {term: i for i, term in enumerate(meta["terms"])}
        lexical.indptr = np.load(index_dir / "indptr.npy", mmap_mode="r", allow_pickle=False)
        lexical.doc_ids = np.load(index_dir / "doc_ids.npy", mmap_mode="r", allow_pickle=False)
        lexical.weights = np.load(index_dir / "weights.npy", mmap_mode="r", allow_pickle=False)
        if len(lexical.indptr) != len(lexical.vocab) + 1 or len(lexical.doc_ids) != len(lexical.weights):
            raise ValueError("lexical index arrays are out of step")
        lexical._dictionary_path = index_dir / "jieba_dict.txt"
        return lexical

    def _write_query_dictionary(self, path: Path, terms: list[str]) -> None:
        full = full_tokenizer()
        full.check_initialized()
        lines = []
        for term in terms:
            # Only words jieba's own dictionary has, with its frequencies, so a query
            # segments as the corpus did; words jieba found by HMM are found again by HMM.
            frequency = full.FREQ.get(term)
            if frequency and " " not in term:
                lines.append(f"{term} {frequency}\n")
        # jieba scores a segmentation by log(freq / total); a filler entry keeps the
        # total equal to the full dictionary's, so the small one segments the same way.
        kept = sum(int(line.rsplit(" ", 1)[1]) for line in lines)
        lines.append(f"\ue000 {max(full.total - kept, 1)}\n")
        path.write_text("".join(lines), encoding="utf-8")

    def query_tokenizer(self):
        """The jieba tokenizer that cuts questions: a loaded index's small dictionary of its own words."""
        if self._query_tokenizer is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            if self._dictionary_path is not None and self._dictionary_path.exists():
                tokenizer = jieba.Tokenizer(dictionary=str(self._dictionary_path))
                tokenizer.tmp_dir = str(self._dictionary_path.parent)  # cache next to the index, not in /tmp
            else:
                tokenizer = full_tokenizer()
            self._query_tokenizer = tokenizer
        return self._query_tokenizer
