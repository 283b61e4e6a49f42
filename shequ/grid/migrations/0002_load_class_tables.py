"""Load the shipped class tables (GB/T 47678.5-2026 and the older CJ/T 214), see data/README.md."""

from django.db import migrations


def load(apps, schema_editor):
    from shequ.grid.classes import load_classes

    load_classes(apps.get_model("grid", "ManagementClass"), apps.get_model("grid", "LegacyClass"))


class Migration(migrations.Migration):
    dependencies = [("grid", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
