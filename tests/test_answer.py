import dataclasses

import numpy as np
import pytest

from qa.answer import picker as answer
from qa.retrieve.align import SentenceMatches
from qa.models import Sentences, TokenStates
from qa.answer.picker import aligned_features, choose, focus, pick_answer, sentence_features, tokens
from qa.ingest.chunker import dense_units, sentence_spans
from qa.models import Passage
from qa.ingest.normalize import normalize

TEXT = "前言部分。大熊猫每天要吃12到38公斤竹子。野生大熊猫约有1864只。"
OFFSET = 100


def make_passage(text=TEXT, title=""):
    return Passage(id="p", doc_path="a.txt", title=title, section="", paragraph=1, line_start=1, line_end=1, char_start=OFFSET, char_end=OFFSET + len(text), text=text)


def make_sentences(text=TEXT, vectors=None, previous_vector=None):
    spans = sentence_spans(text, OFFSET)
    forms = [normalize(text[a - OFFSET : b - OFFSET]) for a, b in spans]
    return Sentences(spans=spans, forms=forms, vectors=vectors, previous_vector=previous_vector)


def unit(angle):
    return np.array([np.cos(angle), np.sin(angle)], dtype=np.float32)


def test_answer_offsets_point_into_the_file():
    found = pick_answer(make_passage(), make_sentences(), normalize("野生大熊猫有多少只"), None)
    assert found.text == "野生大熊猫约有1864只。"
    assert (" " * OFFSET + TEXT)[found.char_start : found.char_end] == found.text


def test_similarity_decides_when_the_words_do_not():
    query = unit(0.0)
    vectors = np.stack([unit(1.4), unit(0.1), unit(1.2)])  # the middle sentence is closest
    found = pick_answer(make_passage(), make_sentences(vectors=vectors), normalize("完全不同的词"), query)
    assert found.text == "大熊猫每天要吃12到38公斤竹子。"


def test_no_sentences_no_answer():
    assert pick_answer(make_passage(), Sentences(spans=[], forms=[]), "问题", None) is None


def test_a_close_neighbour_joins_the_best_sentence():
    assert choose(np.array([0.0, 5.0, 5.0 - answer.PAIR_MARGIN / 2])) == [1, 2]
    assert choose(np.array([0.0, 5.0, 5.0 - answer.PAIR_MARGIN * 2])) == [1]
    assert choose(np.array([3.0])) == [0]


def test_a_label_picked_takes_in_the_sentence_it_introduces():
    text = "4.1\n方正大米 Fangzheng rice\n采用本标准规定范围内生产的水稻加工而成的大米。\n4.2\n碱消值 alkali spreading value\n精米在质量浓度为1.4%的氢氧化钾溶液中浸泡23h后米粒的解析程度。"
    spans = sentence_spans(text, OFFSET, lines_are_paragraphs=True)
    sentences = Sentences(spans=spans, forms=[normalize(text[a - OFFSET : b - OFFSET]) for a, b in spans])
    found = pick_answer(make_passage(text), sentences, normalize("碱消值是怎么定义的"), None)
    assert found.text == "碱消值 alkali spreading value\n精米在质量浓度为1.4%的氢氧化钾溶液中浸泡23h后米粒的解析程度。"
    found = pick_answer(make_passage(TEXT), make_sentences(), normalize("野生大熊猫有多少只"), None)
    assert found.text == "野生大熊猫约有1864只。", "a sentence is not a label"


def line_sentences(passage):
    """A passage's sentences as an extracted document's (a line is a paragraph) are picked from."""
    spans = dense_units(passage, lines_are_paragraphs=True)
    return Sentences(spans=spans, forms=[normalize(passage.text[a - OFFSET : b - OFFSET]) for a, b in spans])


