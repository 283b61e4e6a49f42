"""The applicant's loose `person_id` number becomes a foreign key to the resident database.

The column keeps its name and its values: the field is renamed in two steps (person_id →
person → the key, whose column is person_id again), which adds the constraint and the index
that listing a person's cases needs. Values that name no person are cleared first, since the
constraint would refuse them (nothing wrote the column before this migration)."""

import django.db.models.deletion
from django.db import migrations, models


def clear_dangling(apps, schema_editor):
    Person = apps.get_model("people", "Person")
    for name in ("Case", "OneTimeNotice"):
        model = apps.get_model("affairs", name)
        model.objects.filter(person_id__isnull=False).exclude(
            person_id__in=Person.objects.values("pk")
        ).update(person_id=None)


class Migration(migrations.Migration):
    dependencies = [
        ("affairs", "0001_initial"),
        ("people", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(clear_dangling, migrations.RunPython.noop),
        migrations.RenameField(model_name="case", old_name="person_id", new_name="person"),
        migrations.RenameField(model_name="onetimenotice", old_name="person_id", new_name="person"),
        migrations.AlterField(
            model_name="case",
            name="person",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="affairs_%(class)ss",
                to="people.person",
                verbose_name="居民",
            ),
        ),
        migrations.AlterField(
            model_name="onetimenotice",
            name="person",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="affairs_%(class)ss",
                to="people.person",
                verbose_name="居民",
            ),
        ),
    ]
