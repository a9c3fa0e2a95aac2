"""leotwin: an open digital twin of a Starlink-style satellite-internet service.

The pipeline (the package map is in ``docs/design.md``):
orbits → ground → links → network → policy → sim → analysis / export, with the control plane
and the CLI on top.
"""

from leotwin.errors import InputError

__version__ = "0.1.0"
__all__ = ["InputError", "__version__"]
