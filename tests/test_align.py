import numpy as np
import pytest
from fakes import CharAligner

from qa.retrieve.align import CONTEXT_MATCH, PassageStates, QuestionAlignment, alignment, part_matches, sentence_alignment
from qa.models import TokenStates
from qa.embedding.embedders import load_aligner


def states(rows, parts=None, weights=None):
    vectors = np.array(rows, dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    n = len(rows)
    parts = np.array(parts if parts is not None else [0] * n)
    weights = np.array(weights if weights is not None else [1.0] * n, dtype=np.float32)
    return TokenStates(vectors=vectors, parts=parts, weights=weights, pieces=tuple(f"t{i}" for i in range(n)))


def test_each_question_token_counts_its_best_match_weighted_by_rarity():
    question = states([[1, 0, 0], [0, 1, 0]], weights=[3.0, 1.0])
    passage = states([[1, 0, 0], [0, 0, 1]])
    # The rare token is matched exactly, the common one not at all: 3/4.
    assert alignment(question, part_matches(question, passage, 1)) == pytest.approx(0.75)
    assert alignment(question, part_matches(question, states([[0, 1, 0]]), 1)) == pytest.approx(0.25)


def test_each_part_scores_by_its_own_tokens():
    question = states([[1, 0, 0], [0, 1, 0]])
    passage = states([[1, 0, 0], [0, 1, 0], [0, 0, 1]], parts=[0, 1, 1])
    # Each question token's best similarity in each part; part 2 has no token.
    assert np.allclose(part_matches(question, passage, 3), [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    assert alignment(question, part_matches(question, passage, 3)) == pytest.approx(1.0)


def test_a_passages_best_sentence_must_match_the_question_words_together():
    question = states([[1, 0, 0], [0, 1, 0]])
    scattered = states([[1, 0, 0], [0, 1, 0], [0, 0, 1]], parts=[0, 1, 1])  # one word in each sentence
    together = states([[0, 0, 1], [1, 0, 0], [0, 1, 0]], parts=[0, 1, 1])  # both in the second
    assert alignment(question, part_matches(question, scattered, 2)) == alignment(question, part_matches(question, together, 2)) == pytest.approx(1.0)
    assert sentence_alignment(question, part_matches(question, scattered, 2)) == pytest.approx(0.5)
    assert sentence_alignment(question, part_matches(question, together, 2)) == pytest.approx(1.0)


def test_a_word_the_title_spells_out_counts_in_every_sentence():
    question = TokenStates(
        vectors=states([[1, 0, 0], [0, 1, 0]]).vectors, parts=np.zeros(2, dtype=int), weights=np.ones(2, dtype=np.float32), pieces=("▁射阳", "检验")
    )
    best = part_matches(question, states([[0, 0, 1], [0, 1, 0]], parts=[0, 1]), 2)  # the second sentence says 检验
    assert sentence_alignment(question, best) == pytest.approx(0.5)
    assert sentence_alignment(question, best, "射阳大米 › 型式检验") == pytest.approx((CONTEXT_MATCH + 1.0) / 2)
    assert sentence_alignment(question, np.zeros((2, 0), dtype=np.float32)) == 0.0


def test_tokens_given_out_of_their_parts_order_match_as_in_order():
    question = states([[1, 0, 0], [0, 1, 0]])
    shuffled = states([[0, 1, 0], [1, 0, 0], [0, 0, 1]], parts=[1, 0, 2])
    in_order = states([[1, 0, 0], [0, 1, 0], [0, 0, 1]], parts=[0, 1, 2])
    assert np.array_equal(part_matches(question, shuffled, 4), part_matches(question, in_order, 4))
    assert part_matches(question, in_order, 2).tolist() == [[1.0, 0.0], [0.0, 1.0]]  # a part past `parts` is left out


def test_a_question_token_the_passages_title_or_headings_spell_out_counts_as_a_close_match():
    question = TokenStates(
        vectors=states([[1, 0, 0], [0, 1, 0]]).vectors, parts=np.zeros(2, dtype=int), weights=np.ones(2, dtype=np.float32), pieces=("▁射阳", "检验")
    )
    best = part_matches(question, states([[0, 1, 0]]), 1)  # says 检验, not the product's name
    assert alignment(question, best) == pytest.approx(0.5)
    assert alignment(question, best, "地理标志产品射阳大米 › 7.5 型式检验") == pytest.approx((CONTEXT_MATCH + 1.0) / 2)
    assert alignment(question, best, "地理标志产品盘锦大米") == pytest.approx(0.5), "a title without the word adds nothing"
    assert CONTEXT_MATCH < 1.0, "a title's word is not the passage saying it"


def test_a_question_of_punctuation_or_an_empty_passage_aligns_with_nothing():
    assert alignment(states([[1, 0]], weights=[0.0]), part_matches(states([[1, 0]], weights=[0.0]), states([[1, 0]]), 1)) == 0.0
    empty = TokenStates(vectors=np.zeros((0, 2), dtype=np.float32), parts=np.zeros(0, dtype=int), weights=np.zeros(0, dtype=np.float32), pieces=())
    assert alignment(states([[1, 0]]), part_matches(states([[1, 0]]), empty, 1)) == 0.0
    assert alignment(states([[1, 0]]), np.zeros((1, 0), dtype=np.float32)) == 0.0  # a passage of no sentences
    assert part_matches(states([[1, 0]]), empty, 2).tolist() == [[0.0, 0.0]]


def test_a_question_alignment_computes_each_passage_once_and_matches_its_sentences():
    aligner = CharAligner()
    aligned = QuestionAlignment(aligner, "熊猫")
    aligned.compute({7: ["熊在山里。", "猫在家里。", "熊猫吃竹子。"]})
    aligned.compute({7: ["熊在山里。", "猫在家里。", "熊猫吃竹子。"]})
    assert len(aligner.calls) == 2  # the question, then the passage once
    found = aligned.sentences(7)
    assert aligned.sentences(7) is found  # re-ordering and picking the answer read it once
    assert found.question.pieces == ("熊", "猫")
    assert found.best.tolist() == [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]
    assert aligned.sentences(8) is None and aligned.passage(8) is None and aligned.best_sentence(8) is None  # never computed


def test_a_question_alignment_given_the_questions_states_does_not_encode_the_question():
    aligner = CharAligner()
    (given,) = CharAligner().token_states([["熊猫"]], is_query=True)
    aligned = QuestionAlignment(aligner, "熊猫", question=given)
    assert aligner.calls == []
    aligned.compute({7: ["熊猫吃竹子。"]})
    assert aligner.calls == [[["熊猫吃竹子。"]]] and aligned.passage(7) == 1.0


def test_passages_kept_across_questions_skip_the_encoder_and_the_least_recent_go():
    aligner, kept = CharAligner(), PassageStates(limit=2)
    first = QuestionAlignment(aligner, "熊猫", kept)
    first.compute({1: ["熊猫吃竹子。"], 2: ["地铁很快。"]})
    second = QuestionAlignment(aligner, "竹子", kept)
    second.compute({1: ["熊猫吃竹子。"], 3: ["竹子很高。"]})
    assert aligner.calls[-1] == [["竹子很高。"]]  # passage 1's states were kept
    assert second.passage(1) == 1.0 and second.passage(3) == 1.0
    assert kept.get(2) is None and kept.get(1) is not None  # 2 was the least recently used


def test_only_the_default_model_has_an_aligner():
    assert load_aligner("st:all-MiniLM-L6-v2") is None
    assert load_aligner("fake") is None


@pytest.mark.model
def test_the_engine_aligns_an_english_word_with_its_chinese_translation():
    aligner = load_aligner("e5-small")
    (question,) = aligner.token_states([["How much bamboo do giant pandas eat?"]], is_query=True)
    panda, railway = aligner.token_states([["大熊猫每天要吃很多竹子。", "它们住在山里。"], ["地铁每天运送很多乘客。"]])
    assert alignment(question, part_matches(question, panda, 2)) > alignment(question, part_matches(question, railway, 1)) + 0.05
    assert set(panda.parts.tolist()) == {0, 1}  # tokens know their sentence; the prefix is not one of them
    best = part_matches(question, panda, 2)
    assert question.weights @ best[:, 0] > question.weights @ best[:, 1]
    assert len(question.weights) == len(question.vectors) == len(question.pieces) and question.weights[-1] == 0.0  # "?" weighs nothing
    assert question.pieces[-1] == "?" and "".join(question.pieces).replace("▁", " ").strip() == "How much bamboo do giant pandas eat?"
    assert np.allclose(np.linalg.norm(panda.vectors, axis=1), 1.0, atol=1e-5)
