import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import BAD_SEARCH_REQUESTS, refusal
from qa.interfaces.cli import app
from qa.storage.index_dir import current_generation

runner = CliRunner()
DOCUMENTS_DIR = Path(__file__).parent / "data" / "documents"


def invoke(*args, **kwargs):
    return runner.invoke(app, [str(a) for a in args], **kwargs)


@pytest.mark.parametrize("options", BAD_SEARCH_REQUESTS, ids=lambda options: ",".join(options))
def test_a_bad_request_is_refused_in_the_libraries_words(built, options):
    flags = {"top_k": "-k", "collection": "--collection", "type": "--type"}
    args = [f for name, value in options.items() if name != "question" for f in (flags[name], *(value if isinstance(value, list) else [value]))]
    result = invoke("ask", options["question"], "--index-dir", built, *args)
    assert result.exit_code == 2 and result.output.strip() == f"error: {refusal(options)}"


@pytest.fixture
def built(corpus_dir, tmp_path, use_fake_model):
    index_dir = tmp_path / "index"
    result = invoke("index", corpus_dir, "--index-dir", index_dir)
    assert result.exit_code == 0, result.output
    return index_dir


def test_index_prints_a_summary(corpus_dir, tmp_path, use_fake_model):
    result = invoke("index", corpus_dir, "--index-dir", tmp_path / "index")
    assert result.exit_code == 0, result.output
    assert "Indexed 7 files (6 text, 1 markdown) into" in result.output
    assert "0 left out" in result.output
    again = invoke("index", corpus_dir, "--index-dir", tmp_path / "index")
    assert "up to date" in again.output


def test_index_warns_about_skipped_files(corpus_dir, tmp_path, use_fake_model):
    (corpus_dir / "broken.txt").write_bytes(bytes(range(256)) * 10)
    result = invoke("index", corpus_dir, "--index-dir", tmp_path / "index")
    assert result.exit_code == 0
    assert "warning: skipped broken.txt: binary file" in result.output
    assert "1 left out" in result.output


def test_ask_prints_cited_passages_with_the_answer_marked(built, monkeypatch):
    from qa.answer import confidence

    # The confidence is fitted to the default model's cosines, not the fake embedder's: an
    # answered question is what this test prints, whatever the fake's confidence.
    monkeypatch.setitem(confidence.THRESHOLD, "hybrid", 0.0)
    result = invoke("ask", "大熊猫每天吃多少竹子", "--index-dir", built, "-k", "2")
    assert result.exit_code == 0, result.output
    assert "[1] panda.txt ¶1 L1 chars " in result.output
    assert "[[" in result.output and "]]" in result.output
    assert "[3]" not in result.output


def test_piped_ask_keeps_each_citation_on_one_line(built, monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")  # a narrow console: rich would break lines at 40
    result = invoke("ask", "大熊猫每天吃多少竹子", "--index-dir", built, "-k", "2")
    assert result.exit_code == 0, result.output
    headers = [line for line in result.output.splitlines() if line.startswith("[1] ")]
    assert len(headers) == 1 and " id " in headers[0] and "score" in headers[0] and "confidence" in headers[0], result.output


def test_ask_json(built):
    result = invoke("ask", "龙井茶产于哪里", "--index-dir", built, "--json", "-k", "3")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["question"] == "龙井茶产于哪里"
    assert len(data["hits"]) == 3
    hit = data["hits"][0]
    for key in ("text", "score", "doc_path", "title", "paragraph", "line_start", "line_end", "char_start", "char_end", "passage_id", "answer"):
        assert key in hit
    assert hit["doc_path"] == "tea.txt"
    assert hit["answer"]["char_start"] >= hit["char_start"]


def test_ask_builds_the_index_when_there_is_none(corpus_dir, tmp_path, use_fake_model):
    index_dir = tmp_path / "fresh"
    result = invoke("ask", "龙井茶", "--index-dir", index_dir, "--corpus-dir", corpus_dir)
    assert result.exit_code == 0, result.output
    assert "No index in" in result.output
    assert current_generation(index_dir) is not None


def test_environment_variables_set_defaults(built, monkeypatch):
    monkeypatch.setenv("QA_INDEX_DIR", str(built))
    monkeypatch.setenv("QA_TOP_K", "1")
    result = invoke("ask", "龙井茶", "--json")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)["hits"]) == 1


