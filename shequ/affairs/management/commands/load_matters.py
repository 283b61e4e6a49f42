"""Load the matter catalogue (事项目录) with the same checks as the import page.

    python manage.py load_matters                      # the shipped shequ/affairs/data/matters.json
    python manage.py load_matters path/to/matters.json
    python manage.py load_matters path/to/catalogue.xlsx

All or nothing; idempotent (matters are upserted by code, unchanged ones left alone). Logged as
"manage.py load_matters". On errors it prints the row-by-row report and exits non-zero.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from shequ.affairs.catalogue import ImportResult, import_xlsx, load_catalogue

ACTOR = "manage.py load_matters"
SHIPPED = Path(__file__).resolve().parents[2] / "data" / "matters.json"


class Command(BaseCommand):
    help = "Load the matter catalogue from a .json or .xlsx file (default: the shipped data/matters.json)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", help=".json (as data/matters.json) or .xlsx (as the export)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["path"]) if options["path"] else SHIPPED
        suffix = path.suffix.lower()
        if suffix not in (".json", ".xlsx"):
            raise CommandError(
                _("无法识别 %(name)s 的格式：请使用 .json 或 .xlsx 文件。") % {"name": path.name}
            )
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(_("无法读取 %(path)s：%(error)s") % {"path": path, "error": exc}) from exc

        result: ImportResult
        if suffix == ".xlsx":
            result = import_xlsx(content, by=ACTOR, label=path.name)
        else:
            try:
                data = json.loads(content.decode("utf-8-sig"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise CommandError(
                    _("%(name)s 不是有效的 JSON：%(error)s") % {"name": path.name, "error": exc}
                ) from exc
            result = load_catalogue(data, by=ACTOR, label=path.name)

        if not result.ok:
            for error in result.errors:
                self.stderr.write(f"{error.row}\t{error.field}\t{error.message}")
            raise CommandError(
                _("%(name)s 中有 %(count)d 个错误，未导入任何数据。")
                % {"name": path.name, "count": len(result.errors)}
            )
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "%(name)s：事项新增 %(created)d 个，更新 %(updated)d 个，未变化 %(unchanged)d 个（共 %(materials)d 项材料）。"
                )
                % {
                    "name": path.name,
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                    "materials": result.materials,
                }
            )
        )
