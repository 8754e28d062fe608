"""The manifest: one typed record, written and read back the same, bad JSON named."""

import pytest

from qa.errors import IndexVersionError
from qa.storage.manifest import Manifest, check_format, manifest_problem, read_manifest

BASE = dict(model="fake", dim=8, passage_count=3, unit_count=5, corpus_dir="/c", built_at="2026-12-07T00:00:00+0000", index_type="flat", files=[{"path": "a.txt"}])


def test_what_is_written_reads_back_the_same():
    manifest = Manifest(**BASE, engine=None, skipped=[{"path": "b.pdf", "reason": "encrypted"}], modes=("dense",), generation=4, next_pid=7)
    data = manifest.to_dict()
    assert manifest_problem(data) is None
    assert read_manifest(data) == manifest
    assert data["engine"] is None and "published_at" not in data, "a Milvus field left unset is not written"


def test_fields_a_later_qa_added_are_passed_over():
    assert read_manifest(dict(BASE, colour="blue")) == Manifest(**BASE)


@pytest.mark.parametrize(
    "change, problem",
    [
        ({"dim": "8"}, "field 'dim' is missing or not a int"),
        ({"dim": True}, "field 'dim'"),
        ({"files": [{"name": "a.txt"}]}, "a file without a path"),
        ({"skipped": [{"path": "b.pdf"}]}, "skipped files"),
        ({"engine": 3}, "field 'engine'"),
        ({"token_states": "yes"}, "field 'token_states'"),
    ],
)
def test_a_bad_field_is_named(change, problem):
    assert problem in manifest_problem(dict(BASE, **change))


def test_formats_outside_the_range_are_refused_in_the_same_words():
    check_format(2, 2, 1, "here") or check_format(1, 2, 1, "here")  # both read
    with pytest.raises(IndexVersionError, match=r"^here was written by a newer qa \(format 3\); upgrade qa$"):
        check_format(3, 2, 1, "here")
    with pytest.raises(IndexVersionError, match=r"^here was built by an older qa \(format 0\); rebuild it$"):
        check_format(0, 2, 1, "here")
