"""CSV files previewed on the import page wait here (``PendingUpload``) until their user confirms them.

A preview holds the text for ``LIFETIME`` (one hour); confirming takes it, and the surveillance worker removes
what expired (``worker.remove_expired_uploads``). Rows live in the database rather than under ``var/``, so
several web processes share them and nothing is left behind on disk. Each write is audited (the file's SHA-256
and size, never its content).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from ecmo_web.kernel import audit
from ecmo_web.runs.models import EcmoRun
from ecmo_web.surveillance.worker_models import PendingUpload

LIFETIME = dt.timedelta(hours=1)


@transaction.atomic
def hold(*, actor: Any, run: EcmoRun, digest: str, text: str, now: dt.datetime) -> PendingUpload:
    """Keep a previewed file for its user to confirm within ``LIFETIME``."""
    upload, _ = PendingUpload.objects.update_or_create(
        run=run,
        digest=digest,
        defaults={"uploaded_by": actor, "text": text, "created_at": now, "expires_at": now + LIFETIME},
    )
    audit(
        actor,
        action="surveillance.upload_held",
        obj=run,
        after={"digest": digest, "bytes": len(text.encode()), "expires_at": upload.expires_at},
    )
    return upload


def find(*, actor: Any, run: EcmoRun, digest: str, now: dt.datetime) -> str | None:
    """The text this user previewed for this run, unless it expired."""
    upload = PendingUpload.objects.filter(
        run=run, digest=digest, uploaded_by=actor, expires_at__gt=now
    ).first()
    return None if upload is None else upload.text


@transaction.atomic
def discard(*, actor: Any, run: EcmoRun, digest: str) -> None:
    """Remove a held file once it has been imported."""
    deleted, _ = PendingUpload.objects.filter(run=run, digest=digest).delete()
    if deleted:
        audit(actor, "surveillance.upload_taken", run, after={"digest": digest})
