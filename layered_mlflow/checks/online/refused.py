"""What every online check raises when a store answers and says no: a leaf, so that the checks share it."""

from __future__ import annotations


class Refused(Exception):
    """The store answered, and said no."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint
