"""Staff mode through Pilot on the real kiosk: PIN and lockout, the queue, picking with a
short line, check-in highlight, hand-over with the code, a race told, idle sign-out."""

from __future__ import annotations

from textual.widgets import Input

from kiosk.screens.staff_handover import StaffHandoverScreen
from kiosk.screens.staff_order import StaffOrderScreen
from kiosk.screens.staff_pin import StaffPinScreen
from kiosk.screens.staff_queue import StaffQueueScreen
from tests.kiosk.app_support import SIZE, FakeClock, run, screen_text, settle, wait_for
from tests.kiosk.staff_support import NOW, PIN, other_screen, staff_kiosk
from tests.pickup_support import SetClock, at, events


async def sign_in(pilot, pin=PIN, *, keypad=False):
    """Type a PIN (on the on-screen keypad, or straight into the field) and press OK."""
    app = pilot.app
    await settle(pilot, app)
    if keypad:
        digits = {str(b.label): b for b in app.screen.query(".pin-digit")}
        for digit in pin:
            await pilot.click(digits[digit])
    else:
        app.screen.query_one("#pin", Input).value = pin
    await pilot.click("#pin-ok")
    await settle(pilot, app)


def notes(app) -> list[str]:
    return [n.message for n in app._notifications._notifications.values()]


def test_pick_short_ready_checkin_and_handover(tmp_path):
    k = staff_kiosk(tmp_path)
    app = k.app

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await sign_in(pilot, "1111")
            assert "Verkeerde pincode. Nog 4 pogingen" in screen_text(app)
            await sign_in(pilot, keypad=True)
            assert isinstance(app.screen, StaffQueueScreen)
            text = screen_text(app)
            assert "Medewerker: Noor" in text
            # Sorted by promised time; W-1002 (09:00) is overdue at 10:00.
            assert text.index("TPO-1002KQ2M") < text.index("TPO-1001KQ2M")
            assert "te laat" in app.screen.query_one("#queue-0").label.plain
            await pilot.click("#queue-1")
            await settle(pilot, app)
            assert isinstance(app.screen, StaffOrderScreen)
            assert "Vak B04-2" in screen_text(app) and "Vak K12-1" in screen_text(app)
            for button in ("#line-1-picked", "#line-2-picked", "#line-3-short"):
                await pilot.click(button)
                await settle(pilot, app)
            await pilot.click("#mark-ready")
            await settle(pilot, app)
            assert "Deels klaar" in screen_text(app)
            await pilot.click("#nav-queue")
            await settle(pilot, app)
            # The shopper checks in at the kiosk (another process in the store).
            other_screen(k).checkin("TPO-1001KQ2M", "scan")
            await pilot.pause(1.3)
            await settle(pilot, app)
            row = app.screen.query_one("#queue-1")
            assert "IS ER NU" in row.label.plain and row.has_class("checked-in")
            await pilot.click("#queue-1")
            await settle(pilot, app)
            await pilot.click("#to-handover")
            await settle(pilot, app)
            assert isinstance(app.screen, StaffHandoverScreen)
            app.screen.query_one("#handover-code", Input).value = "TPO-WRONG"
            await pilot.click("#handover")
            await settle(pilot, app)
            assert "De afhaalcode hoort niet bij deze bestelling." in notes(app)
            app.screen.query_one("#handover-code", Input).value = "tpo-1001kq2m"
            # A Button ignores a click during its 0.2 s press effect: on a quiet machine
            # the first try's answer comes sooner than that.
            button = app.screen.query_one("#handover")
            assert await wait_for(pilot, lambda: not button.has_class("-active"), 5)
            await pilot.click("#handover")
            await settle(pilot, app)
            assert "Afgegeven: 2 artikel(en)." in notes(app)
            assert isinstance(app.screen, StaffQueueScreen)
            assert "Deels opgehaald" in screen_text(app)

    run(scenario())
    k.close()
    handover = events(tmp_path / "store.db", "pickup.handover")[0][1]
    assert handover["lines"] == [1, 2] and handover["partial"] is True
    assert handover["staff"] and len(handover["staff"]) == 16 and "Noor" not in str(handover)
    assert [d["state"] for _t, d in events(tmp_path / "store.db", "pickup.line")] == [
        "picked",
        "picked",
        "short",
    ]


