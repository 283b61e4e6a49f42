from __future__ import annotations

import pytest

from shequ.core.demo.people import DEMO_PASSWORD

from .conftest import screenshot

pytestmark = pytest.mark.browser


def login(page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(page.base_url + "/accounts/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def test_login_lands_on_the_chinese_home_page(page):
    page.goto(page.base_url + "/")
    assert page.get_by_role("heading", name="社区综合服务平台").is_visible()
    screenshot(page, "landing")
    login(page, "leader")
    page.wait_for_url("**/home/")
    assert page.get_by_role("heading", name="工作台", level=1).is_visible()
    assert page.get_by_text("五里桥街道").first.is_visible()
    nav = page.get_by_role("navigation", name="主导航")
    assert nav.get_by_role("link", name="变更日志").is_visible()
    screenshot(page, "home-leader")


def test_wrong_password_shows_a_chinese_message(page):
    login(page, "frontdesk", "not-the-password")
    assert page.get_by_role("alert").filter(has_text="用户名或密码错误").is_visible()
    screenshot(page, "login-error")


def test_keyboard_only_login(page):
    page.goto(page.base_url + "/accounts/login/")
    page.keyboard.press("Tab")  # skip link
    page.get_by_label("用户名").focus()
    page.keyboard.type("frontdesk")
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/home/")
    assert page.get_by_role("heading", name="工作台", level=1).is_visible()
