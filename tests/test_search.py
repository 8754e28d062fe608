import json
from pathlib import Path

import numpy as np
import pytest

from fakes import CharAligner, EmbedsWithStates, PrefersTea
from qa import SearchRequest, build_index, load_index
from qa.errors import BadInputError, IndexDamagedError, IndexMissingError, IndexVersionError, NotFoundError, ModelMismatchError, UnknownModelError
from qa.ingest import chunker
from qa.ingest.normalize import normalize
from qa.storage.index_dir import current_generation

from conftest import SEED_CORPUS_DIR, FakeEmbedder


def test_hits_cite_exact_slices_and_answers(fake_index, corpus_dir):
    from qa.ingest.reader import read_corpus

    texts = {d.path: d.text for d in read_corpus(corpus_dir)[0]}
    hits = fake_index.search("大熊猫每天吃多少竹子", top_k=3)
    assert hits[0].passage.doc_path == "panda.txt"
    for hit in hits:
        text = texts[hit.passage.doc_path]
        assert text[hit.passage.char_start : hit.passage.char_end] == hit.passage.text
        assert text[hit.answer.char_start : hit.answer.char_end] == hit.answer.text
        assert hit.passage.char_start <= hit.answer.char_start < hit.answer.char_end <= hit.passage.char_end
    assert [h.rank for h in hits] == [1, 2, 3]
    assert hits[0].score >= hits[1].score >= hits[2].score


def test_answer_is_the_sentence_that_matches(fake_index):
    (hit,) = fake_index.search("野生大熊猫的数量有多少只", top_k=1)
    assert "1864" in hit.answer.text
    assert "竹子" not in hit.answer.text


def test_sentences_carry_the_previous_sentence_and_the_opening_of_their_paragraph(corpus_dir, tmp_path, fake_embedder):
    # Two articles in one file, the second a paragraph long enough to make several passages.
    long_paragraph = "长城是古代中国的军事防御工程。" + "".join(f"第{n}段城墙修建于不同的朝代，绵延数百公里。" for n in range(40))
    (corpus_dir / "two.txt").write_text(f"龙井茶产于杭州西湖一带。\n\n{long_paragraph}\n", encoding="utf-8")
    build_index(corpus_dir, tmp_path / "index", embedder=fake_embedder)
    fake_index = load_index(tmp_path / "index", embedder=fake_embedder)
    continuing = opening = 0
    for p, passage in enumerate(fake_index.passages):
        sentences = fake_index.sentences(p)
        start = fake_index.store.unit_ptr[p]
        assert sentences.spans == chunker.dense_units(passage)
        assert sentences.forms == [normalize(passage.text[a - passage.char_start : b - passage.char_start]) for a, b in sentences.spans]
        assert len(sentences.vectors) == len(sentences.spans)
        before = fake_index.passages[p - 1] if p > 0 else None
        if before and (before.doc_path, before.paragraph) == (passage.doc_path, passage.paragraph):
            continuing += 1
            assert np.array_equal(sentences.previous_vector, fake_index.store.vectors[start - 1])
            assert sentences.lead == fake_index.sentences(p - 1).lead
        else:
            opening += before is not None and before.doc_path == passage.doc_path
            # A paragraph's first passage: what comes before may be about something else.
            assert sentences.previous_vector is None
            assert sentences.lead == chunker.opening_title(passage.text)
    assert continuing > 0 and opening > 0


def test_modes(fake_index):
    for mode in ("dense", "lexical", "hybrid"):
        hits = fake_index.search("龙井茶产于哪里", top_k=2, mode=mode)
        assert hits[0].passage.doc_path == "tea.txt", mode
    lexical = fake_index.search("龙井茶", top_k=5, mode="lexical")
    assert all(h.lexical_score > 0 and h.dense_score is None for h in lexical)
    with pytest.raises(BadInputError, match="unknown mode"):
        fake_index.search("龙井茶", mode="magic")


def test_traditional_question_matches_simplified_text(fake_index):
    hits = fake_index.search("龍井茶產於哪裡", top_k=1, mode="lexical")
    assert hits[0].passage.doc_path == "tea.txt"


