"""A small place tree and users with role assignments, built directly (no demo data).

上海市 310000
├── 黄浦区 310101
│   ├── 五里桥街道 310101020
│   │   └── 桥一居委会 310101020001
│   │       └── 网格 310101020001003
│   └── 打浦桥街道 310101021
└── 徐汇区 310104
    └── 天平路街道 310104003
"""

from __future__ import annotations

from dataclasses import dataclass

from shequ.accounts.choices import Role
from shequ.accounts.models import RoleAssignment, User
from shequ.places.models import Place

# A small square near 五里桥 (about 100 m × 100 m), counter-clockwise, closed.
SQUARE = {
    "type": "Polygon",
    "coordinates": [
        [
            [121.4800, 31.2000],
            [121.4810, 31.2000],
            [121.4810, 31.2009],
            [121.4800, 31.2009],
            [121.4800, 31.2000],
        ]
    ],
}


@dataclass
class Tree:
    city: Place
    district: Place
    street: Place
    committee: Place
    grid: Place
    other_street: Place
    other_district: Place
    other_district_street: Place


def place(code: str, name: str, kind: str, parent: Place | None = None, **extra) -> Place:
    return Place.objects.create(code=code, name=name, kind=kind, parent=parent, **extra)


def build_tree() -> Tree:
    city = place("310000", "上海市", "city")
    district = place("310101", "黄浦区", "district", city)
    street = place("310101020", "五里桥街道", "street", district)
    committee = place("310101020001", "桥一居委会", "committee", street)
    grid = place("310101020001003", "桥一第三网格", "grid", committee, geometry=SQUARE)
    other_street = place("310101021", "打浦桥街道", "street", district)
    other_district = place("310104", "徐汇区", "district", city)
    other_district_street = place("310104003", "天平路街道", "street", other_district)
    return Tree(city, district, street, committee, grid, other_street, other_district, other_district_street)


def make_user(username: str, role: str | None = None, at: Place | None = None, **extra) -> User:
    user = User.objects.create_user(username=username, password="x-test-password-1", **extra)
    if role is not None and at is not None:
        RoleAssignment.objects.create(user=user, role=role, place=at)
    return user


def make_superuser(username: str = "root") -> User:
    existing = User.objects.filter(username=username).first()
    return existing or User.objects.create_superuser(username=username, password="x-test-password-1")


def street_leader(tree: Tree, username: str = "street_leader") -> User:
    return make_user(username, Role.LEADER, tree.street)


def committee_worker(tree: Tree, username: str = "committee_worker") -> User:
    return make_user(username, Role.COMMITTEE_WORKER, tree.committee)
