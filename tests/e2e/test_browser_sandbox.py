"""The browser sandbox as a person uses it: `shopbot demo --serve` in a subprocess, driven
by headless Chromium (Debian's /usr/bin/chromium through Playwright; no browser is ever
downloaded). Screenshots go to test-results/browser/."""

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, FilePayload, Page, async_playwright, expect

from shopbot.bot.stats_chart import HEIGHT_PX, WIDTH_PX
from shopbot.bot.texts import Texts
from shopbot.demo.browser.identities import IDENTITIES
from shopbot.demo.stack import read_catalog
from shopbot.demo.transcript import plain
from tests.e2e.demo_process import Sandbox, running_sandbox

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps dialling Google on a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "browser"
WAIT_MS = 20_000
EN, RU = Texts("en"), Texts("ru")
BORIS = next(i.name for i in IDENTITIES if i.language == "ru")


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path) as running:
        yield running


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


def label(texts: Texts, key: str, **values: object) -> str:
    return plain(texts(key, **values))


async def tap(page: Page, text: str) -> None:
    """Taps the newest inline button showing `text`."""
    await page.locator("#messages button", has_text=text).last.click(timeout=WAIT_MS)


async def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


async def test_top_up_on_the_heleket_page_then_buy_and_see_the_item(
    sandbox: Sandbox, browser: Browser
) -> None:
    _, stock = read_catalog()
    item = re.compile("|".join(map(re.escape, stock["game-key"])))
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(sandbox.url)
    await expect(page.locator(".identity.active")).to_have_text("Alice", timeout=WAIT_MS)

    await page.locator("#text").fill("/start")
    await page.locator("#text").press("Enter")
    await tap(page, label(EN, "menu.catalog"))
    await tap(page, "Games")
    await tap(page, "Game key")
    await tap(page, "Buy for")
    await expect(page.locator("#messages")).to_contain_text("Not enough balance")
    await tap(page, "Top up")
    await tap(page, label(EN, "topup.method_heleket"))

    pay_link = page.locator("#messages a", has_text="Pay 9.99 USD").last
    async with context.expect_page() as opened:
        await pay_link.click(timeout=WAIT_MS)
    heleket = await opened.value
    await heleket.get_by_role("button", name=re.compile("Pay exactly")).click(timeout=WAIT_MS)
    await expect(heleket.locator("#status")).to_have_text("paid", timeout=WAIT_MS)
    await screenshot(heleket, "heleket-payment-page")
    back = heleket.get_by_role("link", name="Back to the shop (success)")
    await expect(back).to_have_attribute("href", f"{sandbox.url}/")

    await expect(page.locator("#messages")).to_contain_text("topped up", timeout=WAIT_MS)
    await expect(page.locator("#messages .bot").last).to_contain_text(item, timeout=WAIT_MS)
    await expect(page.locator("#orders")).to_contain_text(item, timeout=WAIT_MS)
    await expect(page.locator("#balance")).to_have_text("0.00", timeout=WAIT_MS)
    await expect(page.locator("#invoices")).to_contain_text("paid", timeout=WAIT_MS)
    await expect(page.locator("#ledger")).to_contain_text("sound ✓", timeout=WAIT_MS)
    await screenshot(page, "sandbox-after-purchase")
    await context.close()


async def test_stars_top_up_in_russian_and_the_admin_identity(
    sandbox: Sandbox, browser: Browser
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await page.goto(sandbox.url)
    await page.locator(".identity", has_text=BORIS).click(timeout=WAIT_MS)
    await page.get_by_role("button", name="Send /start").click(timeout=WAIT_MS)
    await tap(page, label(RU, "menu.topup"))
    await tap(page, label(RU, "topup.preset", amount="10.00", currency="USD"))
    await tap(page, "Telegram Stars")
    await page.locator("#messages button.pay").last.click(timeout=WAIT_MS)
    await expect(page.locator("#messages .service").last).to_contain_text("⭐", timeout=WAIT_MS)
    await expect(page.locator("#balance")).to_have_text("10.00", timeout=WAIT_MS)
    await expect(page.locator("#stars")).to_contain_text("⭐ 500", timeout=WAIT_MS)
    await screenshot(page, "sandbox-stars")

    await page.locator(".identity", has_text="Shop owner").click(timeout=WAIT_MS)
    await page.locator("#text").fill("/admin")
    await page.locator("#text").press("Enter")
    await tap(page, label(EN, "admin.section.stats"))
    stats = page.locator("#messages .bot").last
    await expect(stats).to_contain_text("Users:", timeout=WAIT_MS)
    await expect(stats).to_contain_text("Today")
    # The figures are the caption of the chart, which the page shows decoded at full size.
    chart = stats.locator("img")
    await expect(chart).to_be_visible(timeout=WAIT_MS)
    size = await chart.evaluate(
        "img => img.decode().then(() => [img.naturalWidth, img.naturalHeight])"
    )
    assert size == [WIDTH_PX, HEIGHT_PX]
    await screenshot(page, "sandbox-stats-chart")
    await expect(page.locator("#balance")).to_have_text("0.00")
    await expect(page.locator("#customers")).to_contain_text(f"{BORIS}10.00")

    # A stock file goes through the page's file button, as a Telegram document.
    await page.locator("#text").fill("/admin")
    await page.locator("#text").press("Enter")
    await tap(page, label(EN, "admin.section.products"))
    await tap(page, "game-key")
    await tap(page, label(EN, "admin.product.upload"))
    await expect(page.locator("#messages .bot").last).to_contain_text("Send a .txt file")
    keys: FilePayload = {
        "name": "keys.txt",
        "mimeType": "text/plain",
        "buffer": b"NEW-KEY-1\nNEW-KEY-2\n",
    }
    await page.locator("#file").set_input_files(files=[keys])
    await expect(page.locator("#messages .user").last).to_contain_text("keys.txt")
    await expect(page.locator("#messages")).to_contain_text(
        label(EN, "admin.stock.added", added=2, sku="game-key", available=5), timeout=WAIT_MS
    )
    await screenshot(page, "sandbox-admin")
    await page.close()