LISTS = {
    "a lead-in's items": (
        "7.5 型式检验\n有下列情况之一的应进行型式检验：\na）新产品投产；\nb）产品停产一年以上，恢复生产；\n"
        "c）连续生产三年；\nd）国家质量监督机构提出进行型式检验的要求。\n8 标志、包装\n包装上的标志应符合GB/T 191的规定，并注明产品名称和生产日期。",
        "什么情况下应进行型式检验",
        ["连续生产三年", "国家质量监督机构"],
        "包装上的标志",
    ),
    "a caption's table rows": (
        "5.6 理化指标\n理化指标应符合表3的规定。\n表 3 理化指标\n项目 一、四季度 二、三季度\n水分/% ≤ 15.5 14.5\n"
        "碎米总量/% ≤ 7.5 7.5\n不完善粒/% ≤ 3.0 3.0\n6 检验方法\n色泽和气味按GB/T 5492的规定执行，检验结果以多数人的意见为准。",
        "理化指标有哪些规定",
        ["碎米总量", "不完善粒"],
        "GB/T 5492",
    ),
}


@pytest.mark.parametrize("text, question, wanted, after", LISTS.values(), ids=LISTS.keys())
def test_a_highlight_takes_in_the_list_it_introduces_and_no_more(text, question, wanted, after):
    passage = make_passage(text)
    found = pick_answer(passage, line_sentences(passage), normalize(question), None)
    assert all(item in found.text for item in wanted)
    assert after not in found.text, "the list ends where a statement follows"


def test_a_long_list_is_narrowed_at_its_line_ends():
    items = ["核电厂设计（SF1）", "构筑物、系统和部件的实际状态（SF2）", "设备合格鉴定（SF3）", "老化（SF4）", "确定论安全分析（SF5）", "概率安全分析（SF6）",
             "灾害分析（SF7）", "安全性能（SF8）", "其他核电厂经验及研究成果的应用（SF9）", "组织机构和行政管理（SF10）", "程序（SF11）", "人因（SF12）"]
    text = "5.1.1 一般而言，定期安全评价的范围应包括以下12个安全要素：\n" + "\n".join(items)
    passage = make_passage(text)
    found = pick_answer(passage, line_sentences(passage), normalize("定期安全评价的范围包括哪些安全要素"), None)
    assert len(found.text) > 40 and "老化（SF4）" in found.text
    assert all(line in items for line in found.text.splitlines()[1:]), "no item is cut in two"


def test_what_counts_as_a_list():
    assert answer._opens_list(["有下列情况之一的应进行型式检验：", "a）新产品投产；"])
    assert answer._opens_list(["表 3 理化指标", "项目 指标"])
    assert not answer._opens_list(["有下列情况之一的应进行型式检验：", "这是一句完整的陈述，说明了一件事情。"])
    assert not answer._opens_list(["大熊猫每天要吃竹子。"])
    assert answer._is_list_line("b）产品投产后，当原料、工艺、装备有较大改动，可能影响产品性能；")


def test_a_joined_answer_spans_both_sentences_in_the_file(monkeypatch):
    monkeypatch.setattr(answer, "PAIR_MARGIN", 1e9)  # always join the better neighbour
    query = unit(0.0)
    vectors = np.stack([unit(1.5), unit(0.2), unit(1.0)])
    found = pick_answer(make_passage(), make_sentences(vectors=vectors), normalize("完全不同的词"), query)
    assert found.text == "大熊猫每天要吃12到38公斤竹子。野生大熊猫约有1864只。"
    assert (" " * OFFSET + TEXT)[found.char_start : found.char_end] == found.text


def test_previous_feature_reads_the_sentence_before():
    query = unit(0.0)
    vectors = np.stack([unit(0.3), unit(0.6), unit(0.9)])
    before = unit(1.0)
    features = sentence_features(make_passage(), make_sentences(vectors=vectors, previous_vector=before), "词", query)
    column = answer.FEATURES.index("previous")
    assert np.allclose(features[:, column], [before @ query, vectors[0] @ query, vectors[1] @ query])
    # The document's first sentence has nothing before it: it stands in for itself.
    features = sentence_features(make_passage(), make_sentences(vectors=vectors), "词", query)
    assert np.isclose(features[0, column], vectors[0] @ query)


def test_focus_blanks_what_the_question_shares_with_the_title():
    title = normalize("拉迪氏苦味银汉鱼为辐鳍鱼纲银汉鱼目沼银汉鱼科的其中一种")
    assert tokens(focus("拉迪氏苦味银汉鱼的卵有什么特征", title)) == [list("的卵有什么特征")]
    assert focus("卵有什么特征", "") == "卵有什么特征"


