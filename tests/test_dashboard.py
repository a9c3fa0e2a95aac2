"""The web dashboard in a real browser: Debian's headless Chromium driven by Playwright.

A ``leotwin serve`` process is started on loopback; the page must load the map, render the
policy cells, satellites and terminals, follow the time slider, show a denied terminal's
reasons when it is clicked (as the API gives them), draw its RTT series, list refused
requests in the policy log — and never ask for a URL that is not on the local server.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest

from leotwin.controlplane.auth import create_token
from leotwin.controlplane.store import Store
from live_server import free_port, start_server

CHROMIUM = os.environ.get("LEOTWIN_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("dash") / "leotwin.db"
    store = Store(db)
    token = create_token(store, "viewer")
    admin = create_token(store, "admin")
    store.close()
    port = free_port()
    proc = start_server(db, port)
    yield f"http://127.0.0.1:{port}", token, admin
    proc.terminate()
    proc.wait(timeout=10)


def test_dashboard_in_headless_chromium(server, tmp_path):
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).is_file(), (
        f"{CHROMIUM} is missing: make test installs Debian's chromium (scripts/browser.sh)")
    base, token, admin = server
    h = {"Authorization": f"Bearer {token}"}
    info = httpx.get(f"{base}/v1/scenario", headers=h).json()
    log = httpx.get(f"{base}/v1/policy/log", headers=h).json()
    requested: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                    args=["--use-angle=swiftshader", "--enable-unsafe-swiftshader"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("request", lambda r: requested.append(r.url))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{base}/#token={token}")
        page.wait_for_selector("body[data-ready=true]", timeout=90_000)
        assert page.evaluate("location.hash") == ""  # the token left the address bar

        # first frame: the scenario start
        first = page.get_attribute("body", "data-rendered-time")
        assert first == info["start"]
        cells = httpx.get(f"{base}/v1/cells", params={"time": first}, headers=h).json()
        assert f"{len(cells['h3_cell'])} cells" in page.inner_text("#status")

        # move the slider with the keyboard: 30 steps of the scenario's step
        page.focus("#time-slider")
        for _ in range(30):
            page.keyboard.press("ArrowRight")
        times = page.evaluate("leotwin.times")
        page.wait_for_selector(f"body[data-rendered-time='{times[30]}']", timeout=60_000)
        t = times[30]
        assert page.input_value("#time-slider") == "30"
        assert page.inner_text("#time-label") == t

        # click a denied terminal where the map draws it; its reasons are the API's
        decided = httpx.get(f"{base}/v1/terminals-decisions", params={"time": t},
                            headers=h).json()
        denied = next(x for x in decided if not x["allowed"])
        assert denied["reasons"]
        page.wait_for_function("leotwin.map.loaded() && leotwin.map.queryRenderedFeatures("
                               "{layers: ['terminals']}).length > 0", timeout=30_000)
        x, y = page.evaluate(
            """([lon, lat]) => { const p = leotwin.map.project([lon, lat]);
                const r = leotwin.map.getCanvas().getBoundingClientRect();
                return [r.left + p.x, r.top + p.y]; }""",
            [denied["lon_deg"], denied["lat_deg"]])
        page.mouse.click(x, y)
        page.wait_for_function("document.querySelector('#terminal-info b')?.textContent === "
                               f"'{denied['terminal_id']}'", timeout=10_000)
        shown = page.locator("#terminal-info .reason").all_inner_texts()
        assert shown == denied["reasons"]
        assert page.inner_text("#terminal-info .decision") == "denied"

        # its RTT series is drawn as in the API's answer
        page.wait_for_selector("#rtt-chart[data-points]", timeout=60_000)
        rtt = httpx.get(f"{base}/v1/rtt", headers=h, params={
            "terminal_id": denied["terminal_id"], "start": t, "duration": "30m",
            "step": "15s"}).json()
        drawn = int(page.get_attribute("#rtt-chart", "data-points"))
        assert drawn == sum(v is not None for v in rtt["rtt_ms"])

        # the policy log lists every entry and shows the refused ones as refused
        assert page.locator("#policy-log li").count() == len(log)
        refused = [e for e in log if e["decision"] == "refused"]
        assert refused and page.locator("#policy-log li.refused").count() == len(refused)

        # a what-if request on the scenario's clock, granted an hour after the time it asked
        # for: shown only with "what-if" ticked, with both times
        ha = {"Authorization": f"Bearer {admin}"}
        asked = info["start"]
        r = httpx.post(f"{base}/v1/policy/requests", headers=ha, json={
            "change": {"speed_cap": {"region": "UA", "max_kmh": 130}}, "reason": "what if",
            "what_if": True, "effective_at": asked}).json()
        decided = httpx.post(f"{base}/v1/policy/requests/{r['id']}/decision", headers=ha,
                             json={"decision": "granted", "reason": "ok",
                                   "decided_at": times[60]})
        assert decided.status_code == 200, decided.text
        page.check("#what-if")
        page.wait_for_function(f"document.querySelectorAll('#policy-log li').length === "
                               f"{len(log) + 1}", timeout=10_000)
        entry = page.locator("#policy-log li", has_text="what if")
        assert "asked for " + asked[:16].replace("T", " ") in entry.inner_text()
        assert entry.get_attribute("data-effective").startswith(times[60][:16])
        page.select_option("#log-view", "requested")
        page.wait_for_function("[...document.querySelectorAll('#policy-log li')].some(li => "
                               f"li.textContent.includes('what if') && li.dataset.effective "
                               f"=== '{asked}')", timeout=10_000)
        page.uncheck("#what-if")
        page.wait_for_function(f"document.querySelectorAll('#policy-log li').length === "
                               f"{len(log)}", timeout=10_000)

        # the map really drew the layers (WebGL in SwiftShader)
        drawn_sats = page.evaluate("leotwin.map.queryRenderedFeatures("
                                   "{layers: ['satellites']}).length")
        assert drawn_sats > 0
        shot = tmp_path / "dashboard.png"
        page.screenshot(path=str(shot))
        assert shot.stat().st_size > 10_000
        browser.close()
    assert not errors, errors
    foreign = [u for u in requested
               if not (u.startswith(base + "/") or u.startswith(("data:", "blob:")))]
    assert not foreign, f"the page asked for non-local URLs: {foreign[:5]}"
    assert any(u.endswith("/vendor/maplibre-gl.js") for u in requested)
