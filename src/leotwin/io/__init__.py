"""File plumbing shared by every stage: atomic writes."""

from leotwin.io.atomic import atomic_output, check_writable

__all__ = ["atomic_output", "check_writable"]
