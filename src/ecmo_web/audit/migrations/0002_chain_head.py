"""Create the audit chain's head row up front, so that two first writers never race to create it."""

from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db import migrations
from django.db.migrations.state import StateApps

GENESIS = "0" * 64


def create_head(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    ChainHead = apps.get_model("audit", "ChainHead")
    ChainHead.objects.get_or_create(id=1, defaults={"last_hash": GENESIS, "count": 0})


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(create_head, migrations.RunPython.noop)]
