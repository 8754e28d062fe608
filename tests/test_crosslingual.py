import json
import os
from pathlib import Path

import numpy as np
import pytest

from qa import search
from qa.retrieve import crosslingual


@pytest.fixture(scope="module", autouse=True)
def cache_dir(tmp_path_factory):
    """The parsed dictionary's cache goes to a fresh directory, not the user's."""
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    crosslingual.dictionary.cache_clear()
    yield os.environ["XDG_CACHE_HOME"]
    crosslingual.dictionary.cache_clear()
    if before is None:
        del os.environ["XDG_CACHE_HOME"]
    else:
        os.environ["XDG_CACHE_HOME"] = before


def test_the_parsed_dictionary_is_cached_and_read_back_the_same(cache_dir):
    crosslingual.dictionary.cache_clear()
    parsed = crosslingual.dictionary()
    (cached,) = (p for p in (Path(cache_dir) / "qa").iterdir() if p.suffix == ".json")
    crosslingual.dictionary.cache_clear()
    assert crosslingual.dictionary() == parsed
    assert "雨林" in parsed["rainforest"]
    cached.write_text("{not json", encoding="utf-8")  # a damaged cache is parsed again, and rewritten
    crosslingual.dictionary.cache_clear()
    assert crosslingual.dictionary() == parsed
    assert json.loads(cached.read_text(encoding="utf-8")) == parsed


def test_english_words_and_phrases_become_groups_of_chinese_alternatives():
    groups = crosslingual.translation_groups("Who won Super Bowl 50 in the Amazon rainforest?")
    by_word = {group[0]: group[1:] for group in groups}
    assert "who" not in by_word and "the" not in by_word  # question and function words
    assert "赢" in by_word["won"]  # an irregular past tense, through its base form
    assert by_word["50"] == []  # numbers are carried as they are
    assert "亚马逊" in by_word["amazon"] and "雨林" in by_word["rainforest"]
    assert ["超级杯", "超级碗"] in groups  # a phrase the dictionary has, as its own group


def test_a_chinese_place_name_in_pinyin_finds_its_characters():
    # CC-CEDICT gives 射阳 only as "Sheyang county in Yancheng …": its pinyin keys it.
    by_word = {group[0]: group[1:] for group in crosslingual.translation_groups("Sheyang rice")}
    assert "射阳" in by_word["sheyang"]
    assert "pengyou" not in crosslingual.dictionary() and "xuexi" not in crosslingual.dictionary(), "a common word's pinyin is no name"


@pytest.mark.parametrize("word, base", [("reefs", "reef"), ("businessmen", "businessman"), ("cities", "city"), ("warsaw's", "warsaw"), ("largest", "large")])
def test_inflected_words_are_looked_up_by_their_base_form(word, base):
    (group,) = crosslingual.translation_groups(word)
    (expected,) = crosslingual.translation_groups(base)
    assert set(expected[1:]) <= set(group[1:]) and expected[1:]


def test_the_foreign_share_counts_letters_of_every_script_but_chinese():
    assert crosslingual.foreign_share("В каком году умер Тесла?") == 1.0
    assert crosslingual.latin_share("В каком году умер Тесла?") == 0.0
    assert crosslingual.foreign_share("龙井茶产于哪里？") == 0.0
    assert crosslingual.foreign_share("NASUWT是什么组织的简称？") == pytest.approx(6 / 14)
    assert crosslingual.foreign_share("?!") == 0.0


def test_only_mostly_latin_questions_are_translated():
    assert crosslingual.is_translated("Where is Longjing tea grown?")
    assert not crosslingual.is_translated("龙井茶产于哪里？")
    assert not crosslingual.is_translated("NASUWT是什么组织的简称？")
    assert crosslingual.with_translations("龙井茶产于哪里？", "龙井茶产于哪里?") == "龙井茶产于哪里?"
    assert "茶" in crosslingual.with_translations("Where is Longjing tea grown?", "where is longjing tea grown?").split("|")


@pytest.fixture
def chinese_index(corpus_dir, tmp_path, fake_embedder):
    """The test corpus without its one English document."""
    from qa import build_index, load_index

    (corpus_dir / "reef.txt").unlink()
    build_index(corpus_dir, tmp_path / "zh-index", embedder=fake_embedder)
    return load_index(tmp_path / "zh-index", embedder=fake_embedder)


