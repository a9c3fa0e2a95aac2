"""The one error type that user input raises.

Every file or value a user gives is validated at the edge.  When it is wrong we raise
:class:`InputError`, whose message is one line naming *where* (file, line, field) and *what was
expected*.  The CLI prints that line and exits with code 2; no traceback, no partial output.
"""

from __future__ import annotations

from os import PathLike


class InputError(ValueError):
    """Bad user input: a file, a field or a command-line value.

    Parameters
    ----------
    message:
        What is wrong and what was expected, as one sentence.
    source:
        The file (or the option, e.g. ``--step``) the value came from.
    line:
        1-based line number in ``source``, when known.
    field:
        The field or key inside the line or record, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | PathLike[str] | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.source = None if source is None else str(source)
        self.line = line
        self.field = field
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = []
        if self.source:
            where.append(self.source)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field {self.field}")
        prefix = ", ".join(where)
        text = f"{prefix}: {self.message}" if prefix else self.message
        return " ".join(text.split())  # always a single line
