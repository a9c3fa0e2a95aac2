"""The spectral efficiency of a user link from its slant range.

Free-space loss grows as the square of the distance (Friis), so a link's signal-to-noise ratio
falls by 20·log10(d/d₀) dB from its value at a reference range d₀ (the zenith at 550 km).  The
rate per Hz is Shannon's log₂(1 + SNR) (Shannon 1948), at most the profile's best modulation
(5.11 b/s/Hz, 64QAM FEC 8/9: Pekhterev 2021).  One global parameter: the clear-sky SNR at the
zenith, :data:`ZENITH_SNR_DB` (an assumption; ``benchmarks/RESULTS.md`` records how it was
chosen).  Rain, scan loss of the phased array and interference are not modelled.
"""

from __future__ import annotations

import numpy as np

#: the reference range of :data:`ZENITH_SNR_DB` (km): the zenith of a 550-km shell
REFERENCE_RANGE_KM = 550.0
#: clear-sky SNR of a user link at the reference range (dB)
ZENITH_SNR_DB = 16.0


def spectral_efficiency(range_km, best: np.ndarray | float,
                        zenith_snr_db: float = ZENITH_SNR_DB) -> np.ndarray:
    """b/s/Hz of links of slant ``range_km``, capped at ``best`` (per link or one value)."""
    d = np.maximum(np.asarray(range_km, float), 1e-3)
    snr_db = zenith_snr_db - 20.0 * np.log10(d / REFERENCE_RANGE_KM)
    return np.minimum(np.log2(1.0 + 10.0 ** (snr_db / 10.0)), best)