def test_interactive_mode_answers_each_line(built):
    result = invoke("ask", "--index-dir", built, "--json", input="龙井茶\n\n？？\n大熊猫\n")
    assert result.exit_code == 0, result.output
    assert result.output.count('"question"') == 2
    assert "error: the question has no words" in result.output


def test_info(built):
    result = invoke("info", "--index-dir", built)
    assert result.exit_code == 0, result.output
    assert "model:    fake" in result.output
    assert "7 files" in result.output


def test_profile_prints_timings(built):
    result = invoke("ask", "龙井茶", "--index-dir", built, "--profile")
    assert "profile: load index" in result.output
    assert "embed_query" in result.output


@pytest.mark.parametrize(
    "args, message",
    [
        (("index", "{tmp}/missing"), "corpus directory not found"),
        (("index", "{tmp}/empty"), "no readable documents"),
        (("ask", "龙井茶", "--index-dir", "{tmp}/none", "--corpus-dir", "{tmp}/empty"), "no readable"),
        (("info", "--index-dir", "{tmp}/none"), "no index in"),
        (("ask", "？？？", "--index-dir", "{index}"), "no words to search for"),
        (("ask", "龙井茶", "--index-dir", "{index}", "--model", "st:another"), "was built with model"),
        (("ask", "龙井茶", "--index-dir", "{index}", "--model", "e5-small@foo"), "unknown engine 'foo'"),  # as `qa index` says
        (("ask", "龙井茶", "--index-dir", "{index}", "--rerank", "bge"), "unknown reranker"),
    ],
)
def test_errors_are_one_line_and_exit_2(built, tmp_path, args, message):
    (tmp_path / "empty").mkdir(exist_ok=True)
    args = [a.format(tmp=tmp_path, index=built) for a in args]
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.startswith("error:")]) == 1


def test_corrupt_index_exit_2(built):
    generation = current_generation(built)
    (generation / "manifest.json").write_text("garbage")
    result = invoke("ask", "龙井茶", "--index-dir", built)
    assert result.exit_code == 2
    # The remedy names the index asked of, not the default one.
    assert "damaged" in result.output and f"run `qa index corpus --index-dir {built} --rebuild`" in result.output


def test_unknown_model_spec_exit_2(corpus_dir, tmp_path):
    result = invoke("index", corpus_dir, "--index-dir", tmp_path / "i", "--model", "word2vec")
    assert result.exit_code == 2
    assert "unknown model 'word2vec'" in result.output


def test_symlinks_out_of_the_corpus_only_when_asked(corpus_dir, tmp_path, use_fake_model):
    import os

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "elsewhere.txt").write_text("语料目录之外的文件，讲的是敦煌莫高窟。", encoding="utf-8")
    os.symlink(outside, corpus_dir / "link")
    plain = invoke("index", corpus_dir, "--index-dir", tmp_path / "a")
    assert "warning: skipped link: symlink points outside the corpus directory" in plain.output
    assert "Indexed 7 files" in plain.output
    followed = invoke("index", corpus_dir, "--index-dir", tmp_path / "b", "--follow-links")
    assert followed.exit_code == 0, followed.output
    assert "Indexed 8 files" in followed.output


def test_a_bad_mode_is_refused_with_the_choices(built):
    result = invoke("ask", "龙井茶", "--index-dir", built, "--mode", "fuzzy")
    assert result.exit_code == 2
    assert "'fuzzy' is not one of 'hybrid', 'dense', 'lexical'" in result.output


