import numpy as np
import pytest

from qa.embedding.vocabulary import Vocabulary

PIECES = ["<unk>", "▁", "▁熊猫", "熊", "熊猫", "猫", "a", "ab", "abc", "𠀀𠀁", "", "ab"]


def vocabulary(pieces=PIECES, skip=0, index_dir=None):
    encoded = [p.encode("utf-8") for p in pieces]
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in encoded])]).astype("<u4")
    scores = -np.arange(len(pieces), dtype=np.float64)
    return Vocabulary(b"".join(encoded), offsets, scores, skip=skip, index_dir=index_dir)


def answers(vocab) -> list:
    return [vocab.find(p) for p in PIECES + ["熊猫猫", "z"]] + [vocab.longest(c) for c in "▁熊猫a𠀀z"]


def test_the_lookup_tables_are_kept_and_read_back_without_being_made_again(tmp_path, monkeypatch):
    index_dir = tmp_path / "cache" / "vocab"
    made = answers(vocabulary(index_dir=index_dir))
    assert made == answers(vocabulary())
    assert sorted(p.name for p in index_dir.iterdir()) == ["longest.npy", "order.npy", "sorted_keys.npy"]
    assert not [p for p in index_dir.parent.iterdir() if p.name.endswith(".tmp")], "nothing half-written is left"
    monkeypatch.setattr(Vocabulary, "_tables", lambda self: pytest.fail("a cold start made the tables again"))
    assert answers(vocabulary(index_dir=index_dir)) == made


def test_tables_of_other_pieces_are_not_trusted(tmp_path):
    index_dir = tmp_path / "vocab"
    vocabulary(PIECES[:5], index_dir=index_dir)  # tables of a shorter vocabulary
    assert answers(vocabulary(index_dir=index_dir)) == answers(vocabulary())


def test_a_cache_that_cannot_be_written_is_passed_over(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    assert answers(vocabulary(index_dir=tmp_path / "file" / "vocab")) == answers(vocabulary())


def test_each_id_reads_back_its_piece_in_any_script():
    vocab = vocabulary()
    assert len(vocab) == len(PIECES)
    assert [vocab[i] for i in range(len(vocab))] == PIECES
    assert vocab[-1] == "ab"
    with pytest.raises(IndexError):
        vocab[len(PIECES)]


def test_find_gives_id_and_score_and_the_last_of_a_repeated_piece():
    vocab = vocabulary()
    assert vocab.find("熊猫") == (4, -4.0)
    assert vocab.find("▁熊猫") == (2, -2.0)
    assert vocab.find("𠀀𠀁") == (9, -9.0)  # characters outside the BMP
    assert vocab.find("ab") == (11, -11.0)  # as a dict built in id order keeps it
    assert vocab.find("熊猫猫") is None and vocab.find("") is None and vocab.find("z") is None


def test_the_skipped_piece_is_never_found():
    assert vocabulary().find("<unk>") is None
    assert vocabulary(skip=None).find("<unk>") == (0, 0.0)


def test_longest_piece_by_first_character():
    vocab = vocabulary()
    assert vocab.longest("a") == 3 and vocab.longest("熊") == 2 and vocab.longest("▁") == 3
    assert vocab.longest("z") == 0 and vocab.longest("\U0010ffff") == 0


def test_only_the_groups_asked_for_are_made_into_strings():
    vocab = vocabulary()
    assert vocab.loaded == 0
    vocab.find("熊猫")
    assert vocab.loaded == 1  # the pieces that start with 熊猫
    vocab.find("熊")
    assert vocab.loaded == 2
