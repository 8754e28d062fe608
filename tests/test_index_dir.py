import pytest

from qa.errors import IndexBusyError, IndexDamagedError
from qa.storage.index_dir import CURRENT, build_lock, current_generation, new_staging_dir, publish


def test_publish_swaps_generations_and_keeps_the_previous_one(tmp_path):
    index_dir = tmp_path / "index"
    index_dir.mkdir()
    generations = []
    for n in range(3):
        staging = new_staging_dir(index_dir)
        (staging / "file").write_text(str(n))
        generations.append(publish(index_dir, staging))
        assert current_generation(index_dir) == generations[-1]
    assert not generations[0].exists(), "generations older than the previous one are removed"
    assert generations[1].exists(), "the previous generation stays for readers still on it"
    assert (current_generation(index_dir) / "file").read_text() == "2"


def test_stray_staging_dirs_are_removed_by_the_next_build(tmp_path):
    stray = tmp_path / ".tmp-0123456789ab"
    stray.mkdir(parents=True)
    new_staging_dir(tmp_path)
    assert not stray.exists()


def test_folders_a_build_did_not_make_are_never_removed(tmp_path):
    # --index-dir may name a folder the user keeps other things in.
    for name in ("gen-notes", ".tmp-mine"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "todo.txt").write_text("keep me")
    for _ in range(3):
        publish(tmp_path, new_staging_dir(tmp_path))
    assert (tmp_path / "gen-notes" / "todo.txt").read_text() == "keep me"
    assert (tmp_path / ".tmp-mine" / "todo.txt").read_text() == "keep me"


@pytest.mark.parametrize("pointer", [b"junk\n", b"", b"\xff\xfe\x00gen"])
def test_an_unreadable_pointer_is_damage_and_publishing_replaces_it(tmp_path, pointer):
    first = publish(tmp_path, new_staging_dir(tmp_path))
    (tmp_path / CURRENT).write_bytes(pointer)
    with pytest.raises(IndexDamagedError, match="bad CURRENT pointer"):
        current_generation(tmp_path)
    second = publish(tmp_path, new_staging_dir(tmp_path))
    assert current_generation(tmp_path) == second
    assert first.exists(), "which generation readers were on is unknown: none is removed"


def test_second_build_lock_fails_clearly(tmp_path):
    with build_lock(tmp_path):
        with pytest.raises(IndexBusyError, match="already building"):
            with build_lock(tmp_path):
                pass
    with build_lock(tmp_path):  # released
        pass


def test_tampered_current_pointer_is_an_error(tmp_path):
    (tmp_path / CURRENT).write_text("../../etc\n")
    with pytest.raises(IndexDamagedError, match="damaged"):
        current_generation(tmp_path)
