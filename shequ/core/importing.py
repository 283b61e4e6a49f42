"""What every importer returns: all-or-nothing results with row-by-row errors.

An importer validates every row first; when any fails it writes nothing and returns the
errors, each naming the row as the user sees it (a spreadsheet's header is row 1) and the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


class RowError(NamedTuple):
    row: int
    field: str
    message: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged
