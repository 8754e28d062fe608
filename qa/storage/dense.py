"""The dense leg: a FAISS inner-product index over L2-normalized sentence vectors.

Exact (flat) search up to FLAT_MAX_VECTORS, where it is still fast enough; beyond it an
approximate index (see benchmarks/scale.py for the measurements behind the choice).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

# Exact search over 100k vectors takes ~14 ms here, over 1M ~180 ms; IVF answers both
# in under a few ms with recall@10 >= 0.98 (benchmarks/scale.py).
FLAT_MAX_VECTORS = 50_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128
IVF_LISTS_PER_SQRT = 4  # nlist = 4 * sqrt(n), the usual rule of thumb
IVF_PROBE_SHARE = 1 / 16  # lists searched per query


def choose_index_type(n_vectors: int) -> str:
    return "flat" if n_vectors <= FLAT_MAX_VECTORS else "ivf"


def build_faiss(vectors: np.ndarray, index_type: str):
    import faiss

    dim = vectors.shape[1]
    if index_type == "flat":
        index = faiss.IndexFlatIP(dim)
    elif index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    elif index_type == "ivf":
        n_lists = max(int(IVF_LISTS_PER_SQRT * np.sqrt(len(vectors))), 1)
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, n_lists, faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(0).choice(len(vectors), min(len(vectors), n_lists * 50), replace=False)
        index.train(np.ascontiguousarray(vectors[np.sort(sample)], dtype=np.float32))
    else:
        raise ValueError(f"unknown index type {index_type!r}")
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def save_faiss(index, path: Path) -> None:
    import faiss

    faiss.write_index(index, str(path))


def tune_for_search(index) -> None:
    """Search-time knobs, which FAISS does not save with the index."""
    if hasattr(index, "hnsw"):
        index.hnsw.efSearch = HNSW_EF_SEARCH
    if hasattr(index, "nprobe"):
        index.nprobe = max(int(index.nlist * IVF_PROBE_SHARE), 8)


def load_faiss(path: Path):
    import faiss

    index = faiss.read_index(str(path))
    tune_for_search(index)
    return index


def search_faiss(index, query_vector: np.ndarray, top_k: int, selected: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(ids, similarities) of the top_k nearest vectors; ids of -1 dropped.

    With `selected` (sorted ids), only those are searched: a filter applied before ranking,
    so a filtered search still returns top_k when that many match.
    """
    top_k = min(top_k, index.ntotal if selected is None else len(selected))
    if top_k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    query = np.ascontiguousarray(query_vector.reshape(1, -1), dtype=np.float32)
    if selected is None:
        similarities, ids = index.search(query, top_k)
    else:
        similarities, ids = index.search(query, top_k, params=_selection(index, selected))
    keep = ids[0] >= 0
    return ids[0][keep], similarities[0][keep]


def search_flat(vectors: np.ndarray, query_vector: np.ndarray, top_k: int, selected: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """search_faiss's answer for a flat index, from the vectors themselves: exact search is one
    matrix product, and a question then loads no FAISS (~15 MiB, tens of ms) nor a second
    copy of the vectors."""
    rows = np.arange(len(vectors)) if selected is None else np.asarray(selected, dtype=np.int64)
    similarities = np.asarray(vectors[rows] if selected is not None else vectors, dtype=np.float32) @ query_vector.astype(np.float32)
    top_k = min(top_k, len(similarities))
    if top_k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    best = np.argpartition(-similarities, top_k - 1)[:top_k]
    best = best[np.argsort(-similarities[best], kind="stable")]
    return rows[best], similarities[best]


def _selection(index, selected: np.ndarray):
    import faiss

    chosen = faiss.IDSelectorBatch(np.ascontiguousarray(selected, dtype=np.int64))
    if hasattr(index, "nprobe"):
        return faiss.SearchParametersIVF(sel=chosen, nprobe=index.nprobe)
    if hasattr(index, "hnsw"):
        return faiss.SearchParametersHNSW(sel=chosen, efSearch=index.hnsw.efSearch)
    return faiss.SearchParameters(sel=chosen)
