import numpy as np
import pytest

from qa.embedding.vocabulary import Vocabulary

PIECES = ["<unk>", "▁", "▁熊猫", "熊", "熊猫", "猫", "a", "ab", "abc", "𠀀𠀁", "", "ab"]


def vocabulary(pieces=PIECES, skip=0):
    encoded = [p.encode("utf-8") for p in pieces]
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in encoded])]).astype("<u4")
    scores = -np.arange(len(pieces), dtype=np.float64)
    return Vocabulary(b"".join(encoded), offsets, scores, skip=skip)


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
