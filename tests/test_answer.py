import numpy as np

from qa.answer import pick_answer
from qa.chunker import sentence_spans
from qa.models import Passage
from qa.normalize import normalize

TEXT = "前言部分。大熊猫每天要吃12到38公斤竹子。野生大熊猫约有1864只。"


def make_passage(offset=100):
    return Passage(id="p", doc_path="a.txt", title="", section="", paragraph=1, line_start=1, line_end=1, char_start=offset, char_end=offset + len(TEXT), text=TEXT)


SPANS = sentence_spans(TEXT, 100)
FORMS = [normalize(TEXT[a - 100 : b - 100]) for a, b in SPANS]


def test_answer_offsets_point_into_the_file():
    p = make_passage()
    answer = pick_answer(p, SPANS, FORMS, normalize("野生大熊猫有多少只"), None)
    file_text = " " * 100 + TEXT
    assert answer.text == "野生大熊猫约有1864只。"
    assert file_text[answer.char_start : answer.char_end] == answer.text


def test_similarity_decides_when_overlap_is_equal():
    p = make_passage()
    answer = pick_answer(p, SPANS, FORMS, normalize("完全不同的词"), np.array([0.1, 0.9, 0.2]))
    assert answer.text == "大熊猫每天要吃12到38公斤竹子。"


def test_no_spans_no_answer():
    assert pick_answer(make_passage(), [], [], "问题", None) is None


def test_a_close_neighbour_joins_the_answer():
    from qa import answer

    p = make_passage()
    both = pick_answer(p, SPANS, FORMS, normalize("完全不同的词"), np.array([0.1, 0.9, 0.9 - answer.PAIR_MARGIN / 2]))
    assert both.text == "大熊猫每天要吃12到38公斤竹子。野生大熊猫约有1864只。"
    assert (" " * 100 + TEXT)[both.char_start : both.char_end] == both.text
    alone = pick_answer(p, SPANS, FORMS, normalize("完全不同的词"), np.array([0.1, 0.9, 0.9 - answer.PAIR_MARGIN * 2]))
    assert alone.text == "大熊猫每天要吃12到38公斤竹子。"


def test_rare_question_characters_outweigh_common_ones():
    # "大熊猫" is in two sentences, "野生" in one: the sentence with the rare match wins.
    p = make_passage()
    answer = pick_answer(p, SPANS, FORMS, normalize("野生的大熊猫"), np.array([0.5, 0.5, 0.5]))
    assert answer.text.startswith("野生大熊猫")
