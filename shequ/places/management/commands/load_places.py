"""Load places from a CSV or GeoJSON file with the same importer as the import page.

    python manage.py load_places path/to/places.csv
    python manage.py load_places grids.geojson
    python manage.py load_places --shanghai-districts     # the shipped 上海市 + 16 districts

All or nothing; idempotent (existing codes are updated, unchanged ones left alone). Runs with
superuser scope and is logged as "manage.py load_places".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from shequ.places import io as place_io

ACTOR = "manage.py load_places"
SHANGHAI_DISTRICTS = Path(__file__).resolve().parents[2] / "data" / "shanghai_districts.csv"


class Command(BaseCommand):
    help = "Import places (CSV or GeoJSON) into the place tree; with no PATH, the shipped Shanghai districts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", help="CSV or GeoJSON file (format from the extension)")
        parser.add_argument(
            "--shanghai-districts", action="store_true", help="load the shipped 上海市 and its 16 districts"
        )
        parser.add_argument(
            "--format", choices=place_io.FORMATS, help="override the format the extension implies"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["path"] and options["shanghai_districts"]:
            raise CommandError(_("PATH 与 --shanghai-districts 只能二选一。"))
        path = Path(options["path"]) if options["path"] else SHANGHAI_DISTRICTS
        fmt = options["format"] or place_io.detect_format(path.name)
        if fmt is None:
            raise CommandError(
                _("无法识别 %(name)s 的格式：请使用 .csv 或 .geojson 扩展名，或指定 --format。")
                % {"name": path.name}
            )
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(_("无法读取 %(path)s：%(error)s") % {"path": path, "error": exc}) from exc

        result = place_io.import_data(data, fmt, by=ACTOR, label=path.name)
        if not result.ok:
            self.stderr.write(place_io.errors_csv(result.errors).removeprefix("\ufeff"), ending="")
            raise CommandError(
                _("%(name)s 中有 %(count)d 个错误，未导入任何数据。")
                % {"name": path.name, "count": len(result.errors)}
            )
        self.stdout.write(
            self.style.SUCCESS(
                _("%(name)s：新增 %(created)d 条，更新 %(updated)d 条，未变化 %(unchanged)d 条。")
                % {
                    "name": path.name,
                    "created": result.created,
                    "updated": result.updated,
                    "unchanged": result.unchanged,
                }
            )
        )
