"""The review page in a real browser: headless Chromium (Debian's chromium and chromium-driver) through Selenium."""

import json
import shutil

import pytest

pytest.importorskip("fastapi", reason="the review extra (pip install 'newstag[review]') is absent")
pytest.importorskip("uvicorn", reason="the review extra (pip install 'newstag[review]') is absent")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium (the browser extra) is absent")

from conftest import SCRIPT_TITLE  # noqa: E402

from inference.serve import ServerThread  # noqa: E402
from training.reviewer.app import create_review_app  # noqa: E402
from training.reviewer.session import ReviewSession  # noqa: E402

pytestmark = pytest.mark.browser
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture()
def browser():
    if not CHROMIUM or not DRIVER:
        pytest.skip("no headless Chromium: install Debian's chromium and chromium-driver (.ci/run does, as root)")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run",
                 "--disable-extensions", "--window-size=1280,900"):
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=opts)  # no driver download
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture()
def page(review_dataset, tagger, tmp_path):
    session = ReviewSession.open(review_dataset, tmp_path / "gold.jsonl", tagger, model_id="m1", annotator="ana")
    with ServerThread(create_review_app(session)) as url:
        yield url, session


def wait_for(driver, condition, timeout=20):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: condition(d))


def shown_id(driver) -> str:
    return driver.find_element("id", "meta").text.split(" · ")[-1]


def test_three_articles_labeled_with_the_keyboard_survive_a_reload(browser, page):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    url, session = page
    browser.get(url + "/")
    wait_for(browser, lambda d: d.find_elements("css selector", "#topics li"))
    topics = [t.name for t in session.schema.topics]
    stances = [s.name for s in session.schema.stances]
    want = {}
    for k in range(3):
        article = shown_id(browser)
        suggested = {li.get_attribute("data-name") for li in browser.find_elements("css selector", "#topics li.on")}
        # toggle topic k+1 (on if the page suggested it off, off if on), pick stance k (q, w, e), accept
        keys = [str(k + 1), "qwe"[k], Keys.ENTER]
        ActionChains(browser).send_keys(*keys).perform()
        want[article] = (sorted(suggested ^ {topics[k]}, key=topics.index), stances[k])
        wait_for(browser, lambda d, a=article: d.find_elements("css selector", "#topics li") and shown_id(d) != a)
    assert browser.find_element("id", "counter").text.startswith("3 reviewed")
    browser.refresh()
    wait_for(browser, lambda d: d.find_element("id", "counter").text.startswith("3 reviewed"))
    assert shown_id(browser) not in want  # resumed on a new article
    lines = [json.loads(x) for x in session.gold.path.read_text(encoding="utf-8").splitlines()]
    assert {x["id"]: (x["topics"], x["stance"]) for x in lines} == want and len(lines) == 3


def test_an_article_holding_a_script_is_shown_as_text(browser, page):
    url, _ = page
    browser.get(url + "/?id=r09")
    wait_for(browser, lambda d: d.find_element("id", "title").text == SCRIPT_TITLE)
    text = browser.find_element("id", "text").text
    assert "<script>window.__pwned = 3</script>" in text and 'onerror="window.__pwned = 2"' in text
    assert browser.execute_script("return window.__pwned === undefined")
    assert not browser.find_elements("css selector", "#article script, #article img")
