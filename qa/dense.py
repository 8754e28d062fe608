"""The dense leg: a FAISS inner-product index over L2-normalized sentence vectors.

Exact (flat) search up to FLAT_MAX_VECTORS, where it is still fast; HNSW beyond.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

FLAT_MAX_VECTORS = 200_000
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 128


def choose_index_type(n_vectors: int) -> str:
    return "flat" if n_vectors <= FLAT_MAX_VECTORS else "hnsw"


def build_faiss(vectors: np.ndarray, index_type: str):
    import faiss

    dim = vectors.shape[1]
    if index_type == "flat":
        index = faiss.IndexFlatIP(dim)
    elif index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    else:
        raise ValueError(f"unknown index type {index_type!r}")
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def save_faiss(index, path: Path) -> None:
    import faiss

    faiss.write_index(index, str(path))


def load_faiss(path: Path):
    import faiss

    index = faiss.read_index(str(path))
    if hasattr(index, "hnsw"):
        index.hnsw.efSearch = HNSW_EF_SEARCH
    return index


def search_faiss(index, query_vector: np.ndarray, top_k: int) -> tuple[np.ndarray, np.ndarray]:
    """(ids, similarities) of the top_k nearest vectors; ids of -1 dropped."""
    top_k = min(top_k, index.ntotal)
    if top_k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    similarities, ids = index.search(np.ascontiguousarray(query_vector.reshape(1, -1), dtype=np.float32), top_k)
    keep = ids[0] >= 0
    return ids[0][keep], similarities[0][keep]
