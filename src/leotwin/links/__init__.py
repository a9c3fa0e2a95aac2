"""Links: visibility with true elevation masks, look angles, slant range and delay, passes."""

from leotwin.links.visibility import (
    SPEED_OF_LIGHT_KM_S,
    VisibilityIndex,
    coverage_geometry,
    look_angles,
    visible_pairs_brute,
)

__all__ = ["SPEED_OF_LIGHT_KM_S", "VisibilityIndex", "coverage_geometry", "look_angles",
           "visible_pairs_brute"]
