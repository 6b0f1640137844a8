"""What a user must fix, as typed values: `Problem(subject, code, message)`, and the one `Invalid` error a
service raises with them (syncs, schedules, models).

The subject says what the problem is about, in the service's terms (a form field name, a mapping target,
an option…): forms place a problem by its subject, never by reading its message; the code is stable
for the API and tests; the message is the words a user reads.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    subject: Hashable
    code: str
    message: str

    def __str__(self) -> str:
        return self.message


class Invalid(Exception):
    """The input cannot be accepted as it is; `problems` says why, each with its subject."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(p.message for p in self.problems))

    @property
    def messages(self) -> list[str]:
        return [p.message for p in self.problems]

    def about(self, subject: Hashable) -> list[str]:
        """The messages of the problems about one subject."""
        return [p.message for p in self.problems if p.subject == subject]
