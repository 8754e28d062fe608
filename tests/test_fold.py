from qa.fold import fold as fold_normalized
from qa.fold import is_near_duplicate, matching_form, shingles
from qa.models import Passage
from qa.normalize import normalize


def fold(passages, limit):
    return fold_normalized(passages, [normalize(p.text) for p in passages], limit)


def passage(doc, text, pid=None):
    return Passage(id=pid or f"{doc}:{text[:4]}", doc_path=doc, title="", section="", paragraph=1, line_start=1, line_end=1, char_start=0, char_end=len(text), text=text)


SPEECH = "网络安全和信息化是事关国家安全和国家发展、事关广大人民群众工作生活的重大战略问题，要从国际国内大势出发，总体布局，统筹各方，创新发展。"
SEGMENTED_DROPPED = "网络安全/和/信息化/是/事关/国家安全/和/国家/发展/、/事关/广大人民/群众工作/生活/的/重大/战略/问题/，/要从/国际国内/大势/出发/，/总体布局/，/统筹/各方/，/新发展/。"
TRADITIONAL = "網(wǎng)絡(luò)安全和信息化是事關(guān)國家安全和國家發(fā)展、事關(guān)廣大人民群眾工作生活的重大戰(zhàn)略問題,要從國際國內(nèi)大勢出發(fā),總體布局,統(tǒng)籌各方,創(chuàng)新發(fā)展。"
OTHER = "大熊猫是中国特有的珍稀动物，主要栖息在四川、陕西和甘肃的山区，每天要吃很多竹子。"


def test_messy_copies_are_near_duplicates_and_other_text_is_not():
    grams = [shingles(matching_form(normalize(t))) for t in (SPEECH, SEGMENTED_DROPPED, TRADITIONAL, OTHER)]
    assert is_near_duplicate(grams[0], grams[1])
    assert is_near_duplicate(grams[0], grams[2])
    assert not is_near_duplicate(grams[0], grams[3])


def test_fold_keeps_order_and_picks_the_complete_clean_copy():
    passages = [passage("a.txt", SEGMENTED_DROPPED), passage("b.txt", OTHER), passage("c.txt", TRADITIONAL), passage("d.txt", SPEECH)]
    groups = fold(passages, limit=5)
    assert [g.members for g in groups] == [[0, 2, 3], [1]]
    assert groups[0].representative == 3  # clean and complete
    groups = fold(passages[:3], limit=5)
    assert groups[0].representative == 2  # complete, though traditional with pinyin, beats the one missing 创


def test_passages_of_one_file_are_never_folded():
    groups = fold([passage("a.txt", SPEECH, "1"), passage("a.txt", SPEECH, "2")], limit=5)
    assert len(groups) == 2


def test_a_fragment_never_stands_for_a_longer_passage():
    long_text = SPEECH + OTHER
    groups = fold([passage("a.txt", SPEECH[:40]), passage("b.txt", long_text)], limit=5)
    assert groups[0].members == [0, 1]
    assert groups[0].representative == 1


def test_limit_counts_groups_not_passages():
    passages = [passage("a.txt", SPEECH), passage("b.txt", TRADITIONAL), passage("c.txt", OTHER)]
    assert len(fold(passages, limit=1)) == 1
    assert fold(passages, limit=1)[0].members == [0, 1]
