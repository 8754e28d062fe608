import numpy as np
import pytest

from qa.storage.token_states import SentenceTokens, TokenTable, dequantize, quantize


def unit_rows(n, dim=16, seed=0):
    rows = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_int8_rows_keep_their_direction():
    rows = unit_rows(50, dim=384)
    back = dequantize(*quantize(rows))
    assert back.dtype == np.float32 and np.allclose(np.linalg.norm(back, axis=1), 1.0, atol=1e-5)
    assert (back * rows).sum(axis=1).min() > 0.999


def test_a_table_gives_back_each_sentence_and_runs_of_them():
    sentences = [SentenceTokens(ids=np.array([5, 6, 7]), vectors=unit_rows(3)), SentenceTokens(ids=np.array([], dtype=np.int32), vectors=np.zeros((0, 16), np.float32)), SentenceTokens(ids=np.array([9]), vectors=unit_rows(1, seed=1))]
    table = TokenTable.of(sentences, dim=16)
    assert len(table) == 3
    assert table.sentence(0).ids.tolist() == [5, 6, 7] and len(table.sentence(1).ids) == 0
    ids, vectors, parts = table.sentences(0, 3)
    assert ids.tolist() == [5, 6, 7, 9] and parts.tolist() == [0, 0, 0, 2]
    assert (vectors[3] @ sentences[2].vectors[0]) > 0.999


def test_saved_tables_load_memory_mapped_and_are_checked_against_the_index(tmp_path):
    table = TokenTable.of([SentenceTokens(ids=np.array([1, 2]), vectors=unit_rows(2))], dim=16)
    table.save(tmp_path / "states")
    loaded = TokenTable.load(tmp_path / "states", sentence_count=1, dim=16)
    assert loaded.sentence(0).ids.tolist() == [1, 2]
    with pytest.raises(ValueError, match="out of step"):
        TokenTable.load(tmp_path / "states", sentence_count=2, dim=16)
    with pytest.raises(ValueError, match="out of step"):
        TokenTable.load(tmp_path / "states", sentence_count=1, dim=8)


def test_an_empty_table():
    table = TokenTable.of([], dim=16)
    assert len(table) == 0 and table.vectors.shape == (0, 16)
