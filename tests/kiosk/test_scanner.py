"""The kiosk's own scanner on a pty: product, loyalty card, pick-up and bad codes."""

from __future__ import annotations

import time

import pytest

from edge.identity import Pseudonymiser
from kiosk.core.recognition import ProfileSummary
from kiosk.screens.pickup import PickupScreen
from kiosk.screens.product import ProductScreen
from kiosk.screens.search import SearchScreen
from tests.edge.agent_support import CHAIN_KEY
from tests.kiosk.app_support import (
    SIZE,
    kiosk_scanner_device,
    make_kiosk,
    run,
    screen_text,
    settle,
    wait_for,
)
from tests.kiosk.test_app import Consented, events

CARD = "2123456789010"
PSEUDONYM = Pseudonymiser({"k1": CHAIN_KEY}, "k1").pseudonym("loyalty", CARD)[0]


def kiosk_with_scanner(tmp_path, emu, recognition=None):
    devices = kiosk_scanner_device(emu.path)
    return make_kiosk(
        tmp_path, kiosk='scanner = "scan-kiosk"', devices=devices, recognition=recognition
    )


def test_product_barcode_opens_the_product_within_100ms(tmp_path, emulator):
    kiosk = kiosk_with_scanner(tmp_path, emulator)
    app = kiosk.app
    latencies = []

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            assert emulator.wait_connected(5)
            for gtin, sku in (("4006381333931", "DRILL-1"), ("8711111111111", "JACKET-1")):
                t0 = time.monotonic()
                emulator.scan(gtin, "]E0")
                shown = await wait_for(
                    pilot,
                    lambda sku=sku: (
                        isinstance(app.screen, ProductScreen) and app.screen.page.product.sku == sku
                    ),
                )
                latencies.append(time.monotonic() - t0)
                assert shown, f"{gtin} did not open {sku}"
                await settle(pilot, app)
                assert app.screen.page.product.sku == sku

    run(scenario())
    kiosk.close()
    print(f"scan → product page: {[round(x * 1000) for x in latencies]} ms")
    assert max(latencies) < 0.1
    scans = events(kiosk, "scan")
    assert [s.cls for s in scans] == ["gtin", "gtin"] and all(s.role == "kiosk" for s in scans)
    assert [v.sku for v in events(kiosk, "kiosk.product_view")] == ["DRILL-1", "JACKET-1"]


@pytest.mark.parametrize(
    ("recognition", "greeting"),
    [
        (None, "Welkom"),  # head office offline: generic
        (
            Consented(PSEUDONYM, ProfileSummary("Anna", wishlist=("DRILL-2",))),
            "Welkom terug, Anna!",
        ),
        (Consented("0" * 64, ProfileSummary("Bob")), "Welkom"),  # no consent: no answer
    ],
    ids=["offline", "recognised", "no-consent"],
)
def test_loyalty_card(tmp_path, emulator, recognition, greeting):
    kiosk = kiosk_with_scanner(tmp_path, emulator, recognition)
    app = kiosk.app

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            assert emulator.wait_connected(5)
            emulator.scan(CARD, "]E0")
            assert await wait_for(pilot, lambda: isinstance(app.screen, SearchScreen))
            await settle(pilot, app)
            lines = screen_text(app).splitlines()
            assert lines[0] == greeting
            if greeting == "Welkom":
                # Generic, and nothing said about why.
                assert "Je verlanglijst" not in lines and app.session.profile is None
            else:
                assert "Je verlanglijst" in lines and "Makita accu boormachine" in "\n".join(lines)

    run(scenario())
    kiosk.close()
    scan = events(kiosk, "scan")[0]
    assert scan.cls == "loyalty" and scan.pseudonym == PSEUDONYM
    assert CARD not in repr(events(kiosk))


def test_pickup_code_and_bad_code(tmp_path, emulator):
    kiosk = kiosk_with_scanner(tmp_path, emulator)
    app = kiosk.app

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            assert emulator.wait_connected(5)
            emulator.scan("not-a-known-code")
            assert await wait_for(pilot, lambda: bool(app._notifications._notifications))
            note = next(iter(app._notifications._notifications.values()))
            assert (
                note.message
                == "Sorry, deze code kunnen we niet lezen. Probeer het nog eens of zoek."
            )
            emulator.scan("4006381333930", "]E0")  # wrong check digit: refused by the parser
            emulator.scan("TPO-7K3M9Q2D")
            assert await wait_for(pilot, lambda: isinstance(app.screen, PickupScreen))
            await settle(pilot, app)
            assert "We kunnen deze bestelling nog niet vinden" in screen_text(app)

    run(scenario())
    kiosk.close()
    assert [s.cls for s in events(kiosk, "scan")] == ["unknown", "order_code"]
