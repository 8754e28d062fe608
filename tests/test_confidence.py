import numpy as np
import pytest

from qa.answer import confidence
from qa.models import Hit, Passage


def test_features_say_how_a_hit_stands_among_the_candidates():
    dense = np.array([0.9, 0.7, 0.8, 0.6], dtype=np.float32)
    share = np.array([0.5, 1.0, 0.0, 0.25], dtype=np.float32)
    rows = confidence.hit_features([0, 1], dense, share, [20.0, 10.0], "How many?")
    first, second = (dict(zip(confidence.FEATURES, row)) for row in rows)
    assert first["cosine"] == pytest.approx(0.9)
    assert first["cosine_over_pool"] == pytest.approx(0.9 - 0.75)
    assert first["cosine_margin"] == pytest.approx(0.1)  # above the best other candidate
    assert second["cosine_margin"] == pytest.approx(-0.2)
    assert first["lexical_share"] == 0.5 and first["lexical_margin"] == pytest.approx(-0.5)
    assert second["lexical_margin"] == pytest.approx(0.5)
    assert (first["answer"], second["answer"]) == (20.0, 10.0)
    assert first["latin"] == 1.0


def test_hits_carry_their_token_alignment_and_questions_in_any_other_script_count_as_foreign():
    rows = confidence.hit_features([0, 1], np.array([0.9, 0.7]), None, [1.0, 1.0], "В каком году умер Тесла?", aligned=[0.6, None])
    first, second = (dict(zip(confidence.FEATURES, row)) for row in rows)
    assert first["latin"] == 1.0  # Cyrillic: as far from Chinese text as English
    assert first["aligned"] == pytest.approx(0.6) and first["latin_aligned"] == pytest.approx(0.6)
    assert second["aligned"] == 0.0  # no alignment ran on that hit
    (chinese,) = confidence.hit_features([0], np.array([0.9]), None, [1.0], "龙井茶产于哪里？", aligned=[0.5])
    features = dict(zip(confidence.FEATURES, chinese))
    assert features["aligned"] == pytest.approx(0.5) and features["latin_aligned"] == 0.0


def test_a_leg_that_did_not_run_leaves_its_features_at_zero():
    (row,) = confidence.hit_features([0], None, np.array([0.8]), [1.0], "龙井茶")
    features = dict(zip(confidence.FEATURES, row))
    assert features["cosine"] == features["cosine_margin"] == 0.0
    assert features["lexical_share"] == pytest.approx(0.8) and features["latin"] == 0.0


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_confidence_is_a_probability_that_grows_with_the_evidence(mode):
    weak = confidence.hit_features([0], np.array([0.80, 0.79]), np.array([0.1, 0.1]), [18.0], "问题")
    strong = confidence.hit_features([0], np.array([0.92, 0.80]), np.array([0.9, 0.1]), [26.0], "问题")
    low, high = confidence.confidence(weak, mode)[0], confidence.confidence(strong, mode)[0]
    assert 0 < low < high < 1


def _hit(sure):
    passage = Passage(id="p", doc_path="a.txt", title="", section="", paragraph=1, line_start=1, line_end=1, char_start=0, char_end=1, text="字")
    return Hit(passage=passage, score=1.0, rank=1, confidence=sure)


def test_answered_means_the_top_hit_clears_the_threshold():
    threshold = confidence.THRESHOLD["hybrid"]
    assert confidence.is_answered([_hit(threshold + 0.01), _hit(0.0)])
    assert not confidence.is_answered([_hit(threshold - 0.01), _hit(0.99)])
    assert not confidence.is_answered([])
    assert not confidence.is_answered([_hit(None)])


@pytest.mark.model
@pytest.mark.parametrize("question", ["What is the capital of France?", "2022年世界杯冠军是哪个国家？", "大熊猫每天吃多少竹子？"])
def test_questions_the_seed_corpus_cannot_answer_are_declared_so(e5_seed_index, question):
    hits = e5_seed_index.search(question, top_k=3)
    assert hits and not confidence.is_answered(hits), [(h.passage.doc_path, h.confidence) for h in hits]


@pytest.mark.model
@pytest.mark.parametrize("question", ["中央网络安全和信息化领导小组第一次会议是哪天召开的？", "我国人均带宽和国际先进水平相比怎么样？", "截至2023年6月网民规模有多大？"])
def test_questions_the_seed_corpus_answers_are_answered(e5_seed_index, question):
    hits = e5_seed_index.search(question, top_k=3)
    assert confidence.is_answered(hits), [(h.passage.doc_path, h.confidence) for h in hits]
