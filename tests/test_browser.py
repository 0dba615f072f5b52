"""The chat app in a real browser: the server runs in-process, headless Debian Chromium drives it."""

from __future__ import annotations

import os
import re
import shutil
import socket
from pathlib import Path

import pytest

from tests.ui_helpers import XSS_QUESTION, shared_index

pytestmark = pytest.mark.browser
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path("/tmp/topicchat-shots")
ANSWER_TIMEOUT_MS = 60_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.skip(f"Chromium is not installed ({CHROMIUM} is missing); the browser tests need it")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("python playwright is not installed (pip install playwright; never `playwright install`)")
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    from topicchat import api
    from topicchat.app.settings import ServeSettings

    demo = api.serve(shared_index(tmp_path_factory), ServeSettings(port=_free_port()), block=False)
    try:
        yield demo.local_url
    finally:
        demo.close()


@pytest.fixture
def page(browser, app_url):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    pg = context.new_page()
    pg.dialogs = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.goto(app_url)
    pg.wait_for_selector("#chat-input textarea")
    yield pg
    context.close()


def ask(page, question: str) -> None:
    """Type a question, send it, and wait until the answer has finished streaming."""
    routing = "#chatbot .thought-group"
    before = page.locator(f"{routing} .title", has_text="Routing").count()
    page.locator("#chat-input textarea").fill(question)
    page.locator("#send-btn").click()
    # A new Routing block appears at once and stays open while the answer streams ("pending"); when the
    # answer is complete the chatbot's status tracker hides and the block collapses ("done").
    page.wait_for_function(
        """([sel, n]) => {
            const groups = [...document.querySelectorAll(sel)].filter(
                g => g.querySelector('.title').innerText.trim() === 'Routing');
            const tracker = document.querySelector('#chatbot [data-testid="status-tracker"]');
            return groups.length > n && (!tracker || tracker.classList.contains('hide'))
                && groups[groups.length - 1].innerText.trim() === 'Routing';
        }""",
        arg=[routing, before],
        timeout=ANSWER_TIMEOUT_MS,
    )


def expand(page, title: str) -> str:
    """Open the last collapsible block whose title starts with `title` and return its text."""
    header = page.locator("#chatbot .thought-group .title", has_text=title).last
    header.click()
    group = page.locator("#chatbot .thought-group", has=page.locator(".title", has_text=title)).last
    handle = group.element_handle()
    page.wait_for_function("el => el.innerText.split('\\n').length > 1", arg=handle)
    # the block slides open: wait until its height stops changing (for the screenshots)
    page.wait_for_function(
        "el => { const h = el.getBoundingClientRect().height; const same = el.__h === h; el.__h = h; return same; }",
        arg=handle,
        polling=150,
    )
    return group.inner_text()