def test_lexical_finds_nothing_for_unknown_words(fake_index):
    assert fake_index.search("zyxwv", top_k=3, mode="lexical") == []


@pytest.mark.parametrize("question", ["", "   ", "？！。，", "\x00\x01"])
def test_questions_without_words_are_a_clear_error(fake_index, question):
    with pytest.raises(BadInputError, match="no words"):
        fake_index.search(question)


@pytest.mark.parametrize("question, top_k", [(None, 3), (["龙井茶"], 3), ("龙井茶", "3"), ("龙井茶", True), ("龙井茶", 2.5), ("龙井茶", 0)])
def test_arguments_of_the_wrong_kind_are_bad_input_not_a_type_error(fake_index, question, top_k):
    with pytest.raises(BadInputError, match="question must be text|top_k must be a whole number"):
        fake_index.search(question, top_k=top_k)


def test_a_context_of_no_passages_is_bad_input(fake_index):
    from qa.citations import passage_context

    with pytest.raises(BadInputError, match="no passage to show"):
        passage_context(fake_index, [])


@pytest.mark.parametrize("question", ["熊猫" * 1000, "大熊猫🐼吃竹子吗？", "panda 大熊猫 パンダ", "大熊猫\t\n吃\r什么"])
def test_odd_questions_still_answer(fake_index, question):
    hits = fake_index.search(question, top_k=3)
    assert hits and hits[0].passage.doc_path == "panda.txt"


def test_a_question_over_the_limit_is_refused_not_cut(fake_index):
    from qa.search import MAX_QUESTION_CHARS

    with pytest.raises(BadInputError, match=f"longer than {MAX_QUESTION_CHARS} characters"):
        fake_index.search("熊" * (MAX_QUESTION_CHARS + 1), top_k=3)


def test_duplicates_are_folded_into_the_complete_clean_copy(fake_index):
    hits = fake_index.search("地铁日均客运量约为多少人次", top_k=5)
    metros = [h for h in hits if "727" in h.passage.text]
    assert len(metros) == 1, [h.passage.text[:20] for h in hits]
    (metro,) = metros
    assert metro.passage.doc_path == "transport.md", "the copy without pinyin artifacts is shown"
    assert [s.doc_path for s in metro.also_in] == ["transport_trad.txt"]
    (copy,) = metro.also_in
    copy_text = fake_index.document_text(copy.doc_path)[copy.char_start : copy.char_end]
    assert copy_text == fake_index.passage(copy.passage_id).text, "the copy is cited to its characters too"
    assert metro.to_dict()["also_in"][0]["char_end"] == copy.char_end


def test_seed_speech_folds_and_shows_the_copy_without_dropped_characters():
    # 000 (slash-segmented, characters dropped) and 001 (traditional + pinyin) carry the same speech.
    index_dir_hits = _seed_fake_index().search("习近平主持召开中央网络安全和信息化领导小组第一次会议并发表重要讲话", top_k=5)
    top = index_dir_hits[0]
    paths = {top.passage.doc_path} | {s.doc_path for s in top.also_in}
    assert {"000_a579f5ec6a3faa96.txt", "001_35ad70771f1f9fde.txt"} <= paths
    assert top.passage.doc_path == "001_35ad70771f1f9fde.txt"
    contents = [h.passage.id for h in index_dir_hits] + [s.passage_id for h in index_dir_hits for s in h.also_in]
    assert len(contents) == len(set(contents)), "no passage appears twice"


def test_seed_symposium_does_not_claim_the_2014_attendance_line_as_a_copy():
    # 003 ¶1 (the 2016 symposium) repeats 001 ¶2's one-line attendance sentence of the 2014 meeting.
    index = _seed_fake_index()
    for question in ("网络安全和信息化工作座谈会是哪天召开的？", "李克强、刘云山出席会议"):
        for hit in index.search(question, top_k=5):
            places = {hit.passage.doc_path[:3]} | {s.doc_path[:3] for s in hit.also_in}
            assert not {"001", "003"} <= places, (question, hit.passage.doc_path, hit.also_in)


_seed_cache = {}


