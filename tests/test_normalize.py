from qa.ingest.normalize import join_segmented, normalize, strip_pinyin, to_simplified


def test_strip_pinyin_glued_after_characters():
    assert strip_pinyin("中央網(wǎng)絡(luò)安全和信息化領(lǐng)導(dǎo)小組") == "中央網絡安全和信息化領導小組"


def test_strip_pinyin_full_width_brackets():
    assert strip_pinyin("發（fā）展") == "發展"


def test_strip_pinyin_keeps_real_brackets():
    assert strip_pinyin("联合国教科文组织（UNESCO）") == "联合国教科文组织（UNESCO）"
    assert strip_pinyin("函数 f(x) 的值") == "函数 f(x) 的值"


def test_join_slash_segmented_text():
    assert join_segmented("网络/强国/中共中央/总书记/、/国家主席") == "网络强国中共中央总书记、国家主席"


def test_join_slash_keeps_dates_and_latin_pairs_when_not_segmented():
    assert join_segmented("发布于2023/06，支持TCP/IP协议。") == "发布于2023/06，支持TCP/IP协议。"


def test_join_space_segmented_text_keeps_latin_words_apart():
    assert join_segmented("全国 网络安全 和 信息化 工作 会议 20 日 召开") == "全国网络安全和信息化工作会议20日召开"
    assert join_segmented("Hello world 你好 世界") == "Hello world你好世界"


def test_traditional_to_simplified():
    assert to_simplified("網絡強國") == "网络强国"


def test_normalize_makes_messy_copies_of_one_sentence_equal():
    clean = normalize("中央网络安全和信息化领导小组第一次会议")
    assert normalize("中央/网络安全/和/信息化/领导小组/第一次/会议") == clean
    assert normalize("中央網(wǎng)絡(luò)安全和信息化領(lǐng)導(dǎo)小組第一次會議") == clean
    assert normalize("中央 网络安全 和 信息化 领导小组 第一次 会议") == clean


def test_normalize_full_width_and_case():
    assert normalize("ＡＢＣ　２０２３年") == "abc2023年"
