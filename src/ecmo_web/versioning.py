"""``Versioned``: a record people edit from forms carries a version, moved on by every save.

An edit form carries the version it was opened at (a hidden ``version`` field; an API client sends it in the
body); the action locks the row and calls ``kernel.expect_version`` before writing, so that of two people
amending the same record at once the second is told what the first wrote instead of overwriting it
(docs/reliability.md, "Two people at once").
"""

from __future__ import annotations

from typing import Any

from django.db import models


class Versioned(models.Model):
    """Abstract: ``version`` starts at 1 and every ``save()`` of an existing row adds one."""

    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Moved on by every change; edit forms carry the one they read"
    )

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding and self.pk is not None:
            self.version = int(self.version) + 1
            fields = kwargs.get("update_fields")
            if fields is not None:
                kwargs["update_fields"] = {*fields, "version"}
        super().save(*args, **kwargs)
