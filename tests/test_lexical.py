import math

import numpy as np
import pytest

from qa.storage.bm25 import tokenize
from qa.storage.lexical import LexicalIndex

TEXTS = [
    "大熊猫是中国特有的珍稀动物，主要栖息在四川。",
    "龙井茶产于浙江省杭州市西湖一带。",
    "中央網絡安全和信息化領導小組第一次會議",
    "The Great Barrier Reef lies off Queensland.",
]


def test_tokenize_drops_stop_words_and_punctuation_and_normalizes():
    tokens = tokenize("大熊猫是什么？")
    assert "大熊猫" in tokens and "熊猫" in tokens  # search mode adds sub-words
    assert "是" not in tokens and "什么" not in tokens and "？" not in tokens
    assert "网络" in tokenize("網(wǎng)絡(luò)")



def test_word_segmented_text_tokenizes_as_if_it_were_not():
    # Slash-joined words must become the running text jieba expects, or compounds are lost.
    segmented = tokenize("中央/网络/安全/和/信息化/领导/小组")
    assert segmented == tokenize("中央网络安全和信息化领导小组")
    assert "网络安全" in segmented and "领导小组" in segmented


def test_bm25_ranks_the_matching_text_first():
    index = LexicalIndex().index(TEXTS)
    assert index.retrieve("熊猫住在哪里", 2)[0][0] == 0
    assert index.retrieve("网络安全领导小组", 2)[0][0] == 2
    assert index.retrieve("barrier reef", 2)[0][0] == 3
    assert index.retrieve("完全无关的词语组合", 2) == []


def test_rarer_terms_weigh_more():
    index = LexicalIndex().index(["苹果 香蕉", "苹果 橘子", "苹果 西瓜"])
    scores = index.scores("苹果 橘子")
    assert scores[1] > scores[0] == scores[2] > 0


def test_save_and_load_round_trip_with_the_small_query_dictionary(tmp_path):
    index = LexicalIndex().index(TEXTS)
    index.save(tmp_path / "lexical")
    loaded = LexicalIndex.load(tmp_path / "lexical")
    for query in ("熊猫住在哪里", "網絡安全", "西湖龙井", "reef"):
        assert np.allclose(loaded.scores(query), index.scores(query)), query
    dictionary = (tmp_path / "lexical" / "jieba_dict.txt").read_text(encoding="utf-8").splitlines()
    assert 0 < len(dictionary) < 200, "only the corpus's own words"


def test_ceiling_is_the_score_of_a_document_matching_every_query_word_once():
    # Every document has the average length, so document 0 (with a and b once) scores
    # exactly the ceiling's share for a and b; the word no document has adds its idf too.
    index = LexicalIndex().index_tokens([["a", "b"], ["a", "c"], ["d", "e"]])
    index.query_tokens = lambda query: ["a", "b", "zzz"]
    scores, ceiling = index.scores_and_ceiling("ignored")
    unseen = math.log(1 + (3 + 0.5) / 0.5)
    assert ceiling == pytest.approx(scores[0] + unseen)
    assert scores[0] == scores.max() < ceiling


def test_a_group_weighs_as_rare_as_all_its_alternatives_together():
    # "rice" alone is in one document, 大米 in two: written either way, the word is in three, and
    # a document scores the same for it whichever way it writes it (an English island in Chinese
    # text gets no more for "rice" than a passage saying 大米).
    index = LexicalIndex().index_tokens([["rice", "x"], ["大米", "x"], ["大米", "y"], ["z", "w"]])
    scores, ceiling = index.group_scores_and_ceiling([["rice", "大米"]])
    assert scores[0] == pytest.approx(scores[1]) and scores[0] > 0
    assert scores[3] == 0
    assert ceiling == pytest.approx(math.log(1 + (4 - 3 + 0.5) / (3 + 0.5)))


def test_coverage_is_the_share_of_query_words_the_collection_has_in_some_form():
    index = LexicalIndex().index(TEXTS)
    # 熊猫 is there, 茶叶 is not but its alternative 龙井茶 is, 火箭 is not at all.
    assert index.coverage([["熊猫"], ["茶叶", "龙井茶"], ["火箭"]]) == pytest.approx(2 / 3)
    assert index.coverage([["火箭", "卫星"]]) == 0.0
    assert index.coverage([]) == 0.0