def test_an_english_question_finds_a_chinese_passage_only_through_the_dictionary(chinese_index, monkeypatch):
    # The fake embedder hashes character bigrams: an English question shares none with Chinese
    # text, so neither the dense leg nor plain BM25 can find the answer; the translations can.
    question = "How much bamboo does a giant panda eat every day?"
    (hit,) = chinese_index.search(question, top_k=1)
    assert hit.passage.doc_path == "panda.txt"
    assert "竹子" in hit.answer.text
    monkeypatch.setattr(crosslingual, "is_translated", lambda question: False)
    assert chinese_index.search(question, top_k=1, mode="lexical") == []
    assert chinese_index.search(question, top_k=1)[0].passage.doc_path != "panda.txt"


def test_chinese_questions_never_load_the_dictionary(fake_index):
    crosslingual.dictionary.cache_clear()
    fake_index.search("龙井茶产于哪里", top_k=1)
    fake_index.search("NASUWT和大熊猫", top_k=1)
    assert crosslingual.dictionary.cache_info().currsize == 0
    fake_index.search("Where is Longjing tea grown?", top_k=1)
    assert crosslingual.dictionary.cache_info().currsize == 1


def test_the_gloss_takes_the_sense_the_feedback_passages_use():
    question = "Which plant in Shanghai makes cars?"
    assert "厂" in crosslingual.gloss(question, ["上海的汽车厂生产汽车。"]).split()
    assert "植物" in crosslingual.gloss(question, ["这种植物生长在上海。"]).split()
    words = crosslingual.gloss("Where did Kuechly work in 1884?", ["他在巴黎工作。"]).split()
    assert words == ["kuechly", "工作", "1884"]  # names and numbers as they are
    assert crosslingual.gloss("Where did Kuechly work?", ["完全无关的文字。"]) == ""  # no translation the feedback uses


def test_an_english_question_is_embedded_again_with_its_gloss(chinese_index, monkeypatch):
    # The fake embedder hashes character bigrams: the English question alone shares none with
    # the Chinese passage; its gloss, in the words of the passages the first search found, does.
    question = "How much bamboo does a giant panda eat every day?"
    (with_gloss,) = chinese_index.search(question, top_k=1)
    assert with_gloss.passage.doc_path == "panda.txt"
    monkeypatch.setattr(crosslingual, "gloss", lambda question, feedback: "")
    (without,) = (hit for hit in chinese_index.search(question, top_k=5) if hit.passage.doc_path == "panda.txt")
    assert with_gloss.dense_score > without.dense_score + 0.03


def test_the_gloss_reads_the_lexical_legs_best_passages_as_well(chinese_index, monkeypatch):
    # With room for one fused passage only, the translations' best passage still informs the
    # gloss, wherever the first fused ranking put it.
    monkeypatch.setattr(crosslingual, "FEEDBACK_PASSAGES", 1)
    monkeypatch.setattr(search, "fuse", lambda *args: np.arange(len(args[1]), dtype=np.float32))  # a ranking that ignores both legs
    read = []
    monkeypatch.setattr(crosslingual, "gloss", lambda question, feedback: read.extend(feedback) or "")
    chinese_index.search("How much bamboo does a giant panda eat every day?", top_k=1)
    assert len(read) == 2 and any("竹子" in text for text in read)


def test_given_a_gloss_the_answer_picker_looks_for_its_words_only():
    question, form = "Which plant makes cars?", "which plant makes cars?"
    assert crosslingual.with_translations(question, form, "厂 汽车 kuechly").split("|") == [form, "厂", "汽车"]
    assert "植物" in crosslingual.with_translations(question, form).split("|")  # no gloss: every translation


def test_sentences_in_the_questions_language_owe_it_a_bias_only_in_a_document_in_another():
    forms = ["3.1 射阳大米 sheyang rice", "在国家有关主管部门批准的范围内种植的水稻", "Preparation of periodic safety review"]
    bias = crosslingual.language_bias("地理标志产品射阳大米", forms)
    assert bias.tolist() == pytest.approx([crosslingual.LANGUAGE_BIAS, 0.0, crosslingual.LANGUAGE_BIAS])
    assert not crosslingual.language_bias("AN4449 application note", forms).any(), "an English document's English is its own"


def test_the_gloss_takes_the_word_the_feedback_uses_not_a_character_inside_it():
    # 规 is a translation of "rules" too, and a character is found inside every word that holds
    # it (规则, 规划, 规模 …): counted as it stands, it looked the most used translation.
    feedback = ["会议审议通过了工作规则。规则的规划和规模另行规定。"]
    words = crosslingual.gloss("Which rules were approved?", feedback).split()
    assert "规则" in words and "规" not in words
