"""Where an index lives: the seam (backend) and what is behind it.

    backend.py     the seam: parse `--backend`, open a Store to search or a Writer to build
    index_dir.py   the local index directory: generations swapped in atomically, the build lock
    generation.py  what one local generation holds, written and opened
    local.py       the local backend's Store: an opened generation and its two legs
    dense.py       the dense leg on disk: FAISS over sentence vectors
    lexical.py     the lexical leg on disk: jieba tokens scored with BM25
    milvus.py      the Milvus backend: both legs server-side (Milvus Lite, a server or a cluster)
"""
