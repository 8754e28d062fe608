"""The local store's lazily built lookup tables, shared by a server's threads."""

import threading
import time

from qa.storage.local import open_generation


class SlowList(list):
    """A passage list whose iteration yields the processor at every item, as a busy server's would."""

    def __iter__(self):
        for item in list.__iter__(self):
            time.sleep(0.0005)
            yield item


def ask_from_threads(call, threads=8):
    results, start = [], threading.Barrier(threads)

    def worker():
        start.wait()
        results.append(call())

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return results


def test_the_first_callers_of_document_numbers_never_see_it_half_built(fake_index):
    store = open_generation(fake_index.generation_dir.parent)
    store.passages = SlowList(store.passages)
    last = store.passages[-1].doc_path
    found = ask_from_threads(lambda: store.document_numbers(last))
    assert all(numbers for numbers in found)


def test_document_masks_asked_for_at_once_are_each_right(fake_index):
    store = open_generation(fake_index.generation_dir.parent)
    paths = sorted({p.doc_path for p in store.passages})
    store.passages = SlowList(store.passages)
    wanted = [frozenset([path]) for path in paths]
    counter = iter(range(1000))
    masks = ask_from_threads(lambda: (n := next(counter) % len(wanted), store.allowed(wanted[n])))
    for n, mask in masks:
        assert [p.doc_path for p, kept in zip(store.passages, mask) if kept] == [p.doc_path for p in store.passages if p.doc_path == paths[n]]


def test_a_store_is_freed_as_soon_as_it_is_dropped(corpus_dir, tmp_path, fake_embedder):
    # Without a cycle between a store and its legs, a replaced generation's arrays and mapped
    # files go when the last reference does, not at the garbage collector's next full pass.
    import gc
    import weakref

    from qa import build_index, load_index

    build_index(corpus_dir, tmp_path / "index", embedder=fake_embedder)
    index = load_index(tmp_path / "index", embedder=fake_embedder)
    index.search("龙井茶产于哪里", top_k=2, mode="lexical")  # both legs opened
    gone = weakref.ref(index.store)
    gc.disable()
    try:
        del index
        assert gone() is None
    finally:
        gc.enable()