def test_the_subjects_name_does_not_pull_the_answer_to_the_introduction():
    # The introduction repeats the name; the answer says 本鱼. Matching the name would pick the first.
    text = "拉迪氏苦味银汉鱼为银汉鱼科的其中一种。本鱼分布于印尼的淡水溪流中。卵为黄色，有特征的斑点。"
    passage = make_passage(text, title="拉迪氏苦味银汉鱼为银汉鱼科的其中一种。")
    found = pick_answer(passage, make_sentences(text), normalize("拉迪氏苦味银汉鱼的卵有什么特征"), None)
    assert found.text == "卵为黄色，有特征的斑点。"


def test_the_paragraphs_opening_names_the_subject_when_the_title_names_another():
    # A PDF of several articles has one title, its first article's; this paragraph is another.
    text = "拉迪氏苦味银汉鱼为银汉鱼科的其中一种。本鱼分布于印尼的淡水溪流中。卵为黄色，有特征的斑点。"
    passage = make_passage(text, title="大熊猫是中国特有的哺乳动物")
    question = normalize("拉迪氏苦味银汉鱼的卵有什么特征")
    lead = "拉迪氏苦味银汉鱼为银汉鱼科的其中一种。"
    assert pick_answer(passage, make_sentences(text), question, None).text != "卵为黄色，有特征的斑点。"
    found = pick_answer(passage, dataclasses.replace(make_sentences(text), lead=lead), question, None)
    assert found.text == "卵为黄色，有特征的斑点。"


def test_a_question_about_time_prefers_a_sentence_with_a_date():
    # Both sentences match the question's words about equally; only one can say when.
    text = "他发行首张专辑的公司在上海。他在1999年发行首张专辑。"
    found = pick_answer(make_passage(text), make_sentences(text), normalize("他的首张专辑是什么时候发行的"), None)
    assert found.text == "他在1999年发行首张专辑。"


def test_tokens_keep_latin_words_and_numbers_whole():
    assert tokens(normalize("BCPL的第一支compiler在1967年")) == [["bcpl", "的", "第", "一", "支", "compiler", "在", "1967", "年"]]
    assert tokens("what|is bcpl") == [["what"], ["is", "bcpl"]]


# One run-on sentence of 15 clauses (a headline glued to a long report sentence, as news pages have).
RUN_ON = "，".join(
    ["新闻标题没有句号一直连到正文"]
    + [f"第{n}项工作按计划稳步推进并取得进展" for n in range(1, 7)]
    + ["座谈会于4月19日上午在北京召开"]
    + [f"与会者就第{n}项议题深入交流了看法" for n in range(1, 8)]
) + "。"


def test_a_long_answer_narrows_to_the_clauses_that_answer():
    assert len(RUN_ON) > answer.NARROW_CHARS
    found = pick_answer(make_passage(RUN_ON), make_sentences(RUN_ON), normalize("座谈会是哪天召开的"), None)
    assert "座谈会于4月19日上午在北京召开" in found.text
    assert len(found.text) <= answer.NARROW_CHARS
    assert (" " * OFFSET + RUN_ON)[found.char_start : found.char_end] == found.text
    assert found.text[-1] not in "，、；"  # ends on a word, not on the clause mark


def test_a_long_answer_is_kept_whole_when_no_clause_answers_more_clearly_than_the_rest():
    # Every clause matches the question alike: narrowing could only guess, and might cut the answer.
    text = "，".join(f"第{n}项工作按计划稳步推进并取得进展" for n in range(1, 10)) + "。"
    assert len(text) > answer.NARROW_CHARS
    found = pick_answer(make_passage(text), make_sentences(text), normalize("工作进展如何"), None)
    assert found.text == text


def test_a_narrowed_answer_takes_in_the_clauses_after_the_one_that_answers_while_room_remains():
    found = pick_answer(make_passage(RUN_ON), make_sentences(RUN_ON), normalize("座谈会是哪天召开的"), None)
    after = RUN_ON[RUN_ON.index("座谈会于") :]
    assert found.text.startswith("座谈会于4月19日上午在北京召开，与会者就第1项议题")
    assert len(found.text) > answer.NARROW_CHARS - len("与会者就第1项议题深入交流了看法，") and len(after) > answer.NARROW_CHARS


