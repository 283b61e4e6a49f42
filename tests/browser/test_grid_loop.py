"""A grid inspector reports a heap of rubbish from the mobile page (phone GPS, photo, class
picker); the supervision centre files it, the command centre dispatches it, the sanitation
department handles it with an after-photo, the inspector fails the first verification, the
department reworks it, the inspector passes it and the supervision centre closes it."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from shapely.geometry import shape

from shequ.places.models import Place
from shequ.workorders.models import WorkOrder

from .conftest import screenshot
from .test_login import login

pytestmark = pytest.mark.browser

GRID = "310101020001003"  # 桥一第3网格, patrolled by the demo inspector
MOBILE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}


def jpeg(name: str, color: str) -> dict:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), color).save(buffer, format="JPEG")
    return {"name": name, "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def as_user(page, username: str, viewport: dict = DESKTOP) -> None:
    page.context.clear_cookies()
    page.set_viewport_size(viewport)
    login(page, username)
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def open_case(page, number: str) -> None:
    page.goto(f"{page.base_url}/grid/cases/{number}/")


def do(page, action: str, button: str, comment: str = "") -> None:
    form = page.locator(f"form[data-action={action}]")
    if comment:
        form.locator("textarea").fill(comment)
    form.get_by_role("button", name=button, exact=True).click()
    page.get_by_text(f"已办理：{button}").wait_for()


def step_of(number: str) -> str:
    return WorkOrder.objects.get(number=number).step


def test_a_report_goes_round_the_closed_loop_with_a_failed_verification(page):
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    point = shape(Place.objects.get(code=GRID).geometry).representative_point()
    page.context.grant_permissions(["geolocation"], origin=page.base_url)
    page.context.set_geolocation({"latitude": point.y, "longitude": point.x, "accuracy": 12})

    # 1 collection: the inspector's phone
    as_user(page, "inspector", MOBILE)
    page.goto(page.base_url + "/grid/report/")
    page.locator(".leaflet-interactive").first.wait_for()  # the grids are drawn, without tiles
    screenshot(page, "grid-01-report-empty")
    page.locator("#f-photo").set_input_files(jpeg("site.jpg", "green"))
    page.get_by_role("button", name="使用手机定位").click()
    page.get_by_text("已定位，精度约 12 米").wait_for()
    page.get_by_label("搜索类别（名称或代码）").fill("垃圾")
    assert page.locator("label.g-option", has_text="井盖").first.is_hidden()
    page.locator("label.g-option", has_text="暴露垃圾").first.click()
    page.get_by_text("已选：06010 暴露垃圾").wait_for()
    page.get_by_label("问题描述").fill("路口东侧人行道上有一堆暴露垃圾")
    screenshot(page, "grid-02-report-filled")
    page.get_by_role("button", name="提交上报").click()
    page.get_by_role("heading", name="上报成功").wait_for()
    number = page.locator(".g-done .g-number").inner_text().strip()
    assert number.startswith("WG") and step_of(number) == "filing"
    screenshot(page, "grid-03-reported")

    # 2 filing: the supervision centre
    as_user(page, "supervisor")
    open_case(page, number)
    page.locator(".leaflet-interactive").first.wait_for()
    screenshot(page, "grid-04-filing")
    do(page, "file", "立案")
    assert step_of(number) == "dispatching"

    # 3 dispatch: the command centre, with the class's department preselected
    as_user(page, "dispatcher")
    open_case(page, number)
    assert page.locator("#a-dept option:checked").inner_text().startswith("市容环境卫生管理所")
    screenshot(page, "grid-05-dispatching")
    do(page, "dispatch", "派遣")
    assert step_of(number) == "handling"

    # 4 handling, with an after-photo
    def handle(result: str, color: str, shot: str) -> None:
        as_user(page, "handler")
        open_case(page, number)
        form = page.locator("form[data-action=finish]")
        form.locator("textarea").fill(result)
        form.locator("input[type=file]").set_input_files(jpeg(f"after-{color}.jpg", color))
        screenshot(page, shot)
        form.get_by_role("button", name="处置完毕").click()
        page.get_by_text("已办理：处置完毕").wait_for()
        assert step_of(number) == "feedback"
        # 5 feedback: the command centre passes it on for verification
        as_user(page, "dispatcher")
        open_case(page, number)
        do(page, "forward", "转监督中心核查")
        assert step_of(number) == "verifying"

    handle("已清运，路面已冲洗", "blue", "grid-06-handling")

    # 6 verification fails on site: rework
    as_user(page, "inspector", MOBILE)
    open_case(page, number)
    assert page.locator(".g-photos img").count() == 2
    page.get_by_role("link", name="办理本案件：核查").click()  # the phone jumps to the action
    screenshot(page, "grid-07-verifying")
    do(page, "fail", "核查未通过（返工）", "绿化带里仍有垃圾")
    assert step_of(number) == "handling"
    screenshot(page, "grid-08-rework")

    handle("绿化带内垃圾已清理", "red", "grid-09-rework-handling")

    as_user(page, "inspector", MOBILE)
    open_case(page, number)
    do(page, "pass", "核查通过")

    # 7 closing
    as_user(page, "supervisor")
    open_case(page, number)
    do(page, "close", "结案")
    assert step_of(number) == "closed"
    assert page.get_by_text("返工").first.is_visible()
    screenshot(page, "grid-10-closed")
    order = WorkOrder.objects.get(number=number)
    assert order.rework_count == 1 and order.attachments.filter(is_photo=True).count() == 3
    assert errors == []  # no script error on any page of the loop
