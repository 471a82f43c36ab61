"""The playground in a real headless Chromium (Debian's chromium + chromium-driver, driven by Selenium).

Screenshots go to ``$AGENTKIT_TEST_ARTIFACTS/playground/`` (default ``./test-artifacts``).
Without Chromium the test skips with the reason, except under CI (``CI=true``), where it fails.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from agentkit import Agent, tool
from agentkit.serve import create_app, create_key, open_store
from agentkit.testing import ScriptedModel, reply, tool_call

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
ARTIFACTS = Path(os.environ.get("AGENTKIT_TEST_ARTIFACTS", "test-artifacts")) / "playground"


@tool
def add(a: int, b: int) -> int:
    """Add two numbers.

    Args:
        a: The first.
        b: The second.
    """
    return a + b


@tool(requires_approval=True)
def send_email(to: str) -> str:
    """Send an email.

    Args:
        to: The recipient.
    """
    return f"sent to {to}"


def script(request: Any) -> Any:
    last = request["messages"][-1]
    if last["role"] == "user" and "Email" in last["content"]:
        return reply(tool_calls=[tool_call("send_email", {"to": "bob@example.com"})])
    if last["role"] == "user":
        return reply("Let me add that.", tool_calls=[tool_call("add", {"a": 2, "b": 3})])
    if last["content"].startswith("sent"):
        return reply(f"Done: {last['content']}.")
    return reply(f"2 + 3 = {last['content']}")


@pytest.fixture
def browser() -> Iterator[Any]:
    if CHROMIUM is None or CHROMEDRIVER is None:
        reason = "Chromium is not installed (apt-get install chromium chromium-driver; see .ci/services.sh)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The app on 127.0.0.1 in a thread of its own (Selenium blocks the test's thread)."""
    store = f"sqlite:///{tmp_path}/s.db"

    async def make_key() -> str:
        opened = open_store(store)
        try:
            return await create_key(opened, "alice")
        finally:
            await opened.aclose()

    key = asyncio.run(make_key())
    model = ScriptedModel(script)
    agent = Agent("gpt-4o-mini", name="calculator", tools=[add], client=model.client())
    mailer = Agent("gpt-4o-mini", name="mailer", tools=[send_email], client=model.client())
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app([agent, mailer], store=store), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", key
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()


def wait_for(driver: Any, css: str, text: str | None = None, timeout: float = 15) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, timeout)
    if text is not None:
        wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, css), text))
    return wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, css)))


def test_a_conversation_with_a_tool_call_in_chromium(browser: Any, served: tuple[str, str]) -> None:
    from selenium.webdriver.common.by import By

    url, key = served
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.get(url + "/playground")
    browser.find_element(By.ID, "api-key").send_keys(key)
    browser.find_element(By.ID, "connect").click()
    wait_for(browser, "#status", "connected")
    assert browser.find_element(By.CSS_SELECTOR, "#assistant option").text == "calculator"
    browser.find_element(By.ID, "new-thread").click()
    wait_for(browser, "#threads li.active")
    browser.find_element(By.ID, "input").send_keys("What is 2 + 3?")
    browser.find_element(By.ID, "send").click()
    wait_for(browser, "#status", "done")
    browser.save_screenshot(str(ARTIFACTS / "1-conversation.png"))
    card = browser.find_element(By.CSS_SELECTOR, ".tool-call")
    assert card.find_element(By.CLASS_NAME, "tool-name").text == 'add({"a":2,"b":3})'
    assert card.find_element(By.CLASS_NAME, "tool-result").text == "→ 5"
    bubbles = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".msg")]
    assert bubbles == ["What is 2 + 3?", "Let me add that.", "2 + 3 = 5"]
    # A reload keeps the key, lists the thread, and shows its history from the server.
    browser.refresh()
    wait_for(browser, "#threads li")
    browser.find_element(By.CSS_SELECTOR, "#threads li").click()
    wait_for(browser, "#messages", "2 + 3 = 5")
    browser.save_screenshot(str(ARTIFACTS / "2-history.png"))
    assert [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".msg")] == [
        "What is 2 + 3?",
        "Let me add that.",
        "2 + 3 = 5",
    ]
    assert (ARTIFACTS / "1-conversation.png").stat().st_size > 1000


def test_approving_a_tool_call_in_chromium(browser: Any, served: tuple[str, str]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    url, key = served
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.get(url + "/playground")
    browser.find_element(By.ID, "api-key").send_keys(key)
    browser.find_element(By.ID, "connect").click()
    wait_for(browser, "#status", "connected")
    Select(browser.find_element(By.ID, "assistant")).select_by_visible_text("mailer")
    browser.find_element(By.ID, "new-thread").click()
    wait_for(browser, "#threads li.active")
    browser.find_element(By.ID, "input").send_keys("Email bob please")
    browser.find_element(By.ID, "send").click()
    approve = wait_for(browser, ".tool-call .decision button.approve")
    assert (
        browser.find_element(By.CSS_SELECTOR, ".tool-call .tool-name").text
        == 'send_email({"to":"bob@example.com"})'
    )
    browser.save_screenshot(str(ARTIFACTS / "3-approval-asked.png"))
    approve.click()
    wait_for(browser, "#status", "done")
    browser.save_screenshot(str(ARTIFACTS / "4-approved.png"))
    assert len(browser.find_elements(By.CSS_SELECTOR, ".tool-call")) == 1
    assert (
        browser.find_element(By.CSS_SELECTOR, ".tool-call .tool-result").text == "→ sent to bob@example.com"
    )
    assert (
        browser.find_elements(By.CSS_SELECTOR, ".msg.assistant")[-1].text == "Done: sent to bob@example.com."
    )
