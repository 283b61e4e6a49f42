"""Demo staff: one user for every role, documented in README.md. All share DEMO_PASSWORD."""

from __future__ import annotations

from dataclasses import dataclass

DEMO_PASSWORD = "shequ-demo-2026"


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    phone: str
    role: str | None  # None: superuser
    place_code: str
    department: str | None = None


DEPARTMENTS = [
    # (place code, code, name)
    ("310101020", "civil-affairs", "社区服务办公室（民政）"),
    ("310101020", "social-security", "社会保障科"),
    ("310101020", "city-management", "城市管理办公室"),
    ("310101020", "housing", "房屋管理办公室"),
    ("310101021", "civil-affairs", "社区服务办公室（民政）"),
    # responsible units of grid management (the class tables' default department codes)
    ("310101020", "sanitation", "市容环境卫生管理所"),
    ("310101020", "municipal", "市政设施管理所"),
    ("310101020", "law-enforcement", "城管执法中队"),
    ("310101020", "greening", "绿化管理所"),
    ("310101020", "traffic", "交通管理办公室"),
]

USERS = [
    DemoUser("admin", "系统管理员", "13800000000", None, ""),
    DemoUser("district_leader", "陈志强", "13800210001", "leader", "310101"),
    DemoUser("leader", "王建国", "13800210002", "leader", "310101020"),
    DemoUser("manager", "李秀英", "13800210003", "centre_manager", "310101020"),
    DemoUser("frontdesk", "张丽", "13800210004", "front_desk", "310101020"),
    DemoUser("backoffice", "刘洋", "13800210005", "back_office", "310101020", "civil-affairs"),
    DemoUser("committee", "赵敏", "13800210006", "committee_worker", "310101020001"),
    DemoUser("inspector", "孙伟", "13800210007", "grid_inspector", "310101020001"),
    DemoUser("supervisor", "周婷", "13800210008", "supervision_operator", "310101020"),
    DemoUser("dispatcher", "吴磊", "13800210009", "dispatcher", "310101020"),
    DemoUser("provider", "郑芳", "13800210010", "provider_staff", "310101020"),
    DemoUser("mediator", "冯刚", "13800210011", "mediator", "310101020"),
    DemoUser("resident", "何桂兰", "13800210012", "resident", "310101020001"),
    DemoUser("frontdesk_b", "马超", "13800210013", "front_desk", "310101021"),
    # more window clerks of 五里桥's centre, so each of its 8 windows has its own person
    DemoUser("clerk1", "陈晓燕", "13800210014", "front_desk", "310101020"),
    DemoUser("clerk2", "林志伟", "13800210015", "front_desk", "310101020"),
    DemoUser("clerk3", "黄佳怡", "13800210016", "front_desk", "310101020"),
    DemoUser("clerk4", "徐海峰", "13800210017", "front_desk", "310101020"),
    # the sanitation unit's handler of grid cases
    DemoUser("handler", "钱进", "13800210018", "back_office", "310101020", "sanitation"),
    # the other committees' grid inspectors and the other grid departments' handlers
    DemoUser("inspector2", "郭强", "13800210102", "grid_inspector", "310101020002"),
    DemoUser("inspector3", "林海燕", "13800210103", "grid_inspector", "310101020003"),
    DemoUser("inspector4", "何明", "13800210104", "grid_inspector", "310101020004"),
    DemoUser("inspector5", "罗佳", "13800210105", "grid_inspector", "310101020005"),
    DemoUser("inspector6", "高志远", "13800210106", "grid_inspector", "310101020006"),
    DemoUser("handler_municipal", "许文", "13800210111", "back_office", "310101020", "municipal"),
    DemoUser("handler_law", "韩冰", "13800210112", "back_office", "310101020", "law-enforcement"),
    DemoUser("handler_greening", "唐丽", "13800210113", "back_office", "310101020", "greening"),
    DemoUser("handler_traffic", "曹阳", "13800210114", "back_office", "310101020", "traffic"),
]
