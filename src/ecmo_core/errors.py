"""Errors raised by the clinical core.

Both are ``ValueError`` subclasses so that callers that only know ``ValueError`` still catch them.
"""

from __future__ import annotations


class InputError(ValueError):
    """An input is missing, of the wrong type, or outside its accepted range.

    ``field`` names the offending keyword so that forms, the API and the CLI can attach the message to it.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class InfeasibleError(ValueError):
    """The inputs are each valid but together describe a physiologically impossible state."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        self.message = message
        super().__init__(message)
