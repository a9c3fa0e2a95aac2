"""Reason codes of a decision: a bit each, so every reason that applies is kept (a bitmask)."""

from __future__ import annotations

from enum import IntFlag

from leotwin.errors import InputError


class Reason(IntFlag):
    """Why a terminal is denied service (0 = allowed)."""

    REGION_NOT_LICENSED = 1 << 0
    REGION_INACTIVE = 1 << 1
    REGION_BLACKLISTED = 1 << 2
    CELL_BLACKLISTED = 1 << 3
    REGION_WAITLISTED = 1 << 4
    NOT_WHITELISTED = 1 << 5
    SPEED_CAP = 1 << 6
    ALTITUDE_CAP = 1 << 7
    IN_MOTION_NOT_ALLOWED = 1 << 8
    FUNDING_SUSPENDED = 1 << 9
    TERMINAL_DEACTIVATED = 1 << 10
    UNKNOWN_TERMINAL = 1 << 11
    NO_SATELLITE_IN_VIEW = 1 << 12
    NO_PATH_TO_GATEWAY = 1 << 13


EXPLAIN = {
    Reason.REGION_NOT_LICENSED: "service is not licensed in {region}",
    Reason.REGION_INACTIVE: "service is not enabled in {region}",
    Reason.REGION_BLACKLISTED: "{region} is blacklisted",
    Reason.CELL_BLACKLISTED: "service cell {cell} is blacklisted",
    Reason.REGION_WAITLISTED: "{region} is waitlisted (sold out) and the terminal is not "
                              "registered there",
    Reason.NOT_WHITELISTED: "{region} admits only whitelisted terminals and this one is not "
                            "registered{registration}",
    Reason.SPEED_CAP: "speed {speed:.0f} km/h exceeds the cap of {cap:.0f} km/h",
    Reason.ALTITUDE_CAP: "altitude {alt:.0f} m exceeds the cap of {altcap:.0f} m",
    Reason.IN_MOTION_NOT_ALLOWED: "in-motion use ({speed:.0f} km/h) is not allowed here or on "
                                  "the {plan} plan",
    Reason.FUNDING_SUSPENDED: "the funding of account {account} is suspended",
    Reason.TERMINAL_DEACTIVATED: "the terminal was deactivated ({why})",
    Reason.UNKNOWN_TERMINAL: "terminal {terminal} is not in the registry",
    Reason.NO_SATELLITE_IN_VIEW: "no satellite is above the elevation mask",
    Reason.NO_PATH_TO_GATEWAY: "no path leads from the serving satellite to a gateway and the "
                               "PoP",
}


def reason_names(mask: int) -> list[str]:
    """Names of the reasons set in ``mask``, in code order."""
    return [str(r.name) for r in Reason if int(mask) & int(r)]


def parse_reasons(names, where: str = "reasons") -> int:
    """A mask from reason names; unknown names are an :class:`InputError`."""
    mask = 0
    for name in names:
        try:
            mask |= int(Reason[str(name).strip().upper()])
        except KeyError:
            raise InputError(f"unknown reason code '{name}': expected one of "
                             f"{', '.join(str(r.name) for r in Reason)}", field=where) from None
    return mask
