"""A shopper checks in at the kiosk: the pick-up QR on the kiosk's pty scanner, or the code
typed on the on-screen keyboard. The status is in plain words, staff see the check-in,
and the first name leaves the screen with the session."""

from __future__ import annotations

from textual.widgets import Input

from kiosk.screens.pickup import PickupScreen
from kiosk.screens.pickup_code import PickupCodeScreen
from tests.kiosk.app_support import (
    SIZE,
    kiosk_scanner_device,
    run,
    screen_text,
    settle,
    wait_for,
)
from tests.kiosk.staff_support import other_screen, staff_kiosk
from tests.pickup_support import events


def scanner_kiosk(tmp_path, emu):
    devices = kiosk_scanner_device(emu.path, duplicate_window_ms=0)
    return staff_kiosk(tmp_path, staff_only=False, kiosk='scanner = "scan-kiosk"', devices=devices)


def test_scanned_pickup_qr_checks_in_and_staff_see_it(tmp_path, emulator):
    k = scanner_kiosk(tmp_path, emulator)
    desk = other_screen(k)  # a staff terminal in the same store
    for line in (1, 2):
        desk.set_line("W-1001", line, "to_pick", "picked", None)
    desk.set_line("W-1001", 3, "to_pick", "short", None)
    desk.mark_ready("W-1001", {}, None)
    app = k.app

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            assert emulator.wait_connected(5)
            emulator.scan("TPO-1001KQ2M")
            assert await wait_for(pilot, lambda: isinstance(app.screen, PickupScreen))
            await settle(pilot, app)
            text = screen_text(app)
            assert "Hallo Anna!" in text
            assert (
                "Een deel van je bestelling ligt klaar: 2 van 3 artikelen."
                " Bij de servicebalie tot en met zaterdag 14 juni" in text
            )
            assert "We weten dat je er bent" in text
            assert [o.order_id for o in desk.queue() if o.checked_in] == ["W-1001"]
            await pilot.click("#done")
            await settle(pilot, app)
            assert "Anna" not in screen_text(app) and app.session is None
            # Staff hand over the two ready lines; the shopper scans again on the way out.
            desk.handover("W-1001", "TPO-1001KQ2M", [1, 2], None)
            emulator.scan("TPO-1001KQ2M")
            assert await wait_for(pilot, lambda: isinstance(app.screen, PickupScreen))
            await settle(pilot, app)
            assert "Je hebt een deel van je bestelling opgehaald: 2 van 3" in screen_text(app)
            await pilot.click("#nps-9")
            await settle(pilot, app)

    run(scenario())
    k.close()
    db = tmp_path / "store.db"
    checkins = events(db, "pickup.checkin")
    assert checkins[0] == ("pickup.checkin", {"order": "W-1001", "by": "shopper", "via": "scan"})
    assert len(checkins) == 2  # the order is still open (line 3 was not found)
    nps = events(db, "nps.response")[0][1]
    assert nps["score"] == 9 and nps["touchpoint"] == "click_collect"


def test_typed_code_checks_in_and_unknown_codes_are_said_plainly(tmp_path):
    k = staff_kiosk(tmp_path, staff_only=False)
    app = k.app

    async def type_code(pilot, code, *, keyboard=True):
        await pilot.click("#collect")
        await settle(pilot, app)
        assert isinstance(app.screen, PickupCodeScreen)
        if keyboard:  # the on-screen keys type capitals: codes are in capitals
            keys = {str(b.label): b for b in app.screen.query("Button.key")}
            for ch in code.lower():
                await pilot.click(keys[ch])
        else:
            app.screen.query_one("#pickup-code", Input).value = code
        await pilot.click("#im-here")
        await settle(pilot, app)

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            await type_code(pilot, "TPO-1002KQ2M")
            assert isinstance(app.screen, PickupScreen)
            assert "We maken je bestelling klaar" in screen_text(app)
            await pilot.click("#language")
            await settle(pilot, app)
            assert "We're getting your order ready" in screen_text(app)
            await pilot.click("#done")
            await settle(pilot, app)
            await type_code(pilot, "TPO-NOPE", keyboard=False)
            assert "We kunnen deze bestelling nog niet vinden" in screen_text(app)

    run(scenario())
    k.close()
    assert events(tmp_path / "store.db", "pickup.checkin") == [
        ("pickup.checkin", {"order": "W-1002", "by": "shopper", "via": "code"})
    ]