@pytest.mark.parametrize("command", ["ask", "index", "eval", "info"])
def test_help_shows_flags_as_flags_and_lists_choices(command):
    result = invoke(command, "--help")
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    if command in ("ask", "eval"):
        assert "--mode <hybrid|dense|lexical>" in result.output
    if command in ("ask", "index"):
        assert "py:MODULE:CLASS" in result.output


def test_help_says_what_offsets_count():
    for args in (["--help"], ["ask", "--help"]):
        assert "count characters from the start of the file" in " ".join(invoke(*args).output.split())


def test_version():
    from qa import __version__

    result = invoke("--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"qa {__version__}"


def test_ask_elsewhere_names_the_paths_it_looked_at_and_the_fix(tmp_path, monkeypatch, use_fake_model):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("QA_INDEX_DIR", raising=False)
    monkeypatch.delenv("QA_CORPUS_DIR", raising=False)
    result = invoke("ask", "龙井茶")
    assert result.exit_code == 2
    (line,) = result.output.splitlines()
    assert line.startswith("error: no index in ")
    assert str(tmp_path / "embeddings") in line and str(tmp_path / "corpus") in line
    for fix in ("--index-dir", "QA_INDEX_DIR", "--corpus-dir", "QA_CORPUS_DIR"):
        assert fix in line


def test_a_piped_build_prints_one_line_per_stage(corpus_dir, tmp_path, use_fake_model):
    result = invoke("index", corpus_dir, "--index-dir", tmp_path / "index")
    assert result.exit_code == 0, result.output
    stages = [line for line in result.output.splitlines() if line.startswith("qa index: ")]
    assert [line.split()[2] for line in stages] == ["reading", "loading", "embedding", "writing"]
    assert "qa index: embedding 7" not in result.output  # counts are sentences, not files
    again = invoke("index", corpus_dir, "--index-dir", tmp_path / "index")
    assert [line.split()[2] for line in again.output.splitlines() if line.startswith("qa index: ")] == ["reading"]


@pytest.mark.parametrize("field, value", [("files", 5), ("skipped", 5), ("model", None), ("dim", "384"), ("files", [{"format": "text"}])])
def test_a_manifest_with_a_field_of_the_wrong_type_is_damage(built, corpus_dir, field, value):
    generation = current_generation(built)
    manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    (generation / "manifest.json").write_text(json.dumps(dict(manifest, **{field: value})), encoding="utf-8")
    for command in (["info"], ["ask", "龙井茶"], ["collections"]):
        result = invoke(*command, "--index-dir", built)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output  # no crash
        if command == ["collections"]:  # lists it, as unreadable, instead of passing it over
            assert result.exit_code == 0 and "default\t(unreadable: damaged" in result.output, result.output
        else:
            assert result.exit_code == 2 and "damaged" in result.output, result.output
    rebuilt = invoke("index", corpus_dir, "--index-dir", built)
    assert rebuilt.exit_code == 0 and "up to date" not in rebuilt.output, rebuilt.output
    assert invoke("info", "--index-dir", built).exit_code == 0


def test_the_advice_for_a_garbled_pointer_repairs_it(built, corpus_dir):
    (built / "CURRENT").write_bytes(b"\xff junk")
    broken = invoke("ask", "龙井茶", "--index-dir", built, "--corpus-dir", corpus_dir)
    assert broken.exit_code == 2 and "bad CURRENT pointer" in broken.output, broken.output
    advice = broken.output.strip().rsplit("run `", 1)[1].rstrip("`")
    assert advice.startswith("qa index ")
    repaired = invoke(*advice.split()[1:])
    assert repaired.exit_code == 0, repaired.output
    assert invoke("ask", "龙井茶", "--index-dir", built).exit_code == 0


def test_library_errors_say_what_is_wrong_and_the_cli_adds_the_remedy(built, tmp_path):
    from qa import load_index
    from qa.errors import IndexDamagedError

    generation = current_generation(built)
    (generation / "units.npy").unlink()
    with pytest.raises(IndexDamagedError) as excinfo:
        load_index(built)
    assert "qa index" not in str(excinfo.value)
    result = invoke("ask", "龙井茶", "--index-dir", built)
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {excinfo.value}: run `qa index corpus --index-dir {built} --rebuild`"
    again = invoke("ask", "龙井茶", "--index-dir", built, "--corpus-dir", tmp_path / "my docs")
    assert again.output.strip().endswith(f"run `qa index '{tmp_path / 'my docs'}' --index-dir {built} --rebuild`")


@pytest.fixture
def documents_built(tmp_path, use_fake_model):
    """The document fixtures (PDF, DOCX, HTML, EPUB, and files that can't be read) indexed."""
    corpus = tmp_path / "documents"
    shutil.copytree(DOCUMENTS_DIR, corpus)
    (corpus / "sheet.xlsx").write_bytes(b"PK\x03\x04")
    (corpus / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    index_dir = tmp_path / "documents-index"
    result = invoke("index", corpus, "--index-dir", index_dir)
    assert result.exit_code == 0, result.output
    return index_dir, result.output


def test_index_names_each_file_it_could_not_read_and_counts_unsupported_types(documents_built):
    _, output = documents_built
    assert "Indexed 6 files (2 pdf, 1 docx, 1 epub, 1 html, 1 rtf) into" in output
    assert output.count("encrypted.pdf") == 1 and "warning: skipped encrypted.pdf: encrypted PDF" in output
    # With the OCR extra the picture pages are read and found blank; without it, skipped as scans.
    assert "warning: skipped image-only.pdf: no text" in output and "of its 1 page" in output
    assert "warning: scanned.pdf: 1 of 2 pages have no text layer" in output
    assert "warning: skipped photo.png: " in output, "an image that cannot be decoded names its reason"
    assert "warning: left out 1 file of types qa does not read (1 .xlsx); -v lists them" in output
    assert "unsupported: sheet.xlsx" not in output


def test_verbose_lists_unsupported_files_and_info_names_every_file_left_out(documents_built, tmp_path):
    index_dir, _ = documents_built
    result = invoke("index", tmp_path / "documents", "--index-dir", index_dir, "-v")
    assert "up to date" in result.output
    assert "warning: unsupported: sheet.xlsx" in result.output
    info = invoke("info", "--index-dir", index_dir)
    assert "6 files: 2 pdf, 1 docx, 1 epub, 1 html, 1 rtf" in info.output
    assert "note:     skipped encrypted.pdf: encrypted PDF" in info.output
    assert "note:     scanned.pdf: 1 of 2 pages have no text layer" in info.output
    assert "note:     left out 1 file of types qa does not read" in info.output


def test_ask_cites_the_page_and_prints_the_passage_id(documents_built):
    index_dir, _ = documents_built
    result = invoke("ask", "短视频用户规模有多大", "--index-dir", index_dir, "-k", "1")
    data = json.loads(invoke("ask", "短视频用户规模有多大", "--index-dir", index_dir, "-k", "1", "--json").output)
    hit = data["hits"][0]
    assert hit["doc_path"] == "report.pdf" and hit["page"] == 2
    assert f"report.pdf p.2 ¶{hit['paragraph']} " in result.output
    assert f"id {hit['passage_id']}" in result.output


@pytest.mark.parametrize("form", ["id", "page", "paragraph", "citation line"])
def test_show_follows_a_citation_to_its_passage_in_context(documents_built, form):
    index_dir, _ = documents_built
    hit = json.loads(invoke("ask", "短视频用户规模有多大", "--index-dir", index_dir, "-k", "1", "--json").output)["hits"][0]
    citation = {
        "id": hit["passage_id"],
        "page": "report.pdf p.2",
        "paragraph": f"report.pdf ¶{hit['paragraph']}",
        "citation line": f"report.pdf p.2 ¶{hit['paragraph']} L{hit['line_start']} chars {hit['char_start']}-{hit['char_end']}",
    }[form]
    result = invoke("show", citation, "--index-dir", index_dir)
    assert result.exit_code == 0, result.output
    assert f"[[{hit['text']}]]" in result.output, "the cited passage is marked"
    data = json.loads(invoke("show", citation, "--index-dir", index_dir, "--json").output)
    assert hit["passage_id"] in [p["id"] for p in data["cited"]]
    if form != "page":
        assert [p["id"] for p in data["cited"]] == [hit["passage_id"]]
        assert data["before"] and data["after"], "the passages around it come along"
        assert data["before"][-1]["char_end"] <= hit["char_start"] and data["after"][0]["char_start"] >= hit["char_end"]


@pytest.mark.parametrize(
    "citation, message",
    [
        ("0123456789ab", "no passage '0123456789ab'"),
        ("report.pdf p.9", "report.pdf has no passage at p.9 (pages 1–3 with text"),
        ("scanned.pdf p.2", "scanned.pdf has no passage at p.2 (page 1 with text, paragraph"),  # its page 2 is an image
        ("nothing.pdf ¶1", "no document 'nothing.pdf'"),
        ("encrypted.pdf p.1", "encrypted.pdf was left out when indexing: "),
    ],
)
def test_show_names_what_it_could_not_find_in_one_line(documents_built, citation, message):
    index_dir, _ = documents_built
    result = invoke("show", citation, "--index-dir", index_dir)
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("threshold, answered", [(1.01, False), (0.0, True)])
def test_ask_says_plainly_when_no_passage_seems_to_answer(built, monkeypatch, threshold, answered):
    from qa.answer import confidence

    monkeypatch.setitem(confidence.THRESHOLD, "hybrid", threshold)  # 1.01: nothing is confident enough
    result = invoke("ask", "大熊猫每天吃多少竹子", "--index-dir", built, "-k", "2")
    assert result.exit_code == 0, result.output
    assert ("No passage seems to answer this question" in result.output) is not answered
    assert "[1] panda.txt" in result.output  # the nearest passages are shown either way
    assert ("[[" in result.output) is answered  # but no answer is claimed when nothing answers
    assert "confidence 0." in result.output
    data = json.loads(invoke("ask", "大熊猫每天吃多少竹子", "--index-dir", built, "--json", "-k", "2").output)
    assert data["answered"] is answered
    assert len(data["hits"]) == 2 and all(0 <= hit["confidence"] <= 1 for hit in data["hits"])


def test_indexing_another_folder_into_a_collection_is_refused_with_a_hint(built, tmp_path):
    other = tmp_path / "mydocs"
    other.mkdir()
    (other / "tyres.txt").write_text("自行车胎压应保持在说明书标注的范围内。", encoding="utf-8")
    result = invoke("index", other, "--index-dir", built)
    assert result.exit_code == 2
    (line,) = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert "holds the index of" in line and "--collection NAME" in line and "--replace" in line
    assert json.loads(invoke("info", "--index-dir", built, "--json").output)["passage_count"] > 1, "the index is unchanged"
    assert invoke("index", other, "--index-dir", built, "--collection", "bikes").exit_code == 0
    absent = invoke("ask", "胎压", "-c", "cars", "--index-dir", built)
    assert absent.exit_code == 2 and "no collection 'cars'" in absent.output and "-c cars` makes it" in absent.output
    hits = json.loads(invoke("ask", "胎压", "-c", "bikes", "--index-dir", built, "--json").output)["hits"]
    assert {h["doc_path"] for h in hits} == {"tyres.txt"}
    shown = invoke("show", hits[0]["passage_id"], "-c", "bikes", "--index-dir", built)  # what ask -c cited, show -c finds
    assert shown.exit_code == 0 and "[[自行车胎压" in shown.output, shown.output
    listed = invoke("collections", "--index-dir", built)
    assert listed.exit_code == 0
    rows = [line.split("\t") for line in listed.output.splitlines()[1:]]
    assert [(r[0], r[1], r[3], r[4]) for r in rows] == [("bikes", str(other.resolve()), "1", "1"), ("default", str(built.parent / "corpus"), "7", rows[1][4])]
    (built / "collections" / "bikes" / "CURRENT").write_text("junk", encoding="utf-8")
    listed = invoke("collections", "--index-dir", built, "--json")
    assert json.loads(listed.output)[0] == {"name": "bikes", "problem": "unreadable: damaged, or written by another version of qa"}
    assert invoke("index", other, "--index-dir", built, "--replace").exit_code == 0
    assert json.loads(invoke("info", "--index-dir", built, "--json").output)["corpus_dir"] == str(other.resolve())


def test_ask_filters_by_document_and_type(built):
    result = invoke("ask", "地铁", "--index-dir", built, "--json", "--type", "md")
    assert result.exit_code == 0, result.output
    assert {h["doc_path"] for h in json.loads(result.output)["hits"]} == {"transport.md"}
    result = invoke("ask", "大熊猫", "--index-dir", built, "--json", "--doc", "tea*", "--doc", "reef.txt", "-k", "2")
    assert {h["doc_path"] for h in json.loads(result.output)["hits"]} <= {"tea.txt", "reef.txt"}
    result = invoke("ask", "大熊猫", "--index-dir", built, "--doc", "nothing*")
    assert result.exit_code == 2 and "error: no indexed document matches --doc nothing*" in result.output


def test_every_command_runs_on_milvus_lite(corpus_dir, tmp_path, use_fake_model, monkeypatch):
    monkeypatch.setenv("QA_BACKEND", f"milvus:{tmp_path / 'qa.db'}")
    result = invoke("ask", "大熊猫每天吃多少竹子", "--corpus-dir", corpus_dir, "--json")  # builds the collection first
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["hits"][0]["doc_path"] == "panda.txt"
    assert "up to date" in invoke("index", corpus_dir).output
    info = json.loads(invoke("info", "--json").output)
    assert info["passage_count"] > 0 and info["index_type"] == "milvus" and len(info["files"]) == 7
    assert invoke("collections").output.splitlines()[1].startswith("default\t")
    missing = invoke("ask", "龙井茶", "-c", "nope")
    assert missing.exit_code == 2 and "error: no collection 'nope'" in missing.output
    assert "`qa index CORPUS_DIR -c nope` makes it" in missing.output  # not --index-dir: -c is what was asked


@pytest.mark.parametrize("command", ["serve", "mcp"])
def test_servers_name_the_missing_milvus_collection(command, tmp_path, monkeypatch):
    monkeypatch.setenv("QA_BACKEND", f"milvus:{tmp_path / 'qa.db'}")
    result = invoke(command, "-c", "docs")
    assert result.exit_code == 2 and len(result.output.splitlines()) == 1
    assert result.output.startswith(f"error: no collection 'docs' in Milvus at {tmp_path / 'qa.db'}")


def test_index_and_info_say_what_layout_each_file_had(tmp_path, use_fake_model):
    corpus = tmp_path / "docs"
    corpus.mkdir()
    for name in ("charset_mismatch.html", "table_cells.html"):
        shutil.copy(Path(__file__).parent / "data" / "layouts" / name, corpus / name)
    result = invoke("index", corpus, "--index-dir", tmp_path / "index")
    assert result.exit_code == 0, result.output
    assert "layout: charset_mismatch.html: declared gb2312, read as UTF-8" in result.output
    assert "layout: table_cells.html: " in result.output and "2 tables" in result.output
    info = invoke("info", "--index-dir", tmp_path / "index")
    assert "layout:   charset_mismatch.html: declared gb2312, read as UTF-8" in info.output
