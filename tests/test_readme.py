"""README's Python snippet runs as a user would run it: saved anywhere, even beside the clone."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

README_PATH = Path(__file__).parents[1] / "README.md"


def python_snippet() -> str:
    return re.search(r"```python\n(.*?)```", README_PATH.read_text(encoding="utf-8"), re.S).group(1)


def test_a_folder_named_qa_beside_a_script_does_not_shadow_the_package(tmp_path):
    (tmp_path / "qa").mkdir()  # what a clone named qa looks like from its parent folder
    result = subprocess.run([sys.executable, "-c", "import qa; print(qa.__file__)"], cwd=tmp_path, capture_output=True, text=True)
    assert result.stdout.strip() == str(Path(__file__).parents[1] / "qa" / "__init__.py")


@pytest.mark.model
def test_the_python_snippet_runs_from_another_folder(tmp_path):
    (tmp_path / "qa").mkdir()
    (tmp_path / "snippet.py").write_text(python_snippet(), encoding="utf-8")
    result = subprocess.run([sys.executable, "snippet.py"], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0].split()
    assert first[0] == "1" and first[2].endswith(".txt")



@pytest.mark.model
def test_the_pytest_example_passes_as_written(tmp_path):
    """README's example of a golden test (its relative paths are the clone's) runs and passes."""
    block = README_PATH.read_text(encoding="utf-8").split("From pytest, build the index once per session", 1)[1]
    (tmp_path / "test_example.py").write_text(re.search(r"```python\n(.*?)```", block, re.S).group(1), encoding="utf-8")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path / "test_example.py")]
    result = subprocess.run(command, cwd=README_PATH.parent, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
