"""The page of `qa serve` in a real browser: Debian's chromium driven by Playwright.

CI installs chromium (.ci/run); elsewhere `-m "not browser"` leaves these out. Without
chromium they skip, except under CI=true, where they fail: the page must be tested there.
"""

import os
import re
import shutil
from pathlib import Path

import pytest

from conftest import running_server
from qa import build_index
from qa.live import LiveIndex
from qa.interfaces.server.app import create_app

pytestmark = pytest.mark.browser

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium_path() -> str | None:
    for candidate in (os.environ.get("QA_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="module")
def browser():
    executable = chromium_path()
    if executable is None:
        message = "chromium is not installed (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def server_url(corpus_dir, tmp_path, fake_embedder, monkeypatch):
    from qa.answer import confidence

    # The confidence is fitted to the default model's cosines, not the fake embedder's: the page
    # is shown answering, whatever the fake's confidence (one test sets the other case itself).
    monkeypatch.setitem(confidence.THRESHOLD, "hybrid", 0.0)
    index_dir = tmp_path / "index"
    build_index(corpus_dir, index_dir, embedder=fake_embedder)
    with running_server(create_app(LiveIndex(index_dir, embedder=fake_embedder))) as url:
        yield url


def new_page(browser, url, dark=False, width=1100):
    page = browser.new_page(viewport={"width": width, "height": 900}, color_scheme="dark" if dark else "light")
    page.goto(url)
    return page


def test_ask_see_the_answer_click_the_citation_see_the_passage(browser, server_url, tmp_path):
    page = new_page(browser, server_url)
    page.evaluate("document.activeElement.blur()")
    assert page.evaluate("document.activeElement.id") != "question"
    page.keyboard.press("/")  # focuses the search box, and is not typed into it
    assert page.evaluate("document.activeElement.id") == "question"
    page.keyboard.type("龙井茶产于哪里")
    page.keyboard.press("Enter")
    first = page.locator(".hit").first
    first.wait_for()
    assert first.locator(".citation").inner_text().startswith("tea.txt · ¶")
    answer = first.locator("mark.answer")
    assert "龙井茶" in answer.inner_text()
    assert answer.evaluate("m => getComputedStyle(m).backgroundColor") != "rgba(0, 0, 0, 0)"  # visibly highlighted
    page.screenshot(path=tmp_path / "hits.png", full_page=True)

    passage_id = first.locator(".citation").get_attribute("href").split("p=")[1].split("&")[0]
    first.locator(".citation").click()
    current = page.locator(".passage.current")
    current.wait_for()
    assert current.get_attribute("id") == f"passage-{passage_id}"
    assert "龙井茶" in current.locator("mark.answer").inner_text()
    assert page.locator("#document-text").inner_text().startswith("龙井茶 产于")  # the whole document, not just the passage
    in_view = current.evaluate("e => { const r = e.getBoundingClientRect(); return r.top < innerHeight && r.bottom > 0 }")
    assert in_view
    page.screenshot(path=tmp_path / "document.png", full_page=True)

    page.go_back()  # back to the hits, asked again from the URL
    page.locator(".hit").first.wait_for()
    assert page.locator("#question").input_value() == "龙井茶产于哪里"


def test_pickers_set_top_k_and_mode(browser, server_url):
    page = new_page(browser, server_url)
    page.fill("#question", "大熊猫")
    page.select_option("#top-k", "3")
    page.select_option("#mode", "lexical")
    page.click("#ask-button")
    page.locator(".hit").first.wait_for()
    assert 1 <= page.locator(".hit").count() <= 3
    assert "mode=lexical" in page.url


def test_a_collection_is_picked_asked_and_opened(browser, two_collections, fake_embedder, monkeypatch):
    from qa.answer import confidence

    monkeypatch.setitem(confidence.THRESHOLD, "hybrid", 0.0)
    with running_server(create_app(LiveIndex(two_collections, embedder=fake_embedder))) as url:
        page = new_page(browser, url)
        page.locator("#collection-picker").wait_for()
        page.fill("#question", "黄鹤楼在哪里")
        page.select_option("#collection", "cranes")
        page.click("#ask-button")
        first = page.locator(".hit").first
        first.wait_for()
        assert "c=cranes" in page.url and first.locator(".citation").inner_text().startswith("crane.txt")
        page.wait_for_function("document.getElementById('info').textContent.startsWith('1 files')")
        first.locator(".citation").click()
        page.locator(".passage.current").wait_for()
        assert page.locator("#document-text").inner_text().startswith("黄鹤楼")


def test_empty_and_error_states_are_said_plainly(browser, server_url):
    page = new_page(browser, server_url)
    page.fill("#question", "？？？")
    page.keyboard.press("Enter")
    page.locator("#status.error").wait_for()
    assert "no words to search for" in page.locator("#status").inner_text()
    assert page.locator(".hit").count() == 0
    page.fill("#question", "zzzzqqqq")
    page.select_option("#mode", "lexical")
    page.keyboard.press("Enter")
    page.locator("#status.empty").wait_for()
    assert "No passage matches" in page.locator("#status").inner_text()


def test_when_no_passage_seems_to_answer_the_page_says_so_and_dims_the_nearest(browser, server_url, monkeypatch, tmp_path):
    from qa import search

    monkeypatch.setattr(search, "is_answered", lambda hits, mode="hybrid": False)  # as below the confidence threshold
    page = new_page(browser, server_url)
    page.fill("#question", "野生大熊猫的数量有多少只")
    page.keyboard.press("Enter")
    page.locator("#status.unanswered").wait_for()
    assert "No passage seems to answer" in page.locator("#status").inner_text()
    assert page.locator(".hit.unanswered").count() > 0
    assert page.locator("mark.answer").count() == 0, "nothing is highlighted as the answer"
    page.screenshot(path=tmp_path / "unanswered.png")


def test_no_index_is_shown_as_an_error_with_the_remedy(browser, tmp_path, fake_embedder):
    with running_server(create_app(LiveIndex(tmp_path / "nothing", embedder=fake_embedder))) as url:
        page = new_page(browser, url)
        page.locator("#status.error").wait_for()
        text = page.locator("#status").inner_text()
        assert "no index in" in text and "qa index" in text
        page.screenshot(path=tmp_path / "no-index.png")


def test_a_pdf_hit_cites_its_page_and_opens_in_the_document_view(browser, tmp_path, fake_embedder):
    corpus_dir = tmp_path / "pdfs"
    corpus_dir.mkdir()
    shutil.copy(Path(__file__).parent / "data" / "documents" / "report.pdf", corpus_dir)
    build_index(corpus_dir, tmp_path / "pdf-index", embedder=fake_embedder)
    with running_server(create_app(LiveIndex(tmp_path / "pdf-index", embedder=fake_embedder))) as url:
        page = new_page(browser, url)
        page.fill("#question", "截至2023年6月网民规模有多大")
        page.keyboard.press("Enter")
        citation = page.locator(".hit .citation").first
        citation.wait_for()
        assert re.fullmatch(r"report\.pdf · p\. \d · ¶\d+ · L\d+(–\d+)?", citation.inner_text())
        citation.click()
        page.locator(".passage.current").wait_for()
        assert "10.79亿" in page.locator(".passage.current").inner_text()
        assert page.locator("#document-path").inner_text().startswith("report.pdf · p. ")


def test_a_page_number_is_shown_when_a_hit_has_one(browser, server_url):
    page = new_page(browser, server_url)
    hit = {"rank": 1, "score": 0.5, "passage_id": "abc", "doc_path": "report.pdf", "page": 7, "title": "", "section": "", "paragraph": 3, "line_start": 10, "line_end": 12, "char_start": 0, "char_end": 4, "text": "一二三四", "answer": None, "also_in": []}
    assert page.evaluate("hit => citationText(hit)", hit) == "report.pdf · p. 7 · ¶3 · L10–12"
    assert page.evaluate("hit => citationText(hit)", dict(hit, page=None)) == "report.pdf · ¶3 · L10–12"


def test_also_in_copies_are_links_to_their_documents(browser, server_url):
    page = new_page(browser, server_url)
    page.fill("#question", "地铁日均客运量约为多少人次")  # transport.md and transport_trad.txt say the same
    page.keyboard.press("Enter")
    page.locator(".hit").first.wait_for()
    links = page.locator(".also-in a")
    assert links.count() == 1
    assert links.first.inner_text().startswith("transport_trad.txt · ¶")
    links.first.click()
    page.locator(".passage.current").wait_for()
    assert page.locator("#document-path").inner_text().startswith("transport_trad.txt · ¶")
    assert "地鐵" in page.locator(".passage.current").inner_text()


def test_the_api_docs_render_offline(browser, server_url):
    page = new_page(browser, server_url + "/docs")
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    page.reload()
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() >= 5  # ask, passages, documents, info, healthz
    assert "/api/ask" in page.locator(".opblock-summary-path").all_inner_texts()
    assert all(url.startswith(server_url) for url in requested), [u for u in requested if not u.startswith(server_url)]


def test_phone_width_and_dark_mode(browser, server_url, tmp_path):
    page = new_page(browser, server_url, dark=True, width=375)
    page.fill("#question", "龙井茶产于哪里")
    page.keyboard.press("Enter")
    page.locator(".hit").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing sticks out sideways
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(21, 21, 23)"
    page.screenshot(path=tmp_path / "phone-dark.png", full_page=True)


def test_with_a_token_the_page_asks_for_it_then_lists_the_collections(browser, two_collections, fake_embedder):
    with running_server(create_app(LiveIndex(two_collections, embedder=fake_embedder), token="s3cret")) as url:
        page = new_page(browser, url)
        page.locator("#token-form").wait_for()
        assert page.locator("#collection-picker").is_hidden()  # its listing was refused without the token
        page.fill("#token", "s3cret")
        page.click("#token-form button")
        page.locator("#collection-picker").wait_for()
        assert page.locator("#collection option").all_inner_texts() == ["cranes", "default"]