def _seed_fake_index():
    if "index" not in _seed_cache:
        import tempfile
        from pathlib import Path

        index_dir = Path(tempfile.mkdtemp()) / "index"
        fake = FakeEmbedder()
        build_index(SEED_CORPUS_DIR, index_dir, embedder=fake)
        _seed_cache["index"] = load_index(index_dir, embedder=fake)
    return _seed_cache["index"]


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(IndexMissingError, match="no index in") as excinfo:
        load_index(tmp_path / "none")
    assert str((tmp_path / "none").resolve()) in str(excinfo.value)  # the absolute path it looked at


def test_model_mismatch_is_a_clear_error(fake_index):
    with pytest.raises(ModelMismatchError, match="built with model 'fake'") as excinfo:
        load_index(fake_index.generation_dir.parent, model="st:other-model")
    assert (excinfo.value.built_with, excinfo.value.asked_for) == ("fake", "st:other-model")


def _damage(index, action):
    generation = current_generation(index.generation_dir.parent)
    action(generation)
    return generation.parent


@pytest.mark.parametrize(
    "damage, problem",
    [
        (lambda g: (g / "manifest.json").write_text("{not json"), "manifest unreadable"),
        (lambda g: (g / "manifest.json").unlink(), "manifest unreadable"),
        (lambda g: (g / "vectors.npy").write_bytes((g / "vectors.npy").read_bytes()[:200]), "damaged"),
        (lambda g: (g / "passages.jsonl").write_text((g / "passages.jsonl").read_text().split("\n", 1)[1]), "counts differ"),
        (lambda g: (g / "units.npy").unlink(), "damaged"),
    ],
)
def test_damaged_index_is_a_clear_error(fake_index, damage, problem):
    index_dir = _damage(fake_index, damage)
    with pytest.raises(IndexDamagedError, match=problem):
        load_index(index_dir, embedder=FakeEmbedder())


