from qa.retrieve.fold import fold as fold_normalized
from qa.retrieve.fold import is_near_duplicate, matching_form, shingles
from qa.models import Passage
from qa.ingest.normalize import normalize


def fold(passages, limit, surroundings=None):
    return fold_normalized(passages, [normalize(p.text) for p in passages], limit, surroundings and [normalize(t) for t in surroundings])


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


# The 2016 symposium's opening (003 ¶1 of the seed corpus) repeats the attendance line of
# the 2014 meeting (001 ¶2): a quotation, not a copy.
ATTENDANCE_2014 = "中共中央政治局常委、中央網(wǎng)絡(luò)安全和信息化領(lǐng)導(dǎo)小組副組長李克強(qiáng)、劉云山出席會議。"
SYMPOSIUM_2016 = (
    "中共中央总书记、国家主席、中央军委主席、中央网络安全和信息化领导小组组长习近平19日上午在京主持召开网络安全和信息化工作座谈会"
    "并发表重要讲话，强调按照创新、协调、绿色、开放、共享的发展理念推动我国经济社会发展，是当前和今后一个时期我国发展的总要求和大趋势。"
    "中共中央政治局常委、中央网络安全和信息化领导小组副组长李克强、刘云山出席座谈会。习近平主持座谈会，他首先表示，我国互联网事业快速发展。"
)


def test_a_short_passage_quoted_in_a_long_one_is_not_folded_either_way():
    short, long = passage("001.txt", ATTENDANCE_2014), passage("003.txt", SYMPOSIUM_2016)
    assert [g.members for g in fold([long, short], limit=5)] == [[0], [1]]
    assert [g.members for g in fold([short, long], limit=5)] == [[0], [1]]


def test_a_copy_chunked_elsewhere_folds_when_its_neighbours_hold_the_rest():
    # b.txt's passage is SPEECH's first 30 characters; its file goes on with the rest of SPEECH.
    fragment, whole = passage("b.txt", SPEECH[:30]), passage("a.txt", SPEECH)
    for passages, surroundings in (([whole, fragment], [SPEECH, SPEECH]), ([fragment, whole], [SPEECH, SPEECH])):
        groups = fold(passages, limit=5, surroundings=surroundings)
        assert [g.members for g in groups] == [[0, 1]]
        assert passages[groups[0].representative] is whole  # a fragment never stands for a longer passage
    # The same fragment whose file goes on with something else is a quotation.
    groups = fold([whole, fragment], limit=5, surroundings=[SPEECH, SPEECH[:30] + OTHER])
    assert [g.members for g in groups] == [[0], [1]]


def test_limit_counts_groups_not_passages():
    passages = [passage("a.txt", SPEECH), passage("b.txt", TRADITIONAL), passage("c.txt", OTHER)]
    assert len(fold(passages, limit=1)) == 1
    assert fold(passages, limit=1)[0].members == [0, 1]
