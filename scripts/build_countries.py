"""Build leotwin's bundled country polygons from Natural Earth 1:50m (world-atlas TopoJSON).

Source: ``world-atlas`` 2.0.2 (npm; ISC licence for the packaging, © Mike Bostock), file
``countries-50m.json``: Natural Earth 1:50m Admin 0 countries (public domain), quantized TopoJSON
whose ids are ISO 3166-1 numeric codes.  Steps: decode arcs, rebuild rings, split rings at the
antimeridian, make valid, orient exteriors counter-clockwise, attach ISO 3166-1 alpha-2/alpha-3
codes with ``pycountry``, round to 1e-5° (~1 m), write GeoJSON.  Run::

    npm ci && .venv/bin/pip install pycountry && .venv/bin/python scripts/build_countries.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pycountry
from shapely.geometry import Polygon, mapping

from leotwin.ground.geometry import clean_multipolygon

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "node_modules" / "world-atlas" / "countries-50m.json"
OUT = ROOT / "src" / "leotwin" / "data" / "regions" / "countries-50m.geojson"
# Natural Earth units without an ISO 3166-1 numeric code: user-assigned codes where one is in
# common use (XK for Kosovo, as the EU and the IMF use it); the others have names only.
EXTRA = {"Kosovo": ("XK", "XKX")}


def decode_arcs(topo: dict) -> list[np.ndarray]:
    """TopoJSON arcs: delta-encoded quantized positions → lon/lat arrays (TopoJSON spec §2.1.3)."""
    scale = np.array(topo["transform"]["scale"])
    translate = np.array(topo["transform"]["translate"])
    return [np.cumsum(np.array(arc, dtype=np.float64), axis=0) * scale + translate
            for arc in topo["arcs"]]


def ring(indices: list[int], arcs: list[np.ndarray]) -> np.ndarray:
    parts = []
    for k, i in enumerate(indices):
        arc = arcs[i] if i >= 0 else arcs[~i][::-1]
        parts.append(arc if k == 0 else arc[1:])
    return np.concatenate(parts)


def main() -> None:
    topo = json.loads(SOURCE.read_text())
    arcs = decode_arcs(topo)
    features = []
    for geom in topo["objects"]["countries"]["geometries"]:
        polys_arcs = geom["arcs"] if geom["type"] == "MultiPolygon" else [geom["arcs"]]
        polys = []
        for p in polys_arcs:
            shell, holes = ring(p[0], arcs), [ring(h, arcs) for h in p[1:]]
            if np.ptp(shell[:, 1]) < 1e-9:
                # Antarctica in world-atlas's spherical topology: a zero-area ring on latitude
                # −89.999 with the coastline as its "hole" means "south of the coastline".  In
                # lon/lat the coastline is the shell, closed through the pole by
                # split_antimeridian.
                polys.extend(Polygon(h) for h in holes)
            else:
                polys.append(Polygon(shell, holes))
        shape = clean_multipolygon(polys)
        name = geom["properties"]["name"]
        numeric = geom.get("id")
        country = pycountry.countries.get(numeric=numeric) if numeric else None
        a2, a3 = (country.alpha_2, country.alpha_3) if country else EXTRA.get(name, (None, None))
        rounded = json.loads(json.dumps(mapping(shape)),
                             parse_float=lambda s: round(float(s), 5))
        features.append({"type": "Feature", "properties": {
            "name": name, "iso_a2": a2, "iso_a3": a3, "iso_n3": numeric,
            "official_name": getattr(country, "official_name", None) if country else None,
        }, "geometry": rounded})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    doc = {"type": "FeatureCollection",
           "source": "Natural Earth 1:50m Admin 0 (public domain) via world-atlas 2.0.2 "
                     "countries-50m.json; built by scripts/build_countries.py",
           "features": features}
    OUT.write_text(json.dumps(doc, separators=(",", ":")) + "\n")
    coded = sum(1 for f in features if f["properties"]["iso_a2"])
    print(f"wrote {len(features)} countries ({coded} with ISO codes) to {OUT} "
          f"({OUT.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
