"""Web pages: the article without the site around it, the real encoding, tables that keep their columns."""

from pathlib import Path

import pytest

from conftest import cited_passages
from qa.ingest.formats.html import extract
from qa.ingest.reader import read_file

LAYOUTS = Path(__file__).parent / "data" / "layouts"
PAGES = ["portal_gbk.html", "charset_mismatch.html", "table_cells.html", "layout_table.html", "short_article.html"]


def read(name: str):
    return read_file(LAYOUTS / name, name)


def lines(document) -> list[str]:
    return document.text.splitlines()


def headings(document) -> dict[str, int]:
    """Heading line → its level."""
    return {document.text[start:].split("\n", 1)[0]: level for start, level in zip(document.heading_starts, document.heading_levels)}


@pytest.mark.parametrize("name", PAGES)
def test_every_passage_is_the_text_its_offsets_point_at(name):
    document = read(name)
    cited_passages(document)


def test_portal_page_keeps_the_article_and_leaves_the_site_out():
    document = read("portal_gbk.html")
    assert document.encoding == "gb18030"
    assert document.title == "多地夏季防暑补贴标准多年未调_示例财经"
    for kept in (
        "一些地区的补贴标准已经多年没有调整。",  # a keyword link inside a sentence stays in it
        "户外作业人员每人每月不低于200元",
        "上年度职工日平均工资的10%计发",
        "用人单位不得以发放清凉饮料代替防暑补贴。",
    ):
        assert kept in document.text
    for left_out in (
        "体育",  # navigation
        "注册免费邮箱",
        "分享到",  # share bars
        "QQ空间",
        "27省份明确防暑补贴标准",  # related news with look-alike headlines
        "每人每月增至300元",
        "网友评论",  # comments
        "十几年不涨",
        "热点排行",  # sidebar
        "明代古墓",
        "版权所有",  # footer
        "广告脚本",
    ):
        assert left_out not in document.text
    assert headings(document) == {"多地夏季防暑补贴标准多年未调": 1, "发放时间各不相同": 2, "标准多年未涨": 2}
    assert lines(document)[0] == "多地夏季防暑补贴标准多年未调"
    assert any(note.startswith("main content: ") and " of 33 blocks kept" in note for note in document.layout)


def test_valid_utf8_wins_over_a_wrong_meta_charset():
    document = read("charset_mismatch.html")
    assert document.encoding == "utf-8"
    assert "应在宿管处登记姓名和房间号。" in document.text
    assert "declared gb2312, read as UTF-8" in document.layout


def test_an_ascii_page_needs_no_charset_note():
    page = b'<html><head><meta charset="gb2312"></head><body><p>Plain ASCII text, the same in any charset.</p></body></html>'
    document = extract(page)
    assert document.text == "Plain ASCII text, the same in any charset.\n"
    assert not any("declared" in note for note in document.layout)


def test_a_gbk_page_is_not_mistaken_for_utf8():
    page = '<html><head><meta charset="gbk"></head><body><p>高温津贴每人每月不低于180元。</p></body></html>'.encode("gbk")
    document = extract(page)
    assert document.encoding == "gb18030" and "不低于180元" in document.text


def test_table_rows_keep_their_columns_and_carry_their_labels():
    document = read("table_cells.html")
    text = lines(document)
    assert "门店 | 商品 | 库存 | 备注" in text
    assert "门店: 东区店 | 商品: 绿茶 | 库存: | 备注: 周五盘点" in text, "an empty cell keeps its column"
    assert "门店: 西区店 | 商品: 红茶 | 库存: 35 | 备注:" in text
    assert "门店: 北区店 | 商品/库存: 暂停营业 | 备注: 装修" in text, "a colspan covers both columns"
    # <th> only down the first column labels rows; there is no header row to repeat.
    assert "地址 | 人民路88号" in text and "电话 | 0571-1234567" in text
    assert "2 tables" in document.layout


def test_rowspan_repeats_the_cell_in_the_rows_below():
    page = (
        "<table><tr><th>组</th><th>项目</th><th>值</th></tr>"
        '<tr><td rowspan="2">甲组</td><td>长</td><td>3</td></tr><tr><td>宽</td><td>4</td></tr></table>'
    ).encode()
    assert lines(extract(page))[1:] == ["组: 甲组 | 项目: 长 | 值: 3", "组: 甲组 | 项目: 宽 | 值: 4"]


def test_a_table_caption_is_the_line_above_its_rows():
    page = "<table><caption>表 1 各站点年降水量</caption><tr><th>站点</th><th>降水量(mm)</th></tr><tr><td>北京</td><td>512</td></tr></table>".encode()
    assert lines(extract(page)) == ["表 1 各站点年降水量", "站点 | 降水量(mm)", "站点: 北京 | 降水量(mm): 512"]


def test_a_layout_table_is_read_as_blocks_not_as_one_giant_row():
    document = read("layout_table.html")
    text = lines(document)
    assert "古镇始建于北宋年间，因河运而兴，明清两代是江南重要的丝绸集散地。" in text
    assert "镇内保存有明清古建筑一百二十余处，石拱桥十七座，二〇〇三年被评为历史文化名镇。" in text
    assert "景点: 古戏台 | 开放时间: 8:00-17:00" in text, "a data table inside the layout stays a table"
    assert headings(document) == {"古镇简介": 2}
    for left_out in ("联系我们", "交通指南", "版权所有"):
        assert left_out not in document.text
    assert "1 table" in document.layout


def test_a_page_of_links_and_lists_is_kept_whole():
    items = "".join(f'<li><a href="/m{i}">module{i}</a> — reads format number {i}</li>' for i in range(20))
    page = f"<html><body><h1>Reference</h1><p>All modules.</p><ul>{items}</ul></body></html>".encode()
    document = extract(page)
    assert "module0 — reads format number 0" in document.text and "module19 — reads format number 19" in document.text


def test_code_stays_line_by_line():
    page = b"<html><body><h1>Setup</h1><p>Install the package with pip, then run it once.</p><pre>pip install qa\nqa index docs/</pre></body></html>"
    assert lines(extract(page))[-2:] == ["pip install qa", "qa index docs/"]


def test_a_short_article_wins_over_a_comment_box_whose_class_says_post():
    # The box's class ("post-box") is one of the words articles are marked with, but it holds
    # one line of prose: the article holds two paragraphs and a table of app links.
    document = read("short_article.html")
    assert "记者从市水务局获悉，今天下午水务局召开防汛工作会议，具体部署尚未公布。" in lines(document)
    assert "不过，近日降雨频繁，会议或与水库调度有关。" in lines(document)
    assert not any("文明上网" in line for line in lines(document))
