"""qa index --watch: a real process keeps the index in step with its folder."""

import queue
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import default_sigint
from test_robustness import qa_command, run_qa

DOCUMENTS_DIR = Path(__file__).parent / "data" / "documents"
FAKE_MODEL = "py:conftest:FakeEmbedder"


class Watcher:
    """`qa index --watch` in a subprocess, its output lines readable with a timeout."""

    def __init__(self, corpus_dir: Path, index_dir: Path):
        command, env = qa_command("index", corpus_dir, "--index-dir", index_dir, "--model", FAKE_MODEL, "--watch")
        self.process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, preexec_fn=default_sigint)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def wait_for(self, text: str, seconds: float = 30) -> str:
        seen = []
        while True:
            try:
                line = self.lines.get(timeout=seconds)
            except queue.Empty:
                pytest.fail(f"no line with {text!r} within {seconds} s; saw {seen}")
            seen.append(line)
            if text in line:
                return line


def top_hit(index_dir: Path, question: str) -> str:
    result = run_qa("ask", question, "--index-dir", index_dir, "--json", "-k", "1")
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def watching(tmp_path):
    """(corpus_dir, index_dir, watcher): a folder of one file, watched; the process killed after."""
    corpus_dir, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus_dir.mkdir()
    (corpus_dir / "tea.txt").write_text("龙井茶产于浙江省杭州市西湖一带。", encoding="utf-8")
    watcher = Watcher(corpus_dir, index_dir)
    try:
        watcher.wait_for("Watching")
        yield corpus_dir, index_dir, watcher
    finally:
        watcher.process.kill()


def test_watch_follows_added_changed_and_deleted_files_and_survives_a_failed_update(watching):
    corpus_dir, index_dir, watcher = watching
    shutil.copy(DOCUMENTS_DIR / "report.pdf", corpus_dir / "report.pdf")
    line = watcher.wait_for("updated")
    assert "added report.pdf" in line and "2 files" in line
    assert '"page": 2' in top_hit(index_dir, "短视频用户规模增长")

    (corpus_dir / "tea.txt").write_text("碧螺春产于江苏省苏州市太湖洞庭山。", encoding="utf-8")
    assert "changed tea.txt" in watcher.wait_for("updated")
    assert "碧螺春" in top_hit(index_dir, "碧螺春产于哪里")

    (corpus_dir / "report.pdf").unlink()
    line = watcher.wait_for("updated")
    assert "deleted report.pdf" in line and "1 file," in line

    (corpus_dir / "tea.txt").unlink()  # nothing left to index: this update fails
    assert "the previous index still answers" in watcher.wait_for("update failed")
    assert "碧螺春" in top_hit(index_dir, "碧螺春产于哪里")

    (corpus_dir / "panda.txt").write_text("大熊猫主要栖息在四川。", encoding="utf-8")
    assert "added panda.txt" in watcher.wait_for("updated")

    watcher.process.send_signal(signal.SIGINT)
    assert "Stopped watching" in watcher.wait_for("Stopped watching")
    assert watcher.process.wait(timeout=30) == 0
    assert not list(index_dir.glob(".tmp-*"))


def test_watch_passes_over_what_the_index_does_not_see_and_stops_when_its_folder_goes(watching):
    corpus_dir, _, watcher = watching
    (corpus_dir / "watch.log").write_text("a log kept in the folder\n")  # a type qa does not read
    time.sleep(2)  # past the debounce: a batch of its own
    (corpus_dir / "panda.txt").write_text("大熊猫主要栖息在四川。", encoding="utf-8")
    line = watcher.wait_for("updated")
    assert "panda.txt" in line and "watch.log" not in line, line  # the log's batch was not news
    (corpus_dir / "watch.log").write_text("another line\n")
    (corpus_dir / "broken.txt").write_bytes(bytes(range(256)) * 10)
    assert "skipped broken.txt: binary file" in watcher.wait_for("warning")
    shutil.rmtree(corpus_dir)
    assert "stopped watching" in watcher.wait_for("is gone")
    assert watcher.process.wait(timeout=30) == 2