def test_handover_without_the_missing_items_ends_the_order(tmp_path):
    k = staff_kiosk(tmp_path)
    app = k.app
    desk = other_screen(k)
    desk.set_line("W-1001", 1, "to_pick", "picked", None)
    desk.set_line("W-1001", 2, "to_pick", "picked", None)
    desk.set_line("W-1001", 3, "to_pick", "short", None)
    desk.mark_ready("W-1001", {}, None)

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await sign_in(pilot)
            await pilot.click("#queue-1")
            await settle(pilot, app)
            await pilot.click("#to-handover")
            await settle(pilot, app)
            assert isinstance(app.screen, StaffHandoverScreen)
            assert "Niet klaar: 3." in screen_text(app)
            assert "Afgeven zonder wat ontbreekt" in screen_text(app)
            app.screen.query_one("#handover-code", Input).value = "TPO-1001KQ2M"
            await pilot.click("#handover-close")
            await settle(pilot, app)
            assert "Afgegeven: 2 artikel(en)." in notes(app)
            assert isinstance(app.screen, StaffQueueScreen)
            assert "TPO-1001KQ2M" not in screen_text(app)  # the order is over
            # An order with every line ready has nothing missing: no second button.
            other = other_screen(k)
            other.set_line("W-1002", 1, "to_pick", "picked", None)
            other.mark_ready("W-1002", {}, None)
            await pilot.pause(1.3)
            await settle(pilot, app)
            await pilot.click("#queue-0")
            await settle(pilot, app)
            await pilot.click("#to-handover")
            await settle(pilot, app)
            assert not app.screen.query("#handover-close")

    run(scenario())
    k.close()
    (handover,) = [d for _t, d in events(tmp_path / "store.db", "pickup.handover")]
    assert handover["lines"] == [1, 2] and handover["partial"] is False
    assert handover["missing"] == [3]
    order = desk.order("W-1001")
    assert order.ended == "collected" and [ln.state for ln in order.lines] == [
        "collected",
        "collected",
        "put_back",
    ]


def test_a_line_changed_at_another_terminal_is_told(tmp_path):
    k = staff_kiosk(tmp_path)
    app = k.app

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await sign_in(pilot)
            await pilot.click("#queue-1")
            await settle(pilot, app)
            await pilot.click("#line-1-picked")
            await settle(pilot, app)
            # Meanwhile a colleague at the other terminal finds line 1 damaged.
            other_screen(k).set_line("W-1001", 1, "picked", "short", None)
            await pilot.click("#mark-ready")
            await settle(pilot, app)
            assert (
                "Regel 1 is net op 'Niet gevonden' gezet op een ander scherm."
                " Controleer het en probeer opnieuw." in notes(app)
            )
            assert "Niet gevonden" in screen_text(app)  # the screen shows it as it is now
            # Two terminals hand over the same order: the second is refused and told.
            other = other_screen(k)
            other.set_line("W-1002", 1, "to_pick", "picked", None)
            other.mark_ready("W-1002", {}, None)
            await pilot.click("#nav-queue")
            await settle(pilot, app)
            await pilot.click("#queue-0")
            await settle(pilot, app)
            await pilot.click("#to-handover")
            await settle(pilot, app)
            other.handover("W-1002", "TPO-1002KQ2M", [1], None)
            app.screen.query_one("#handover-code", Input).value = "TPO-1002KQ2M"
            await pilot.click("#handover")
            await settle(pilot, app)
            assert "Deze bestelling is al afgegeven op een ander scherm." in notes(app)
            assert isinstance(app.screen, StaffQueueScreen)
            assert "TPO-1002KQ2M" not in screen_text(app)

    run(scenario())
    k.close()
    ready = events(tmp_path / "store.db", "pickup.ready")
    assert [d["order"] for _t, d in ready] == ["W-1002"]  # W-1001's refused ready wrote nothing
    assert len(events(tmp_path / "store.db", "pickup.handover")) == 1


def test_pin_lockout_survives_a_restart_and_idle_signs_out(tmp_path):
    k = staff_kiosk(tmp_path)
    app = k.app

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            for _ in range(5):
                await sign_in(pilot, "0000")
            assert "de personeelsmodus is 5 min. vergrendeld" in screen_text(app)

    run(scenario())
    k.close()
    clock, wall = FakeClock(), SetClock(at(NOW))
    k = staff_kiosk(tmp_path, wall=wall, clock=clock)  # the kiosk restarted
    app = k.app

    async def restarted():
        async with app.run_test(size=SIZE) as pilot:
            await sign_in(pilot)  # the right PIN, but still locked after the restart
            assert "vergrendeld" in screen_text(app)
            wall.t += 301
            await sign_in(pilot)
            assert isinstance(app.screen, StaffQueueScreen)
            clock.advance(121)  # 2 minutes without a touch
            await pilot.pause(0.4)
            await settle(pilot, app)
            assert isinstance(app.screen, StaffPinScreen)
            assert app.staff.staff is None

    run(restarted())
    k.close()
