"""`ecmo seed-demo` never erases a real installation (issue 9 defect 6).

- right after `createsuperuser` (nothing else in the database) it refuses: exit 2, the superuser is still there
- likewise for a plain user, a non-demo program, a catalogue item or an audit event the demo did not create
- over an earlier demo (demo data alone) a second seed is allowed
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from ecmo_web.accounts.models import Program
from ecmo_web.audit.chain import append
from ecmo_web.audit.models import AuditEvent
from ecmo_web.demo import seed as demo_seed
from ecmo_web.runs.models import CatalogueItem


def _refused() -> str:
    with pytest.raises(CommandError) as error:
        call_command("seed_demo")
    assert error.value.returncode == 2
    return str(error.value)


def test_it_refuses_a_database_with_only_a_superuser(db: Any) -> None:
    get_user_model().objects.create_superuser("root", "root@hospital.test", "pw-long-enough-1")
    message = _refused()
    assert "superuser" in message and "changed nothing" in message
    assert list(get_user_model().objects.values_list("username", flat=True)) == ["root"]
    assert not Program.objects.exists()


@pytest.mark.parametrize("what", ["user", "program", "catalogue", "audit"])
def test_it_refuses_anything_the_demo_did_not_create(db: Any, what: str) -> None:
    if what == "user":
        get_user_model().objects.create_user("ward-pc", "ward@hospital.test", "pw-long-enough-1")
    elif what == "program":
        Program.objects.create(name="Demo", is_demo=False)
    elif what == "catalogue":
        CatalogueItem.objects.create(kind="oxygenator", maker="Real", model="Oxy 9")
    else:
        with transaction.atomic():
            append(actor=None, actor_name="jsmith", action="catalogueitem.deleted")
    before = AuditEvent.objects.count()
    _refused()
    assert AuditEvent.objects.count() == before
    assert not Program.objects.filter(is_demo=True).exists()


def test_the_command_exits_2(tmp_path: Any) -> None:
    # A fresh SQLite file holding one superuser: the real command, in its own process.
    env = {
        "ECMO_VAR_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "DJANGO_SUPERUSER_PASSWORD": "pw-long-enough-1",
    }
    ecmo = [sys.executable, "-m", "ecmo_web.cli"]
    subprocess.run([*ecmo, "migrate", "-v", "0"], env=env, check=True, capture_output=True)
    subprocess.run(
        [*ecmo, "createsuperuser", "--noinput", "--username", "root", "--email", "root@hospital.test"],
        env=env,
        check=True,
        capture_output=True,
    )
    done = subprocess.run([*ecmo, "seed-demo"], env=env, capture_output=True, text=True)
    assert done.returncode == 2 and "superuser" in done.stderr


def test_it_allows_a_second_seed_over_demo_data_alone(db: Any) -> None:
    demo_seed.seed_demo(now=timezone.now(), password="steward-demo-test")
    from ecmo_web.surveillance.models import NotificationChannel

    channels = NotificationChannel.objects.filter(program__name="Demo")  # the demo shows the pager set-up
    assert sorted(channels.values_list("name", flat=True)) == [
        "Intensivist on call",
        "Perfusion team: critical alerts",
    ]
    demo_seed.ensure_demo_only()  # demo data alone: a second seed may replace it
    assert demo_seed._not_demo() == []