def test_a_short_answer_is_not_narrowed():
    text = "座谈会于4月19日上午在北京召开，与会者深入交流了看法。"
    found = pick_answer(make_passage(text), make_sentences(text), normalize("座谈会是哪天召开的"), None)
    assert found.text == text


def test_a_long_clause_without_commas_narrows_at_enumeration_commas():
    names = "、".join(f"第{n}位代表" for n in range(1, 40))
    text = f"出席的有{names}。"
    assert len(text) > answer.NARROW_CHARS
    found = pick_answer(make_passage(text), make_sentences(text), normalize("第17位代表出席了吗"), None)
    assert "第17位代表" in found.text and len(found.text) <= answer.NARROW_CHARS


def matches(pieces, best, weights=None):
    """How a question given as token texts matches each sentence (rows: tokens, columns: sentences)."""
    n = len(pieces)
    weights = np.ones(n, dtype=np.float32) if weights is None else np.array(weights, dtype=np.float32)
    question = TokenStates(vectors=np.zeros((n, 2), dtype=np.float32), parts=np.zeros(n, dtype=int), weights=weights, pieces=tuple(pieces))
    return SentenceMatches(question, np.array(best, dtype=np.float32))


def test_the_sentence_the_question_aligns_with_token_by_token_is_picked():
    text = "第一句没有。第二句也没有。第三句还是没有。"
    passage, sentences = make_passage(text), make_sentences(text)
    question = normalize("完全不同的词")
    assert "第三句" not in pick_answer(passage, sentences, question, None).text  # nothing tells them apart
    aligned = matches(["▁完全", "不同", "的", "词"], [[0.1, 0.1, 0.9]] * 4)
    assert pick_answer(passage, sentences, question, None, aligned).text == "第三句还是没有。"


def test_the_sentence_aligned_with_the_question_word_is_picked():
    # The words align with the first sentence as well as the second; 谁 aligns with a name in the second.
    text = "电话是一项发明。贝尔发明了电话。电话很有用。"
    passage, sentences = make_passage(text), make_sentences(text)
    for who, expected in (([0.2, 0.9, 0.2], "贝尔发明了电话。"), ([0.2, 0.2, 0.2], "电话是一项发明。贝尔发明了电话。")):
        aligned = matches(["▁", "谁", "发明", "了", "电话"], [[0, 0, 0], who, [0.9, 0.9, 0.3], [0.5, 0.5, 0.5], [0.9, 0.9, 0.9]])
        assert pick_answer(passage, sentences, normalize("谁发明了电话"), None, aligned).text == expected


def test_the_focus_leaves_out_the_subject_and_question_words():
    question_form = normalize("大熊猫吃什么")
    focus_form = focus(question_form, normalize("大熊猫"))
    assert focus_form == "|||吃什么"
    aligned = matches(["▁", "大熊猫", "吃", "什么"], [[0, 0], [1.0, 0.0], [0.0, 1.0], [0.2, 0.9]], weights=[0, 5, 2, 1])
    features = aligned_features(aligned, question_form, focus_form)
    assert features[:, 0].tolist() == [0.0, 1.0]  # only 吃: the subject and the question word left out
    assert features[:, 1].tolist() == np.array([0.2, 0.9], dtype=np.float32).tolist()  # 什么 alone


def test_a_focus_token_every_sentence_matches_weighs_less():
    question_form = normalize("它吃竹子吗")
    aligned = matches(["▁它", "吃", "竹子", "吗"], [[0, 0], [0.9, 0.9], [0.0, 1.0], [0, 0]], weights=[0, 1, 1, 1])
    focus_score = aligned_features(aligned, question_form, question_form)[:, 0]
    # With equal weights the first sentence would score 0.45 against 0.95; 吃 matching both weighs less.
    assert focus_score[0] < 0.25 and focus_score[1] > 0.95


def test_a_question_token_the_passage_has_no_match_for_counts_for_nothing():
    question_form = normalize("它被比作竹子")
    # 比 matches nothing well anywhere (0.45 at best): its differences are noise.
    aligned = matches(["▁它", "比", "竹子"], [[0, 0], [0.45, 0.3], [0.0, 0.9]], weights=[0, 1, 1])
    focus_score = aligned_features(aligned, question_form, question_form)[:, 0]
    assert focus_score[0] == 0.0 and focus_score[1] > 0.2
