"""qa's modules import one another without cycles, and only along the pipeline: read from the
source, not by importing.

A cycle works until the day an import moves to the top of a file, and makes every module in
it load the others. An import against the stage order (storage reaching into the answer
picker, reading into storage) is how a pipeline stops showing its shape. Imports under
`if TYPE_CHECKING:` (annotations only) do not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE_DIR = Path(__file__).parents[1] / "qa"


# The pipeline's stages, in order (ARCHITECTURE.md): a module imports only from its own stage
# or an earlier one. The library's entry points (a build, a search, what serves and watches an
# index, evaluation) sit above the stages; the interfaces above everything.
STAGES = (
    ("records", ("qa.models", "qa.errors", "qa.user_cache")),
    ("read and split", ("qa.ingest",)),
    ("embed", ("qa.embedding",)),
    ("store", ("qa.storage",)),
    ("retrieve", ("qa.retrieve",)),
    ("answer", ("qa.answer",)),
    ("library", ("qa", "qa.builder", "qa.search", "qa.citations", "qa.live", "qa.watch", "qa.evaluation")),
    ("interfaces", ("qa.interfaces", "qa.__main__")),
)


def stage_of(module: str) -> int:
    """The number of the stage whose most specific prefix names the module."""
    found = [(len(prefix), number) for number, (_, prefixes) in enumerate(STAGES) for prefix in prefixes if module == prefix or module.startswith(prefix + ".")]
    return max(found)[1]


def against_the_stages(graph: dict[str, set[str]]) -> list[str]:
    return [
        f"{module} ({STAGES[stage_of(module)][0]}) imports {other} ({STAGES[stage_of(other)][0]})"
        for module in sorted(graph)
        for other in sorted(graph[module])
        if stage_of(other) > stage_of(module)
    ]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """The qa modules `path` imports, anywhere in it (functions too)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    annotations_only = {id(node) for block in ast.walk(tree) if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.dump(block.test) for node in ast.walk(block)}
    found = set()
    for node in ast.walk(tree):
        if id(node) in annotations_only:
            continue
        if isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            source = ".".join(base + ([node.module] if node.module else []))
            submodules = {f"{source}.{alias.name}" for alias in node.names} & modules
            # `from . import render` needs render; `from .search import Index` needs search.
            found |= submodules | ({source} if len(submodules) < len(node.names) else set())
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return (found & modules) - {name}


def import_graph() -> dict[str, set[str]]:
    paths = sorted(PACKAGE_DIR.rglob("*.py"))
    modules = {module_name(path) for path in paths}
    return {module_name(path): imports_of(path, modules) for path in paths}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in sorted(graph[module]):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = []
            while True:
                other = stack.pop()
                group.append(other)
                if other == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_the_graph_is_read_from_the_source():
    graph = import_graph()
    assert "qa.storage.records" in graph["qa.search"], "a function-level import counts"
    assert "qa.retrieve.align" in graph["qa.search"]


def test_a_cycle_is_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_qa_has_no_import_cycles():
    assert cycles(import_graph()) == []


def test_every_module_has_a_stage():
    assert stage_of("qa.storage.milvus") == 3 and stage_of("qa.search") == 6 and stage_of("qa.interfaces.server.app") == 7
    assert {stage_of(module) for module in import_graph()} == set(range(len(STAGES)))


def test_an_import_against_the_stages_is_found():
    graph = {"qa.storage.local": {"qa.answer.picker", "qa.models"}, "qa.answer.picker": {"qa.storage.local"}}
    assert against_the_stages(graph) == ["qa.storage.local (store) imports qa.answer.picker (answer)"]


def test_qa_imports_only_along_the_pipeline():
    assert against_the_stages(import_graph()) == []


def test_the_backends_do_not_import_each_other():
    """Each implements qa.storage.store's Store and Writer on its own; what they share (BM25's
    words, the manifest, the records) is in modules of neither."""
    graph = import_graph()
    local = {"qa.storage.local", "qa.storage.generation", "qa.storage.dense", "qa.storage.lexical", "qa.storage.index_dir", "qa.storage.token_states"}

    def reaches(module: str) -> set[str]:
        seen, todo = set(), [module]
        while todo:
            for other in graph[todo.pop()] - seen:
                seen.add(other)
                todo.append(other)
        return seen

    assert not reaches("qa.storage.milvus") & local
    assert "qa.storage.milvus" not in set().union(*(reaches(module) for module in local))
