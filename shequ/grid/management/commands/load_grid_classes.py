"""Reload the shipped class tables; classes the city edited keep their edits (see grid/classes.py)."""

from django.core.management.base import BaseCommand

from shequ.grid.classes import load


class Command(BaseCommand):
    help = "Load or refresh the GB/T 47678.5-2026 and CJ/T 214 class tables shipped in shequ/grid/data."

    def handle(self, *args, **options):
        result = load()
        self.stdout.write(
            f"classes created: {result.created}, updated: {result.updated}, legacy classes: {result.legacy}"
        )
