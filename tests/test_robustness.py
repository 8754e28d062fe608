"""Nothing lost, nothing crashes: killed builds, concurrent use, hostile corpora."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qa import build_index, load_index
from qa.store import current_generation

TESTS_DIR = Path(__file__).parent
SLOW_MODEL = "py:fakes:SlowFakeEmbedder"


def qa_command(*args, seconds_per_text="0.05"):
    env = dict(os.environ, PYTHONPATH=f"{TESTS_DIR}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", QA_FAKE_EMBED_SECONDS=seconds_per_text)
    return [sys.executable, "-m", "qa", *[str(a) for a in args]], env


def run_qa(*args, **kwargs):
    command, env = qa_command(*args, **kwargs)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


def many_files(corpus_dir, n=40, tag="初版"):
    for i in range(n):
        (corpus_dir / f"doc{i:02d}.txt").write_text(f"第{i}号文件（{tag}）讲的是第{i}种茶叶的产地和历史。它的产地在第{i}个省份。", encoding="utf-8")


@pytest.fixture
def slow_index(tmp_path):
    corpus_dir = tmp_path / "corpus"
    corpus_dir.mkdir()
    many_files(corpus_dir)
    index_dir = tmp_path / "index"
    done = run_qa("index", corpus_dir, "--index-dir", index_dir, "--model", SLOW_MODEL, seconds_per_text="0")
    assert done.returncode == 0, done.stderr
    return corpus_dir, index_dir


def answers(index_dir, question="第7种茶叶的产地"):
    result = run_qa("ask", question, "--index-dir", index_dir, "--json", "-k", "1")
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("kill_after", [0.3, 1.0, 2.0, 3.5])
def test_sigkill_during_build_keeps_the_previous_index(slow_index, kill_after):
    corpus_dir, index_dir = slow_index
    before = current_generation(index_dir)
    many_files(corpus_dir, tag="改版")  # every passage changes: the rebuild embeds all of them
    command, env = qa_command("index", corpus_dir, "--index-dir", index_dir, "--model", SLOW_MODEL, seconds_per_text="0.02")
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(kill_after)
    process.send_signal(signal.SIGKILL)
    process.wait()
    after = current_generation(index_dir)
    assert after in (before, None) or after.exists()
    assert after == before or (after / "manifest.json").exists(), "CURRENT never points at a half-written generation"
    assert "初版" in answers(index_dir) or "改版" in answers(index_dir)
    done = run_qa("index", corpus_dir, "--index-dir", index_dir, "--model", SLOW_MODEL, seconds_per_text="0")
    assert done.returncode == 0, done.stderr
    assert "改版" in answers(index_dir)
    assert not list(index_dir.glob(".tmp-*")), "the next build clears what the killed one left"
    assert len(list(index_dir.glob("gen-*"))) <= 2


def test_ask_during_a_rebuild_answers_from_the_old_index_then_the_new(slow_index):
    corpus_dir, index_dir = slow_index
    many_files(corpus_dir, tag="改版")
    command, env = qa_command("index", corpus_dir, "--index-dir", index_dir, "--model", SLOW_MODEL, seconds_per_text="0.03")
    builder = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        assert builder.poll() is None, "the build should still be running"
        assert "初版" in answers(index_dir)
        second = run_qa("index", corpus_dir, "--index-dir", index_dir, "--model", SLOW_MODEL)
        assert second.returncode == 2
        assert "already building" in second.stderr
    finally:
        _, stderr = builder.communicate(timeout=120)
    assert builder.returncode == 0, stderr
    assert "改版" in answers(index_dir)


def test_hostile_files(tmp_path, fake_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "中文 文件名.txt").write_text("文件名里有中文和空格，内容照常索引。", encoding="utf-8")
    (corpus / "crlf.txt").write_bytes("第一行。\r\n第二行。\r\n".encode("utf-8"))
    (corpus / "cr.txt").write_bytes("旧式换行第一行。\r旧式换行第二行。".encode("utf-8"))
    (corpus / "nul.txt").write_bytes("含有\x00空字符的文本。".encode("utf-8"))
    (corpus / "utf16.txt").write_bytes("带字节顺序标记的UTF-16文本。".encode("utf-16"))
    (corpus / "big5.txt").write_bytes("這是一段用大五碼編碼的繁體中文文字，用來測試編碼偵測。".encode("big5"))
    (corpus / "gb.txt").write_bytes("这是一段用国标码编码的简体中文文字，用来测试编码检测功能。".encode("gb18030"))
    (corpus / "only_punct.txt").write_text("。。。！！！", encoding="utf-8")
    (corpus / "binary.md").write_bytes(os.urandom(4096))
    (corpus / "zero.txt").write_bytes(b"")
    report = build_index(corpus, tmp_path / "index", embedder=fake_embedder)
    skipped = {s.path: s.reason for s in report.skipped}
    assert set(skipped) == {"binary.md", "zero.txt"}
    index = load_index(tmp_path / "index", embedder=fake_embedder)
    docs = {p.doc_path for p in index.passages}
    assert {"中文 文件名.txt", "crlf.txt", "cr.txt", "nul.txt", "utf16.txt", "big5.txt", "gb.txt"} <= docs
    assert index.search("大五碼繁體", top_k=1)[0].passage.doc_path == "big5.txt"
    assert index.search("国标码简体", top_k=1)[0].passage.doc_path == "gb.txt"
    cr = [p for p in index.passages if p.doc_path == "cr.txt"]
    assert [p.line_start for p in cr] == [1, 2]


def test_unreadable_file_is_skipped(tmp_path, monkeypatch):
    from qa import reader

    (tmp_path / "ok.txt").write_text("可以读取。", encoding="utf-8")
    (tmp_path / "locked.txt").write_text("不能读取。", encoding="utf-8")
    real = Path.read_bytes

    def read_bytes(self):
        if self.name == "locked.txt":  # root ignores chmod, so deny the read itself
            raise PermissionError(13, "Permission denied")
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    documents, skipped = reader.read_corpus(tmp_path)
    assert [d.path for d in documents] == ["ok.txt"]
    assert skipped[0].path == "locked.txt" and "Permission denied" in skipped[0].reason


def test_one_huge_line(tmp_path, fake_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    sentence = "这是一个很长的单行文件里的一句话，用来测试切分。"
    (corpus / "huge.txt").write_text(sentence * 200_000, encoding="utf-8")  # about 5 million characters
    report = build_index(corpus, tmp_path / "index", embedder=fake_embedder)
    assert report.passages > 10_000
    index = load_index(tmp_path / "index", embedder=fake_embedder)
    assert all(len(p.text) <= 600 for p in index.passages[:1000])
