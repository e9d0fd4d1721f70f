"""The "researcher" group: its members see the results (dashboard, results API, exports)."""

from django.db import migrations

GROUP = "researcher"  # bachsurvey.research.RESEARCHER_GROUP, frozen here


def create_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get_or_create(name=GROUP)


def delete_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("bachsurvey", "0002_generation_batches"),
    ]

    operations = [migrations.RunPython(create_group, delete_group)]