def save_shot(page, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    page.screenshot(path=str(path), full_page=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SHOTS / name)
    return path


def test_chat_answer_sources_and_map(page, tmp_path, tmp_path_factory):
    from topicchat.indexer.store import load_index

    index = load_index(shared_index(tmp_path_factory))
    titles = set(index.documents["title"])
    ask(page, "which papers discuss speech recognition?")
    routing = expand(page, "Routing")
    assert "Chosen topics" in routing and "score" in routing and "documents" in routing and "Coverage:" in routing
    bots = page.locator('#chatbot [data-testid="bot"]').all_inner_texts()
    assert any("Most relevant documents" in b for b in bots)
    sources = expand(page, "Sources")
    assert "[1]" in sources
    assert any(title in sources for title in titles)
    save_shot(page, tmp_path, "chat.png")

    page.get_by_role("tab", name="Map").click()
    page.wait_for_selector("#doc-map .js-plotly-plot", timeout=ANSWER_TIMEOUT_MS)
    page.wait_for_selector("#doc-map .scatterlayer .point")
    assert page.locator("#doc-map .scatterlayer .point").count() >= len(index.documents)
    assert page.locator("#doc-map .legendtext", has_text="cited in the last answer").count() == 1
    page.wait_for_selector("#topic-heatmap .js-plotly-plot")
    save_shot(page, tmp_path, "map.png")

    page.get_by_role("tab", name="Chat").click()
    ask(page, "show the map")
    page.wait_for_function(
        "() => [...document.querySelectorAll('[role=tab]')].some(t => t.innerText.trim() === 'Map'"
        " && t.getAttribute('aria-selected') === 'true')"
    )
    assert page.dialogs == []


def test_document_html_is_shown_as_text_not_run(page, tmp_path):
    ask(page, XSS_QUESTION)
    sources = expand(page, "Sources")
    assert "Zebrafinch birdsong" in sources
    page.locator("#chatbot details summary", has_text="Full abstract [1]").last.click()
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.evaluate("typeof window.__xss2") == "undefined"
    assert page.dialogs == []
    assert page.locator("#chatbot script").count() == 0
    assert page.locator('#chatbot img[src="x"]').count() == 0
    assert page.locator("#chatbot [onerror]").count() == 0
    # markdown links, bare URLs and addresses in a document stay text
    assert page.locator('#chatbot a[href*="evil.invalid"]').count() == 0
    body = page.evaluate("document.body.innerText")
    assert "[zebrafinch portal](https://evil.invalid/login)" in body, body[body.find("portal") - 200 :][:400]
    text = page.evaluate("document.body.innerText")
    assert "<script>window.__xss=1</script>" in text
    assert '<img src=x onerror="window.__xss2=1">' in text
    save_shot(page, tmp_path, "chat-xss.png")


def test_topic_browser_sets_chat_focus(page, tmp_path_factory):
    from topicchat.indexer.store import load_index

    index = load_index(shared_index(tmp_path_factory))
    target = int(index.documents["topic"].iat[index.row_of("retrieval-0")])
    page.get_by_role("tab", name="Topics").click()
    page.wait_for_selector('#topics-df [data-testid="cell-0-1"]')
    label = index.nodes[target].label  # labels are unique across the tree
    page.locator("#topics-df input[placeholder='Search...']").fill(label)
    page.wait_for_function(
        "n => document.querySelectorAll('#topics-df [data-col=\"1\"][role=gridcell]').length < n",
        arg=len(index.nodes),
    )
    page.locator('#topics-df [role=gridcell][data-col="1"]').filter(
        has_text=re.compile(rf"{re.escape(label)}\s*$")
    ).first.click()
    page.wait_for_function(
        "t => document.querySelector('#topic-detail').innerText.includes(t)", arg=f"Topic {target}: "
    )
    assert "Representative abstracts" in page.locator("#topic-detail").inner_text()
    page.locator("#use-topic-btn").click()
    page.wait_for_function(
        "t => document.querySelector('#chatbot').innerText.includes(t)", arg=f"search only topic {target}"
    )
    selected = page.evaluate(
        "[...document.querySelectorAll('[role=tab][aria-selected=true]')].map(t => t.innerText.trim())"
    )
    assert selected == ["Chat"]
    ask(page, "which papers discuss ranking?")
    assert f"Restricted to topic(s) {target} (the topic focus)" in expand(page, "Routing")


@pytest.fixture(scope="module")
def dated_url(tmp_path_factory):
    from tests.ui_helpers import shared_dated_index
    from topicchat import api
    from topicchat.app.settings import ServeSettings

    demo = api.serve(shared_dated_index(tmp_path_factory), ServeSettings(port=_free_port()), block=False)
    try:
        yield demo.local_url
    finally:
        demo.close()


def test_topic_tree_expands_and_a_trend_answer_draws_its_plot(browser, dated_url, tmp_path, tmp_path_factory):
    from tests.ui_helpers import shared_dated_index
    from topicchat.indexer.store import load_index

    index = load_index(shared_dated_index(tmp_path_factory))
    area = index.top_level()[0]
    child = index.nodes[area.children[0]]
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    try:
        page.goto(dated_url)
        page.wait_for_selector("#chat-input textarea")
        page.get_by_role("tab", name="Topics").click()
        node = page.locator(f'#topic-tree details[data-topic="{area.id}"]')
        leaf = node.locator(f'[data-topic="{child.id}"]')
        node.wait_for()
        assert not leaf.is_visible()  # collapsed until the user opens it
        node.locator("summary").first.click()
        leaf.wait_for(state="visible")
        assert f"Topic {child.id}: {child.label}" in leaf.inner_text()
        save_shot(page, tmp_path, "topic-tree.png")

        page.get_by_role("tab", name="Chat").click()
        ask(page, "which topics grew in the last three months?")
        plot = page.locator("#chatbot .js-plotly-plot").last
        plot.wait_for(timeout=ANSWER_TIMEOUT_MS)
        page.wait_for_function(
            "() => document.querySelectorAll('#chatbot .js-plotly-plot .scatterlayer .trace').length > 0"
        )
        grower = int(index.documents.loc[index.documents.doc_id == "glacier-0", "topic"].iat[0])
        assert plot.locator(".legendtext", has_text=f"{grower}: ").count() == 1
        assert "2024-12" in plot.inner_text()  # the month axis
        save_shot(page, tmp_path, "chat-trend.png")
        assert page.dialogs == []
    finally:
        context.close()


def test_a_comparison_draws_both_sides_and_a_dated_search_shows_dates(browser, dated_url, tmp_path, tmp_path_factory):
    from tests.ui_helpers import shared_dated_index
    from topicchat.app.answer import Assistant

    expected = Assistant.open(shared_dated_index(tmp_path_factory)).ask("compare glacier with violin").chart
    assert expected is not None and len(expected.series) == 2
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    try:
        page.goto(dated_url)
        page.wait_for_selector("#chat-input textarea")
        ask(page, "compare glacier with violin")
        plot = page.locator("#chatbot .js-plotly-plot").last
        plot.wait_for(timeout=ANSWER_TIMEOUT_MS)
        page.wait_for_function(
            "() => document.querySelectorAll('#chatbot .js-plotly-plot .scatterlayer .trace').length >= 2"
        )
        for name in expected.series:  # "<topic id>: <label>", one line per side
            assert plot.locator(".legendtext", has_text=name.split(":")[0] + ": ").count() == 1
        assert "side by side" in page.locator("#chatbot").inner_text()
        save_shot(page, tmp_path, "chat-compare.png")

        ask(page, "papers about glacier from 2024-10")
        sources = expand(page, "Sources")
        dates = re.findall(r"dated (\d{4}-\d\d-\d\d)", sources)
        assert dates and all(d.startswith("2024-10") for d in dates)
    finally:
        context.close()
