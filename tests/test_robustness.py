"""Nothing lost, nothing crashes: killed builds, concurrent use, hostile corpora."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import default_sigint
from qa import build_index, load_index
from qa.storage.index_dir import current_generation

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


def start_paused_build(corpus_dir, index_dir, stage, tmp_path):
    """Start a rebuild that stops at `stage` (the QA_TEST_PAUSE_AT hook) and wait until it is there."""
    pause_file = tmp_path / f"paused-{stage}"
    command, env = qa_command("index", corpus_dir, "--index-dir", index_dir, "--model", SLOW_MODEL, seconds_per_text="0")
    env.update(QA_TEST_PAUSE_AT=stage, QA_TEST_PAUSE_FILE=str(pause_file))
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
    deadline = time.monotonic() + 60
    while not pause_file.exists():
        assert process.poll() is None, f"the build ended before reaching {stage}: {process.communicate()}"
        assert time.monotonic() < deadline, f"the build never reached {stage}"
        time.sleep(0.05)
    assert pause_file.read_text() == stage
    return process


STAGES = ["embedding", "vectors", "lexical", "publishing", "published"]


@pytest.mark.parametrize("stage", STAGES)
def test_sigkill_at_every_stage_of_a_build_loses_nothing(slow_index, tmp_path, stage):
    corpus_dir, index_dir = slow_index
    before = current_generation(index_dir)
    many_files(corpus_dir, tag="改版")  # every passage changes: the rebuild embeds all of them
    process = start_paused_build(corpus_dir, index_dir, stage, tmp_path)
    process.send_signal(signal.SIGKILL)
    process.communicate()
    assert process.returncode == -signal.SIGKILL  # killed where it stood, not finished
    after = current_generation(index_dir)
    if stage == "published":
        assert after != before and (after / "manifest.json").exists()
        assert "改版" in answers(index_dir)
    else:
        assert after == before, "CURRENT never points at a half-written generation"
        assert "初版" in answers(index_dir)
    if stage == "publishing":  # killed between renaming the new generation and pointing CURRENT at it
        assert len(list(index_dir.glob("gen-*"))) == 2
    done = run_qa("index", corpus_dir, "--index-dir", index_dir, "--model", SLOW_MODEL, seconds_per_text="0")
    assert done.returncode == 0, done.stderr
    assert "改版" in answers(index_dir)
    assert not list(index_dir.glob(".tmp-*")), "the next build clears what the killed one left"
    live = current_generation(index_dir)
    # the live generation and the one before it (kept for readers still on it), nothing else
    assert {g.name for g in index_dir.glob("gen-*")} <= {live.name, before.name}, "no stray generations"


@pytest.mark.parametrize("stage", ["embedding", "lexical"])
def test_ctrl_c_during_a_build_says_so_and_leaves_nothing_behind(slow_index, tmp_path, stage):
    corpus_dir, index_dir = slow_index
    before = current_generation(index_dir)
    many_files(corpus_dir, tag="改版")
    process = start_paused_build(corpus_dir, index_dir, stage, tmp_path)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130
    assert stderr.splitlines()[-1] == "interrupted: the previous index is unchanged"
    assert "Traceback" not in stderr
    assert current_generation(index_dir) == before
    assert not list(index_dir.glob(".tmp-*")), "the staging folder is removed"
    assert "初版" in answers(index_dir)


def test_an_index_dir_that_is_no_folder_is_one_line(slow_index, tmp_path):
    corpus_dir, _ = slow_index
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_qa("index", corpus_dir, "--index-dir", blocker / "index", "--model", SLOW_MODEL, seconds_per_text="0")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == f"error: cannot use {blocker / 'index'} as an index folder: Not a directory"
    assert "Traceback" not in result.stderr


def test_os_errors_are_one_line(monkeypatch, capsys):
    from qa.interfaces import cli

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device", "embeddings/.tmp-x")

    monkeypatch.setattr(cli, "app", disk_full)
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip() == "error: No space left on device: embeddings/.tmp-x"


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
    (cr,) = [p for p in index.passages if p.doc_path == "cr.txt"]  # two short lines, one passage
    assert (cr.line_start, cr.line_end) == (1, 2) and cr.text == "旧式换行第一行。\r旧式换行第二行。", "a lone CR ends a line"


def test_unreadable_file_is_skipped(tmp_path, monkeypatch):
    from qa.ingest import reader

    (tmp_path / "ok.txt").write_text("可以读取。", encoding="utf-8")
    (tmp_path / "locked.txt").write_text("不能读取。", encoding="utf-8")

    def guarded_open(path, *args, **kwargs):
        if Path(path).name == "locked.txt":  # root ignores chmod, so deny the read itself
            raise PermissionError(13, "Permission denied")
        return open(path, *args, **kwargs)

    monkeypatch.setattr(reader, "open", guarded_open, raising=False)
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


def test_interactive_prompt_edits_lines_recalls_history_and_leaves_cleanly(slow_index, tmp_path):
    """On a real terminal (a pty): a hint how to leave, ↑ recalls the last question, Ctrl-D ends on a fresh line."""
    import pty
    import select

    _, index_dir = slow_index
    command, env = qa_command("ask", "--index-dir", index_dir, "-k", "1", seconds_per_text="0")
    env.update(QA_HISTORY_FILE=str(tmp_path / "history"), TERM="xterm", NO_COLOR="1")
    pid, fd = pty.fork()
    if pid == 0:  # the child runs qa on the terminal
        os.execve(command[0], command, env)
    received = bytearray()

    def read_until(done, seconds=30):
        deadline = time.monotonic() + seconds
        while not done() and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    received.extend(os.read(fd, 4096))
                except OSError:  # the child closed the terminal
                    return
        assert done(), f"gave up waiting; the terminal shows: {received.decode(errors='replace')}"

    # The first hit's header, one per question asked (-k 1), whether or not the fake model's
    # confidence clears the threshold (the answer is only marked when it does).
    first_hit = b"[1] "
    read_until(lambda: received.endswith(b"question> "))
    os.write(fd, "第7种茶叶的产地\r".encode())
    read_until(lambda: received.count(first_hit) == 1 and received.endswith(b"question> "))
    os.write(fd, b"\x1b[A\r")  # the up arrow: the previous question again
    read_until(lambda: received.count(first_hit) == 2 and received.endswith(b"question> "))
    os.write(fd, b"\x04")  # Ctrl-D
    read_until(lambda: not received.endswith(b"question> "), 10)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    text = received.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0
    assert "Ctrl-D or `exit` to leave" in text.splitlines()[0]
    assert "^[[A" not in text
    assert text.endswith("question> \r\n"), "the shell's prompt starts on its own line"
    assert "第7种茶叶的产地" in (tmp_path / "history").read_text(encoding="utf-8")
