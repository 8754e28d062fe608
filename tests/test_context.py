"""A passage with the passages around it in its document."""

import pytest

from qa.context import MAX_AROUND, passage_context
from qa.errors import BadInputError, NotFoundError


def test_neighbours_come_from_the_same_document_in_order(fake_index):
    siblings = fake_index.document_passages("transport.md")
    assert len(siblings) >= 3, "the test needs a document of several passages"
    middle = siblings[1]
    context = passage_context(fake_index, middle.id, around=1)
    assert context.passage == middle
    assert context.before == (siblings[0],) and context.after == (siblings[2],)
    first = passage_context(fake_index, siblings[0].id, around=2)
    assert first.before == () and first.after == tuple(siblings[1:3])
    assert passage_context(fake_index, middle.id, around=0).before == ()


def test_to_dict_names_ids_as_hits_do(fake_index):
    middle = fake_index.document_passages("transport.md")[1]
    data = passage_context(fake_index, middle.id).to_dict()
    assert data["passage"]["passage_id"] == middle.id and "id" not in data["passage"]
    assert [p["passage_id"] for p in data["before"]] == [fake_index.document_passages("transport.md")[0].id]


def test_unknown_ids_and_bad_widths_are_refused(fake_index):
    with pytest.raises(NotFoundError):
        passage_context(fake_index, "nope")
    some_id = fake_index.passages[0].id
    for around in (-1, MAX_AROUND + 1):
        with pytest.raises(BadInputError):
            passage_context(fake_index, some_id, around=around)
