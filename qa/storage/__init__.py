"""Where an index lives: the seam (backend) and what is behind it.

    store.py       what a backend is: it opens a Store to search and a Writer to build (protocols)
    backend.py     the seam: parse `--backend`, the registry of backends, open a Store or a Writer
    manifest.py    what an index says of itself: one typed, versioned record for every backend
    records.py     what a build hands over (Contents), what a write left, what BM25 found
    bm25.py        qa's BM25: the words of a text, stop words, parameters, coverage
    index_dir.py   the local index directory: generations swapped in atomically, the build lock
    generation.py  what one local generation holds, written and opened
    local.py       the local backend's Store: an opened generation and its two legs
    dense.py       the dense leg on disk: FAISS over sentence vectors
    lexical.py     the lexical leg on disk: BM25 postings and a small jieba dictionary
    token_states.py  each sentence's token states, kept for alignment
    milvus.py      the Milvus backend: both legs server-side (Milvus Lite, a server or a cluster)
"""
