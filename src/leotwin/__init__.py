"""leotwin: an open digital twin of a Starlink-style satellite-internet service.

The pipeline (see ``docs`` and ``../shared/design/ARCHITECTURE.md``):
orbits → ground → links → network → policy → sim → analysis / export / service.
"""

from leotwin.errors import InputError

__version__ = "0.1.0"
__all__ = ["InputError", "__version__"]
