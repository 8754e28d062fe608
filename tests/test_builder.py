import json

import numpy as np
import pytest

from qa import build_index, builder, load_index
from qa.errors import BadInputError
from qa.storage.index_dir import current_generation


def test_build_writes_manifest_and_arrays_in_step(corpus_dir, tmp_path, fake_embedder):
    report = build_index(corpus_dir, tmp_path / "index", embedder=fake_embedder)
    generation = current_generation(tmp_path / "index")
    manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["model"] == "fake"
    assert manifest["dim"] == fake_embedder.dim
    assert manifest["passage_count"] == report.passages
    assert manifest["unit_count"] == report.units == report.embedded
    assert len(manifest["files"]) == report.files == 7
    vectors = np.load(generation / "vectors.npy")
    assert vectors.shape == (report.units, fake_embedder.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_unchanged_corpus_embeds_nothing(corpus_dir, tmp_path, fake_embedder):
    build_index(corpus_dir, tmp_path / "index", embedder=fake_embedder)
    calls = fake_embedder.calls
    report = build_index(corpus_dir, tmp_path / "index", embedder=fake_embedder)
    assert report.up_to_date
    assert report.embedded == 0
    assert fake_embedder.calls == calls


def test_changed_file_re_embeds_only_its_passages(corpus_dir, tmp_path, fake_embedder):
    first = build_index(corpus_dir, tmp_path / "index", embedder=fake_embedder)
    (corpus_dir / "tea.txt").write_text("碧螺春产于江苏省苏州市太湖洞庭山，是中国十大名茶之一。", encoding="utf-8")
    (corpus_dir / "reef.txt").unlink()
    (corpus_dir / "new.txt").write_text("新加的文件讲的是长城，全长两万多公里。", encoding="utf-8")
    fake_embedder.embedded.clear()
    second = build_index(corpus_dir, tmp_path / "index", embedder=fake_embedder)
    assert not second.up_to_date
    assert second.embedded == 2
    assert all("碧螺春" in t or "长城" in t for t in fake_embedder.embedded)
    assert second.reused == second.units - 2
    assert second.removed >= 3  # the old tea sentences and both reef paragraphs
    assert second.files == first.files
    index = load_index(tmp_path / "index", embedder=fake_embedder)
    assert {p.doc_path for p in index.passages} >= {"new.txt", "tea.txt"}
    assert "reef.txt" not in {p.doc_path for p in index.passages}


class EngineFake:
    """The fake embedder on a named engine."""

    def __init__(self, engine):
        from conftest import FakeEmbedder

        self._fake = FakeEmbedder()
        self.spec, self.dim, self.engine = "fake", self._fake.dim, engine
        self.embedded = self._fake.embedded

    def embed(self, texts, is_query=False):
        return self._fake.embed(texts, is_query)


def test_the_engine_is_recorded_and_vectors_are_reused_only_from_the_same_engine(corpus_dir, tmp_path):
    build_index(corpus_dir, tmp_path / "index", embedder=EngineFake("a"))
    (corpus_dir / "tea.txt").write_text("碧螺春产于江苏省苏州市太湖洞庭山。", encoding="utf-8")
    same = EngineFake("a")
    assert build_index(corpus_dir, tmp_path / "index", embedder=same).embedded == 1
    (corpus_dir / "tea.txt").write_text("龙井茶产于杭州。", encoding="utf-8")
    other = EngineFake("b")
    report = build_index(corpus_dir, tmp_path / "index", embedder=other)
    assert report.embedded == report.units and report.reused == 0
    manifest = json.loads((current_generation(tmp_path / "index") / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["engine"] == "b"


def test_an_index_from_before_engines_were_recorded_still_loads(fake_index):
    generation = fake_index.generation_dir
    manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    manifest.pop("engine")
    (generation / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    index = load_index(generation.parent, embedder=fake_index.embedder)
    assert index.search("熊猫", top_k=1)


def test_rebuild_embeds_everything_again(corpus_dir, tmp_path, fake_embedder):
    build_index(corpus_dir, tmp_path / "index", embedder=fake_embedder)
    report = build_index(corpus_dir, tmp_path / "index", embedder=fake_embedder, rebuild=True)
    assert report.embedded == report.units


def test_empty_corpus_is_an_error_and_keeps_the_previous_index(corpus_dir, tmp_path, fake_embedder):
    build_index(corpus_dir, tmp_path / "index", embedder=fake_embedder)
    before = current_generation(tmp_path / "index")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BadInputError, match="no readable"):
        build_index(empty, tmp_path / "index", embedder=fake_embedder)
    assert current_generation(tmp_path / "index") == before


def test_failed_embedding_leaves_the_previous_index_usable(corpus_dir, tmp_path, fake_embedder):
    build_index(corpus_dir, tmp_path / "index", embedder=fake_embedder)
    before = current_generation(tmp_path / "index")

    class Broken:
        spec = "fake"
        dim = fake_embedder.dim

        def embed(self, texts, is_query=False):
            raise RuntimeError("model crashed")

    (corpus_dir / "tea.txt").write_text("改过的内容需要重新嵌入。", encoding="utf-8")
    with pytest.raises(RuntimeError):
        build_index(corpus_dir, tmp_path / "index", embedder=Broken())
    assert current_generation(tmp_path / "index") == before
    assert not list((tmp_path / "index").glob(".tmp-*"))
    assert load_index(tmp_path / "index", embedder=fake_embedder).search("大熊猫", top_k=1)


def test_index_type_is_chosen_by_size():
    from qa.storage.dense import FLAT_MAX_VECTORS, choose_index_type

    assert choose_index_type(1000) == "flat"
    assert choose_index_type(FLAT_MAX_VECTORS) == "flat"
    assert choose_index_type(FLAT_MAX_VECTORS + 1) == "ivf"


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_approximate_index_finds_what_flat_finds(kind, tmp_path):
    from qa.storage.dense import build_faiss, load_faiss, save_faiss, search_faiss

    rng = np.random.default_rng(0)
    centres = rng.standard_normal((30, 32))
    vectors = (centres[rng.integers(0, 30, 6000)] + 0.5 * rng.standard_normal((6000, 32))).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    flat = build_faiss(vectors, "flat")
    save_faiss(build_faiss(vectors, kind), tmp_path / "a.faiss")
    approximate = load_faiss(tmp_path / "a.faiss")  # search settings are restored on load
    agree = sum(len(set(search_faiss(flat, q, 10)[0]) & set(search_faiss(approximate, q, 10)[0])) for q in vectors[:50])
    assert agree / 500 >= 0.95


def test_flat_search_from_the_vectors_finds_what_faiss_finds():
    from qa.storage.dense import build_faiss, search_faiss, search_flat

    vectors = np.random.default_rng(1).normal(size=(500, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    flat = build_faiss(vectors, "flat")
    selected = np.arange(0, 500, 3)
    for q in vectors[:20]:
        for chosen in (None, selected):
            ids, similarities = search_flat(vectors, q, 10, chosen)
            expected_ids, expected = search_faiss(flat, q, 10, chosen)
            assert ids.tolist() == expected_ids.tolist() and np.allclose(similarities, expected, atol=1e-5)
    assert len(search_flat(vectors, vectors[0], 10, np.array([], dtype=np.int64))[0]) == 0


def test_every_format_is_cited_in_the_text_the_index_keeps(tmp_path, fake_embedder):
    from pathlib import Path

    documents_dir = Path(__file__).parent / "data" / "documents"
    build_index(documents_dir, tmp_path / "index", embedder=fake_embedder)
    index = load_index(tmp_path / "index", embedder=fake_embedder)
    formats = {f["path"]: f["format"] for f in index.manifest.files}
    assert set(formats.values()) == {"pdf", "docx", "html", "epub", "rtf"}
    for passage in index.passages:
        assert index.document_text(passage.doc_path)[passage.char_start : passage.char_end] == passage.text
        assert (passage.page is not None) == (formats[passage.doc_path] == "pdf")
    assert {f["path"]: f.get("pages") for f in index.manifest.files if "pages" in f} == {"report.pdf": 3, "scanned.pdf": 2}
    assert {s["path"]: s["kind"] for s in index.manifest.skipped} == {"encrypted.pdf": "unreadable", "image-only.pdf": "unreadable"}
    (hit,) = index.search("短视频用户规模", top_k=1)
    assert hit.passage.page == 2 and hit.to_dict()["page"] == 2


def test_an_unchanged_pdf_is_not_parsed_again(tmp_path, fake_embedder, monkeypatch):
    import os
    import shutil
    from pathlib import Path

    from qa.ingest.formats import pdf

    corpus = tmp_path / "docs"
    corpus.mkdir()
    shutil.copy(Path(__file__).parent / "data" / "documents" / "report.pdf", corpus / "report.pdf")
    (corpus / "notes.txt").write_text("第一版。", encoding="utf-8")
    build_index(corpus, tmp_path / "index", embedder=fake_embedder)
    parsed = []
    real_extract = pdf.extract
    monkeypatch.setattr(pdf, "extract", lambda data: parsed.append(1) or real_extract(data))
    (corpus / "notes.txt").write_text("第二版。", encoding="utf-8")
    report = build_index(corpus, tmp_path / "index", embedder=fake_embedder)
    assert not report.up_to_date and parsed == [], "the PDF's text comes from the index"
    stat = (corpus / "report.pdf").stat()
    os.utime(corpus / "report.pdf", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # touched: read again
    build_index(corpus, tmp_path / "index", embedder=fake_embedder)
    assert parsed == [1]
    index = load_index(tmp_path / "index", embedder=fake_embedder)
    assert all(index.document_text(p.doc_path)[p.char_start : p.char_end] == p.text for p in index.passages)
    # A qa that reads documents differently (a new pipeline version) parses it again.
    monkeypatch.setattr(builder, "PIPELINE_VERSION", "next")
    build_index(corpus, tmp_path / "index", embedder=fake_embedder)
    assert parsed == [1, 1]
    # So does a build that reads scans differently (OCR turned off, or installed since).
    ocr_was_on = builder._ocr_on()
    monkeypatch.setenv("QA_OCR", "0")
    build_index(corpus, tmp_path / "index", embedder=fake_embedder)
    assert parsed == [1, 1] + [1] * ocr_was_on


def test_an_index_inside_its_corpus_does_not_index_itself(corpus_dir, fake_embedder):
    index_dir = corpus_dir / "embeddings"  # what `qa index .` does
    first = build_index(corpus_dir, index_dir, embedder=fake_embedder)
    (corpus_dir / "new.txt").write_text("新加的一个文件，让语料变了。", encoding="utf-8")
    second = build_index(corpus_dir, index_dir, embedder=fake_embedder)
    assert second.files == first.files + 1
    index = load_index(index_dir, embedder=fake_embedder)
    assert not any(p.doc_path.startswith("embeddings/") for p in index.passages)


@pytest.mark.model  # the default int8 engine
def test_the_default_engine_keeps_each_sentences_token_states_and_reuses_them(corpus_dir, tmp_path):
    from qa.embedding.embedders import load_embedder

    engine = load_embedder("e5-small@onnx-int8")
    first = build_index(corpus_dir, tmp_path / "index")
    index = load_index(tmp_path / "index")
    assert index.manifest.token_states is True
    p = next(n for n, passage in enumerate(index.passages) if passage.doc_path == "panda.txt")
    ids, vectors, parts = index.store.passage_tokens(p)
    forms = index.sentences(p).forms
    assert parts.max() == len(forms) - 1 and len(ids) == len(vectors)
    # The kept states are the ones the sentence's own pass gives: the same tokens, and states as
    # close as the engine's per-batch activation quantization lets two passes be (cosine ~0.97+).
    from qa.ingest.chunker import embedding_text

    (own_ids, own_vectors), = engine.embed_with_states([embedding_text(index.passages[p], forms[0])])[1]
    assert ids[parts == 0].tolist() == list(own_ids)
    assert (vectors[parts == 0] * own_vectors).sum(axis=1).min() > 0.95
    # An edit re-embeds one sentence; the others' states are carried over, not recomputed.
    (corpus_dir / "tea.txt").write_text("碧螺春产于江苏省苏州市太湖洞庭山。", encoding="utf-8")
    second = build_index(corpus_dir, tmp_path / "index")
    assert second.embedded == 1 and first.embedded == first.units
    again = load_index(tmp_path / "index")
    assert np.array_equal(again.store.passage_tokens(next(n for n, x in enumerate(again.passages) if x.doc_path == "panda.txt"))[0], ids)