def test_truncated_faiss_file_is_a_clear_error_where_it_is_read(fake_index):
    generation = current_generation(fake_index.generation_dir.parent)
    data = (generation / "dense.faiss").read_bytes()
    (generation / "dense.faiss").write_bytes(data[: len(data) // 2])
    index = load_index(generation.parent, embedder=FakeEmbedder())
    # A flat index is searched from vectors.npy; the server's and `qa info`'s check reads the file.
    assert index.search("大熊猫")
    with pytest.raises(IndexDamagedError, match="dense.faiss"):
        index.store.check()


@pytest.mark.parametrize("name", ["forms.json", "lexical/vocab.json"])
def test_missing_side_files_are_a_clear_error_on_first_search(fake_index, name):
    generation = current_generation(fake_index.generation_dir.parent)
    (generation / name).unlink()
    index = load_index(generation.parent, embedder=FakeEmbedder())
    with pytest.raises(IndexDamagedError, match="damaged"):
        index.search("大熊猫")


@pytest.mark.parametrize("version, said", [(99, r"written by a newer qa \(format 99\); upgrade qa"), (1, r"built by an older qa \(format 1\); rebuild it")])
def test_another_format_is_a_clear_error(fake_index, version, said):
    generation = current_generation(fake_index.generation_dir.parent)
    manifest = json.loads((generation / "manifest.json").read_text())
    manifest["format_version"] = version
    (generation / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexVersionError, match=said):
        load_index(generation.parent)


def test_index_files_load_without_pickle(fake_index):
    generation = current_generation(fake_index.generation_dir.parent)
    arrays = {path.name: np.load(path, allow_pickle=False) for path in generation.rglob("*.npy")}  # raises on pickled arrays
    assert {"units.npy", "vectors.npy", "unit_keys.npy"} <= set(arrays)
    assert all(array.dtype.kind != "O" for array in arrays.values())
    for path in generation.rglob("*"):
        if path.is_file():
            assert not path.read_bytes()[:2] in (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05"), f"{path.name} is a pickle"


def test_reranker_reorders_the_head_of_the_candidates(fake_index):
    plain = fake_index.search("大熊猫每天吃多少竹子", top_k=3)
    assert plain[0].passage.doc_path == "panda.txt"
    reranker = PrefersTea()
    result = fake_index.ask(SearchRequest("大熊猫每天吃多少竹子", top_k=3, reranker=reranker))
    reranked = result.hits
    assert reranked[0].passage.doc_path == "tea.txt"
    assert reranked[0].score == 1.0
    assert reranker.seen == [min(12, len(fake_index.passages))]
    assert "rerank" in result.timings and not hasattr(fake_index, "timings")  # nothing of a search is kept on the index


def test_unknown_reranker_is_a_clear_error():
    from qa.retrieve.rerank import load_reranker

    with pytest.raises(UnknownModelError, match="unknown reranker"):
        load_reranker("bge")


def test_passages_and_documents_are_found_by_id_and_path(fake_index):
    first = fake_index.passages[0]
    assert fake_index.passage(first.id) == first
    passages = fake_index.document_passages(first.doc_path)
    assert passages[0] == first and all(p.doc_path == first.doc_path for p in passages)
    assert [p.char_start for p in passages] == sorted(p.char_start for p in passages)
    text = fake_index.document_text(first.doc_path)
    assert all(text[p.char_start : p.char_end] == p.text for p in passages)


@pytest.mark.parametrize("call, argument", [("passage", "nope"), ("document_passages", "../secret.txt"), ("document_text", "/etc/passwd")])
def test_unknown_passages_and_documents_are_not_found(fake_index, call, argument):
    with pytest.raises(NotFoundError):
        getattr(fake_index, call)(argument)


def test_citations_resolve_in_the_indexed_text_even_after_the_file_changes(fake_index):
    # The index keeps the text it cites, so a citation stays true until the next `qa index`.
    passage = fake_index.passages[0]
    (Path(fake_index.manifest.corpus_dir) / passage.doc_path).write_text("改过了。", encoding="utf-8")
    text = fake_index.document_text(passage.doc_path)
    assert text[passage.char_start : passage.char_end] == passage.text


class AvoidsPandas:
    """A fake token aligner: a passage that mentions pandas aligns with nothing of the question."""

    def __init__(self):
        self.batches = []  # how many passages each call was given

    def token_states(self, texts, is_query=False):
        from qa.models import TokenStates

        out = []
        for parts in texts:
            about_pandas = not is_query and any("熊猫" in part for part in parts)
            vector = np.eye(2, dtype=np.float32)[[1 if about_pandas else 0]]
            out.append(TokenStates(vectors=vector, parts=np.zeros(1, dtype=int), weights=np.ones(1, dtype=np.float32), pieces=("x",)))
        if not is_query:
            self.batches.append(len(texts))
        return out


def test_the_aligner_reorders_the_best_hybrid_candidates_only(fake_index, fake_embedder):
    from qa.retrieve.align import ENCODED_ALIGN_DEPTH
    from qa.search import Index

    question = "大熊猫每天吃多少竹子"
    plain = [hit.passage.id for hit in fake_index.search(question, top_k=5)]
    aligner = AvoidsPandas()
    aligned_index = Index(fake_index.store, embedder=fake_embedder, aligner=aligner)
    # The fake engine's build keeps no token states: each aligned passage goes through the encoder.
    depth = aligned_index.align_depth
    assert not fake_index.manifest.token_states and depth == ENCODED_ALIGN_DEPTH
    result = aligned_index.ask(SearchRequest(question, top_k=5))
    hits = result.hits
    aligned = [hit.passage.id for hit in hits]
    assert fake_index.passage(plain[0]).doc_path == "panda.txt"
    # The panda passage falls behind the other two of the head; the rest keep their places.
    assert aligned[:depth] == [*plain[1:depth], plain[0]] and aligned[depth:] == plain[depth:]
    assert aligner.batches == [depth]  # the head, once: its passages' answers reuse it
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
    assert "align" in result.timings and result.mode == "hybrid" and result.confidence_features.shape[0] == len(hits)
    for mode in ("dense", "lexical"):  # only hybrid search is re-ordered
        assert [h.passage.id for h in aligned_index.search(question, top_k=5, mode=mode)] == [h.passage.id for h in fake_index.search(question, top_k=5, mode=mode)]


def test_an_index_that_kept_its_passages_tokens_aligns_a_deeper_head_without_the_encoder(fake_index, fake_embedder, monkeypatch):
    from dataclasses import replace

    from qa.models import TokenStates
    from qa.retrieve.align import ALIGN_DEPTH, ENCODED_ALIGN_DEPTH
    from qa.search import Index

    class ReadsKeptTokens(AvoidsPandas):
        def states_of(self, ids, vectors, parts):
            return TokenStates(vectors=vectors, parts=parts)

    store = fake_index.store
    about_pandas = lambda p: "熊猫" in store.passage(p).text  # noqa: E731
    # As the default engine's build does: every passage's tokens kept (here, one token each).
    monkeypatch.setattr(store, "manifest", replace(store.manifest, token_states=True))
    monkeypatch.setattr(store, "passage_tokens", lambda p: (np.zeros(1, dtype=int), np.eye(2, dtype=np.float32)[[int(about_pandas(p))]], np.zeros(1, dtype=int)))
    question = "大熊猫每天吃多少竹子"
    plain = [hit.passage.id for hit in fake_index.search(question, top_k=10)]
    aligner = ReadsKeptTokens()
    index = Index(store, embedder=fake_embedder, aligner=aligner)
    assert index.align_depth == ALIGN_DEPTH > ENCODED_ALIGN_DEPTH
    aligned = [hit.passage.id for hit in index.search(question, top_k=10)]
    assert len(plain) > ALIGN_DEPTH and fake_index.passage(plain[0]).doc_path == "panda.txt"
    # The panda passage falls behind the others of the head, further than the shallower head of an
    # index without kept tokens could take it (its copies folded); the rest keep their order.
    assert aligned.index(plain[0]) > ENCODED_ALIGN_DEPTH and [p for p in aligned if p != plain[0]] == plain[1:]
    assert aligner.batches == []  # no passage went through the encoder


def test_a_question_about_passages_a_recent_one_aligned_skips_the_encoder_for_them(fake_index, fake_embedder):
    from qa.search import Index

    aligner = AvoidsPandas()
    index = Index(fake_index.store, embedder=fake_embedder, aligner=aligner)
    first = [hit.passage.id for hit in index.search("大熊猫每天吃多少竹子", top_k=5)]
    again = [hit.passage.id for hit in index.search("大熊猫每天吃多少竹子", top_k=5)]
    assert again == first and aligner.batches == [3]  # asked again: its passages were kept
    fresh = Index(fake_index.store, embedder=fake_embedder, aligner=aligner)
    fresh.search("大熊猫每天吃多少竹子", top_k=5)
    assert aligner.batches == [3, 3]  # kept per index: another generation's numbers mean other passages


def test_an_engine_that_embeds_and_aligns_gives_both_for_the_question_at_once(fake_index):
    from qa.search import Index

    engine = EmbedsWithStates()
    index = Index(fake_index.store, embedder=engine, aligner=engine)
    hybrid = index.ask(SearchRequest("大熊猫每天吃多少竹子", top_k=3))
    # The question went through the engine once, for its vector and its states together.
    assert engine.both == 1 and engine.embedder.calls == 1 and engine.aligner.calls.count([["大熊猫每天吃多少竹子"]]) == 1
    assert "align" in hybrid.timings and hybrid.hits[0].passage.doc_path == "panda.txt"
    index.ask(SearchRequest("大熊猫每天吃多少竹子", top_k=3, mode="dense"))
    assert engine.both == 1  # dense search aligns nothing: the vector alone
    # A question in Latin letters is embedded again with its gloss (its words' Chinese translations
    # found in the candidates): that pass's states, the gloss's among them, re-order and pick answers.
    english = index.ask(SearchRequest("How much bamboo do pandas eat", top_k=3))
    (glossed,) = engine.with_states[1:]
    assert glossed.startswith("how much bamboo do pandas eat") and "竹子" in glossed
    # Its confidence reads the alignment of its own words, from a pass of its own.
    assert engine.aligner.calls.count([["how much bamboo do pandas eat"]]) == 1
    from qa.answer.confidence import FEATURES
    from qa.retrieve.align import QuestionAlignment
    from qa.search import _embedded_sentences

    top = fake_index.store.number_of(english.hits[0].passage.id)
    alignments = {}
    for text in ("how much bamboo do pandas eat", glossed):
        alignment = QuestionAlignment(CharAligner(), text)
        alignment.compute({top: _embedded_sentences(fake_index.store, top)})
        alignments[text] = alignment.passage(top)
    assert alignments[glossed] != pytest.approx(alignments["how much bamboo do pandas eat"])  # the two passes tell apart
    assert english.confidence_features[0, FEATURES.index("aligned")] == pytest.approx(alignments["how much bamboo do pandas eat"])


@pytest.mark.model  # the default model's index of the test corpus
def test_a_hybrid_question_runs_no_passage_through_the_encoder_when_the_index_kept_their_tokens(e5_test_index):
    """Token alignment reads the passages' states from the index: only the question is encoded
    (that pass cost a question most of its time)."""
    from qa import load_index

    class Counting:
        def __init__(self, engine):
            self.engine, self.passages = engine, 0

        def token_states(self, texts, is_query=False):
            self.passages += 0 if is_query else len(texts)
            return self.engine.token_states(texts, is_query)

        def states_of(self, *tokens):
            return self.engine.states_of(*tokens)

    counting = Counting(e5_test_index.aligner)
    index = load_index(e5_test_index.generation_dir.parent, aligner=counting)
    hits = index.search("How many wild giant pandas are there?", top_k=3)
    assert hits[0].passage.doc_path == "panda.txt" and "1864" in hits[0].answer.text
    assert counting.passages == 0


@pytest.mark.model
def test_a_hybrid_question_goes_through_the_encoder_once(e5_test_index, monkeypatch):
    """Its vector and the token states alignment compares come from one pass (a second pass
    over the question alone was a third of a warm question's time)."""
    from qa import load_index

    index = load_index(e5_test_index.generation_dir.parent)
    assert index.aligner is index.embedder
    passes = []
    run = index.embedder._run
    monkeypatch.setattr(index.embedder, "_run", lambda *args: passes.append(args) or run(*args))
    hits = index.search("大熊猫每天吃多少竹子？", top_k=3)
    assert hits[0].passage.doc_path == "panda.txt"
    assert len(passes) == 1


@pytest.mark.parametrize("mode", ["lexical", "hybrid"])
def test_kangxi_radicals_are_searched_as_the_characters_they_look_like(tmp_path, fake_embedder, mode):
    # Some PDFs map common characters to Kangxi radicals (⼤ U+2F24 for 大): the searched forms
    # are NFKC-normalized, the citation still quotes the text as extracted.
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "kangxi.txt").write_bytes((Path(__file__).parent / "data" / "layouts" / "kangxi.txt").read_bytes())
    (corpus / "tea.txt").write_text("龙井茶产于杭州西湖一带，干茶的水分含量很低，以色绿、香郁、味甘著称。\n", encoding="utf-8")
    build_index(corpus, tmp_path / "index", embedder=fake_embedder)
    hits = load_index(tmp_path / "index", embedder=fake_embedder).search("大米的水分", top_k=1, mode=mode)
    assert hits[0].passage.doc_path == "kangxi.txt"
    assert "射阳⼤⽶的⽔分" in hits[0].passage.text


def test_a_question_is_bounded_after_normalizing_too(fake_index, fake_embedder):
    # U+FDFA is one character that NFKC makes eighteen: 2,000 of them would be 36,000 to embed.
    from qa.search import MAX_QUESTION_CHARS

    fake_index.search("\ufdfa" * MAX_QUESTION_CHARS, top_k=1)
    assert max(len(text) for text in fake_embedder.embedded) <= MAX_QUESTION_CHARS


def test_a_request_is_checked_when_made_and_when_copied(fake_index):
    from dataclasses import replace

    from qa.answer.confidence import THRESHOLD
    from qa.search import SearchRequest

    request = SearchRequest("龙井茶产于哪里", top_k=2, mode="lexical")
    result = fake_index.ask(request)
    assert result.mode == "lexical" and len(result.hits) <= 2 and result.hits[0].passage.doc_path == "tea.txt"
    assert result.answered == (result.hits[0].confidence >= THRESHOLD["lexical"])  # the mode that ran decides
    with pytest.raises(BadInputError, match="unknown mode 'fast'"):
        replace(request, mode="fast")
    with pytest.raises(BadInputError, match="takes a SearchRequest"):
        fake_index.ask("龙井茶产于哪里")


def test_token_alignment_reads_each_passage_under_its_title_and_headings(tmp_path, monkeypatch):
    from qa.retrieve import align

    docs_dir = tmp_path / "docs"
    docs_dir.mkdir()
    (docs_dir / "rice.md").write_text(
        "# 射阳大米\n\n## 1 范围\n\n本标准规定了射阳大米的术语、要求、检验方法和检验规则。\n\n## 7.5 型式检验\n\n有下列情况之一时，应进行型式检验：新产品投产。\n",
        encoding="utf-8",
    )
    build_index(docs_dir, tmp_path / "index", embedder=FakeEmbedder())
    index = load_index(tmp_path / "index", embedder=FakeEmbedder(), aligner=CharAligner())
    contexts = []
    real = align.sentence_alignment  # what re-orders the head
    monkeypatch.setattr(align, "sentence_alignment", lambda question, best, context="": contexts.append(context) or real(question, best, context))
    index.search("什么情况下需要对射阳大米进行型式检验？", top_k=2)
    assert normalize("射阳大米 7.5 型式检验") in contexts, contexts


def test_an_english_question_takes_the_language_bias_off_english_sentences_of_a_chinese_document(tmp_path):
    from qa.retrieve import crosslingual

    docs_dir = tmp_path / "docs"
    docs_dir.mkdir()
    line = "Sheyang rice is grown on saline soil near the coast."
    (docs_dir / "rice.md").write_text(f"# 射阳大米\n\n{line}\n", encoding="utf-8")
    (docs_dir / "notes.md").write_text(f"# Growing notes\n\n{line}\n", encoding="utf-8")
    build_index(docs_dir, tmp_path / "index", embedder=FakeEmbedder())
    index = load_index(tmp_path / "index", embedder=FakeEmbedder())
    question = "What soil is Sheyang rice grown on?"
    candidates = index.candidates(question, normalize(question), "hybrid", pool=10)
    assert candidates.translated
    raw = index.store.dense.similarities(candidates.passages, candidates.query_vector)
    owed = {index.store.passage(p).doc_path: raw[k] - candidates.dense[k] for k, p in enumerate(candidates.passages)}
    assert owed["rice.md"] == pytest.approx(crosslingual.LANGUAGE_BIAS, abs=1e-6)
    assert owed["notes.md"] == pytest.approx(0.0, abs=1e-6)


def test_an_english_question_over_english_text_is_fused_as_any_question_in_its_own_language(tmp_path):
    from qa.search import DENSE_WEIGHT, TRANSLATED_DENSE_WEIGHT

    docs_dir = tmp_path / "docs"
    docs_dir.mkdir()
    (docs_dir / "note.md").write_text("# Buck-boost converter\n\nThe chosen inductor value is L = 82 µH.\n", encoding="utf-8")
    (docs_dir / "rice.md").write_text("# 射阳大米\n\n射阳大米产区的土壤类型是滨海盐渍型水稻土。\n", encoding="utf-8")
    build_index(docs_dir, tmp_path / "index", embedder=FakeEmbedder())
    index = load_index(tmp_path / "index", embedder=FakeEmbedder())
    english = index.candidates("Which inductor value was chosen?", normalize("Which inductor value was chosen?"), "hybrid", pool=10)
    assert english.gloss is None and english.dense_weight == DENSE_WEIGHT, "no translation of its words is in the text it found"
    soil = "What type of soil do rice fields have?"
    chinese = index.candidates(soil, normalize(soil), "hybrid", pool=10)
    assert chinese.gloss and chinese.dense_weight == TRANSLATED_DENSE_WEIGHT
