"""Snapshots of the main shopper screens, in Dutch (pytest-textual-snapshot).

Update after an intended change of the look: `pytest tests/kiosk/test_snapshots.py --snapshot-update`,
then look at the SVGs in `__snapshots__/` before committing them.
"""

from __future__ import annotations

import pytest

from tests.kiosk.app_support import SIZE, make_kiosk, settle


@pytest.fixture
def kiosk(tmp_path):
    k = make_kiosk(tmp_path)
    yield k
    k.close()


async def _search(pilot, text="boor"):
    app = pilot.app
    await settle(pilot, app)
    await pilot.click("#start-search")
    await settle(pilot, app)
    for ch in text:
        await pilot.press(ch)
    await settle(pilot, app)


def test_attract(kiosk, snap_compare):
    assert snap_compare(kiosk.app, terminal_size=SIZE, run_before=lambda p: settle(p, p.app))


def test_search_results(kiosk, snap_compare):
    assert snap_compare(kiosk.app, terminal_size=SIZE, run_before=_search)


def test_product_sold_out_with_alternatives(kiosk, snap_compare):
    async def before(pilot):
        await _search(pilot, "bosch")
        await pilot.click("Button.product")
        await settle(pilot, pilot.app)

    assert snap_compare(kiosk.app, terminal_size=SIZE, run_before=before)


def test_order_form(kiosk, snap_compare):
    async def before(pilot):
        await _search(pilot, "makita")
        await pilot.click("Button.product")
        await settle(pilot, pilot.app)
        await pilot.click("#order")
        await settle(pilot, pilot.app)
        await pilot.click("#how-delivery")
        await settle(pilot, pilot.app)

    assert snap_compare(kiosk.app, terminal_size=SIZE, run_before=before)
