"""A resident takes a number at the kiosk, a clerk calls it from a window, and the hall display
shows the call without being reloaded."""

from __future__ import annotations

import time

import pytest

from shequ.queueing.choices import TicketStatus
from shequ.queueing.models import Ticket, Window, WindowSession

from .conftest import screenshot
from .test_login import login

pytestmark = pytest.mark.browser
CENTRE = "310101020"


@pytest.fixture
def context_for(browser):
    """New browser contexts (a TV, a kiosk), closed after the test even when it fails, so no
    long-poll keeps asking the server once the test database is gone."""
    contexts = []

    def make(**options):
        contexts.append(browser.new_context(locale="zh-CN", **options))
        return contexts[-1]

    yield make
    for context in contexts:
        context.close()


def test_kiosk_ticket_is_called_at_a_window_and_shown_on_the_display(page, context_for):
    # The demo's day may leave numbers waiting: clear the hall so window 1 calls ours.
    Ticket.objects.filter(
        status__in=[TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING]
    ).update(status=TicketStatus.CANCELLED)
    WindowSession.objects.filter(ended_at__isnull=True).delete()
    window = Window.objects.get(centre__code=CENTRE, number=1)

    # the hall TV, open before anything happens
    tv = context_for(viewport={"width": 1920, "height": 1080})
    display = tv.new_page()
    display.goto(page.base_url + f"/queue/display/{CENTRE}/")
    slot = display.locator('#qd-windows li[data-window="1"]')
    assert "暂停服务" in slot.inner_text()

    # 1. the kiosk: category A, a phone number on the keypad, take the number
    kiosk = context_for(viewport={"width": 1280, "height": 800}, has_touch=True).new_page()
    kiosk.goto(page.base_url + f"/queue/kiosk/{CENTRE}/")
    screenshot(kiosk, "queue-kiosk")
    kiosk.locator("label.qk-category", has_text="社保医保").click()
    kiosk.locator("#qk-phone").click()
    for digit in "13912340000":
        kiosk.locator(f'[data-key="{digit}"]').first.click()
    screenshot(kiosk, "queue-kiosk-step2")
    kiosk.get_by_role("button", name="取号").click()
    kiosk.wait_for_url("**/queue/ticket/**")
    number = kiosk.locator(".tp-number").inner_text().strip()
    ticket = Ticket.objects.get(number=number, centre_code=CENTRE, status=TicketStatus.WAITING)
    assert number.startswith("A") and ticket.phone == "13912340000"
    assert kiosk.locator(".tp-qr svg, svg").first.is_visible()
    screenshot(kiosk, "queue-ticket")

    # the display counts the new waiting number
    display.locator("#qd-waiting").get_by_text("社保医保").wait_for()

    # 2. the window: sign in, call
    login(page, "frontdesk")
    page.wait_for_url("**/home/")
    page.goto(page.base_url + f"/queue/windows/{window.pk}/")
    page.get_by_role("button", name="签入").click()
    page.get_by_role("button", name="叫号").click()
    called_at = time.monotonic()
    page.wait_for_load_state()
    assert page.get_by_text(number).first.is_visible()
    screenshot(page, "queue-window")

    # 3. the display shows the call without a reload, well within the long-poll
    display.wait_for_function(
        "n => document.querySelector('#qd-windows li[data-window=\"1\"]').innerText.includes(n)",
        arg=number,
        timeout=5_000,
    )
    seen_after = time.monotonic() - called_at
    assert number in display.locator("#qd-recent").inner_text()
    screenshot(display, "queue-display")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CALLED and ticket.window == window
    assert seen_after < 3, f"the display took {seen_after:.1f} s to show the call"

    # 4. finish: the rating tablet at window 1 offers the five levels
    page.get_by_role("button", name="办结").click()
    tablet = tv.new_page()
    tablet.set_viewport_size({"width": 1024, "height": 768})
    tablet.goto(page.base_url + f"/queue/tablet/{CENTRE}/1/")
    tablet.get_by_text(number).first.wait_for()
    screenshot(tablet, "queue-tablet")
    tablet.get_by_role("button", name="非常满意").click()
    tablet.get_by_text("感谢").first.wait_for()
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.DONE and ticket.rating == 5
