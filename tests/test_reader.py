import os

import pytest

from qa.errors import BadInputError
from qa.ingest.formats.text import decode
from qa.ingest.reader import read_corpus
from qa.storage.index_dir import holds_index


def test_reads_every_encoding_of_the_test_corpus(corpus_dir):
    documents, skipped = read_corpus(corpus_dir)
    by_path = {d.path: d for d in documents}
    assert skipped == []
    assert sorted(by_path) == [d.path for d in documents], "documents come in sorted order"
    assert by_path["huangshan_gb18030.txt"].text.startswith("黄山位于安徽省南部")
    assert by_path["yushan_big5.txt"].text.startswith("玉山是臺灣最高的山峰")


def test_recursive_and_only_text_suffixes(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "deep.md").write_text("深层文件。", encoding="utf-8")
    (tmp_path / "top.txt").write_text("顶层文件。", encoding="utf-8")
    (tmp_path / "image.png").write_bytes(b"\x89PNG\r\n")
    documents, _ = read_corpus(tmp_path)
    assert [d.path for d in documents] == ["a/b/deep.md", "top.txt"]


@pytest.mark.parametrize(
    "data, expected",
    [
        ("\ufeff带BOM的文本".encode("utf-8"), "带BOM的文本"),
        ("UTF-16 文本，带 BOM。".encode("utf-16"), "UTF-16 文本，带 BOM。"),
        ("简体中文的国标编码文本，用来测试编码检测是否可靠。".encode("gb18030"), "简体中文的国标编码文本，用来测试编码检测是否可靠。"),
        ("第一行\r\n第二行\r第三行".encode("utf-8"), "第一行\r\n第二行\r第三行"),
    ],
)
def test_decode(data, expected):
    text, _encoding = decode(data)
    assert text == expected


def test_binary_empty_and_undecodable_files_are_skipped_with_a_reason(tmp_path):
    (tmp_path / "good.txt").write_text("好的文件。", encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.txt").write_bytes(b"  \n\n ")
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)) * 20)
    documents, skipped = read_corpus(tmp_path)
    assert [d.path for d in documents] == ["good.txt"]
    reasons = {s.path: s.reason for s in skipped}
    assert reasons["empty.txt"] == "empty file"
    assert reasons["blank.txt"] == "empty file"
    assert reasons["binary.txt"] == "binary file"


def test_missing_corpus_dir_is_a_clear_error(tmp_path):
    with pytest.raises(BadInputError, match="not found"):
        read_corpus(tmp_path / "nope")


def test_symlink_outside_the_corpus_is_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("外部文件。", encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "own.txt").write_text("自己的文件。", encoding="utf-8")
    os.symlink(outside, corpus / "link")
    os.symlink(corpus, corpus / "loop")  # a loop back into the corpus: visited once
    documents, skipped = read_corpus(corpus)
    assert [d.path for d in documents] == ["own.txt"]
    assert any(s.path == "link" and "outside" in s.reason for s in skipped)
    documents, _ = read_corpus(corpus, follow_outside_links=True)
    assert [d.path for d in documents] == ["link/secret.txt", "own.txt"]


def test_an_index_kept_inside_the_corpus_is_not_read(tmp_path):
    (tmp_path / "doc.txt").write_text("正文。", encoding="utf-8")
    generation = tmp_path / "embeddings" / "gen-20260101000000-abcdef"
    generation.mkdir(parents=True)
    (generation / "manifest.json").write_text("{}", encoding="utf-8")
    (generation / "lexical").mkdir()
    (generation / "lexical" / "jieba_dict.txt").write_text("网络安全 107\n", encoding="utf-8")
    (tmp_path / "embeddings" / "CURRENT").write_text(generation.name, encoding="utf-8")
    # A folder that merely has a file called CURRENT is documents like any other.
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "CURRENT").write_text("this week", encoding="utf-8")
    (tmp_path / "notes" / "todo.txt").write_text("待办。", encoding="utf-8")
    documents, skipped = read_corpus(tmp_path, leave_out=holds_index)
    assert [d.path for d in documents] == ["doc.txt", "notes/todo.txt"]
    assert all(not s.path.startswith("embeddings") for s in skipped)
    assert "embeddings/gen-20260101000000-abcdef/lexical/jieba_dict.txt" in [d.path for d in read_corpus(tmp_path)[0]]  # what leave_out kept out


def test_broken_links_and_pipes_are_named_not_passed_over(tmp_path):
    (tmp_path / "good.txt").write_text("好的文件。", encoding="utf-8")
    os.symlink(tmp_path / "gone.txt", tmp_path / "dangling.txt")
    os.mkfifo(tmp_path / "pipe.txt")
    documents, skipped = read_corpus(tmp_path)
    assert [d.path for d in documents] == ["good.txt"]
    reasons = {s.path: s.reason for s in skipped}
    assert reasons == {"dangling.txt": "broken symlink", "pipe.txt": "not a regular file (a pipe, socket or device)"}


def test_utf8_with_a_few_stray_bytes_is_read_and_says_so(tmp_path):
    text = "这是一段很长的中文文本，用来测试。" * 20
    (tmp_path / "stray.txt").write_bytes(text.encode("utf-8") + b"\xff\xfe\x80" + "结尾。".encode("utf-8"))
    # A file that is mostly not UTF-8 is still not read as UTF-8 with holes.
    (tmp_path / "noise.txt").write_bytes(bytes(range(0x80, 0x100)) * 3 + "短。".encode("utf-8"))
    documents, skipped = read_corpus(tmp_path)
    (document,) = documents
    assert document.path == "stray.txt" and document.text.startswith(text) and document.text.endswith("\ufffd\ufffd\ufffd结尾。")
    assert document.warnings == ("3 places are not UTF-8 and read as \ufffd",)
    assert [s.path for s in skipped] == ["noise.txt"]
