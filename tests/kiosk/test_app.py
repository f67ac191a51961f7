"""Pilot tests of the kiosk's flows, on the real app built by the factory, a real store DB."""

from __future__ import annotations

import pytest
from textual.command import CommandPalette
from textual.widgets import Input

from edge.db import connect
from edge.events import decode_data
from kiosk.core.recognition import ProfileSummary
from kiosk.screens.attract import AttractScreen
from kiosk.screens.confirm import ConfirmScreen
from kiosk.screens.countdown import CountdownScreen
from kiosk.screens.order import OrderScreen
from kiosk.screens.product import ProductScreen
from kiosk.screens.search import SearchScreen
from tests.kiosk.app_support import SIZE, FakeClock, make_kiosk, run, screen_text, settle


def events(kiosk, type_=None):
    kiosk.eventlog.flush()
    conn = connect(kiosk.eventlog.path)
    rows = conn.execute("SELECT type, data FROM events ORDER BY seq").fetchall()
    conn.close()
    return [decode_data(t, d) for t, d in rows if type_ is None or t == type_]


async def type_on_screen(pilot, app, text: str) -> None:
    """Type with the on-screen keyboard, as a shopper on a touch screen does."""
    for ch in text:
        label = {" ": "␣"}.get(ch, ch)
        keys = [k for k in app.screen.query("Button.key") if k.key_char == label]
        await pilot.click(keys[0])
    await settle(pilot, app)


async def search_for(pilot, app, text: str) -> None:
    if isinstance(app.screen, AttractScreen):
        await pilot.click("#start-search")
        await settle(pilot, app)
    await type_on_screen(pilot, app, text)


@pytest.fixture
def kiosk(tmp_path):
    k = make_kiosk(tmp_path)
    yield k
    k.close()


def test_search_product_order_nps(kiosk):
    app = kiosk.app

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            assert "Scan je pas of zoek" in screen_text(app)
            await search_for(pilot, app, "makita")
            text = screen_text(app)
            assert "Makita accu boormachine" in text and "€ 64,99" in text
            assert "Hier op voorraad" in text
            await pilot.click("Button.product")
            await settle(pilot, app)
            assert isinstance(app.screen, ProductScreen)
            text = screen_text(app)
            # Real, low stock (2 < 5): the honest note; other store and online too.
            assert "Nog 2 op voorraad in deze winkel" in text
            assert "In winkel ams-002: 1" in text and "Online: 10" in text
            await pilot.click("#order")
            await settle(pilot, app)
            assert isinstance(app.screen, OrderScreen)
            await type_on_screen(pilot, app, "anna")
            await pilot.click("#field-email")
            await type_on_screen(pilot, app, "anna@example.nl")
            await pilot.click("#place")
            await settle(pilot, app)
            assert isinstance(app.screen, ConfirmScreen)
            placed = events(kiosk, "order.placed")[0]
            assert placed.fulfilment == "pickup" and placed.pickup_store == "s1"
            assert placed.lines[0].sku == "DRILL-2" and placed.code in screen_text(app)
            assert "anna@example.nl" not in screen_text(app)
            await pilot.click("#nps-9")
            await settle(pilot, app)
            assert "Bedankt voor je antwoord!" in screen_text(app)
            await pilot.click("#done")
            await settle(pilot, app)
            assert isinstance(app.screen, AttractScreen) and app.session is None

    run(scenario())
    kinds = [e.TYPE for e in events(kiosk)]
    assert kinds[0] == "kiosk.session"
    assert {"kiosk.search", "kiosk.product_view", "order.placed", "order.contact"} <= set(kinds)
    nps = events(kiosk, "nps.response")
    assert [n.score for n in nps] == [9] and nps[0].session == events(kiosk, "order.placed")[
        0
    ].session
    end = events(kiosk, "kiosk.session")[-1]
    assert end.action == "end" and end.reason == "order_done"
    assert events(kiosk, "kiosk.search")[0].query == "makita"


def test_bad_details_are_marked_not_ordered(kiosk):
    app = kiosk.app

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            await search_for(pilot, app, "makita")
            await pilot.click("Button.product")
            await settle(pilot, app)
            await pilot.click("#order")
            await settle(pilot, app)
            await pilot.click("#how-delivery")
            await pilot.click("#place")
            await settle(pilot, app)
            assert isinstance(app.screen, OrderScreen)
            assert "Controleer de gemarkeerde velden." in screen_text(app)
            assert app.screen.query_one("#field-postcode").has_class("invalid")

    run(scenario())
    assert events(kiosk, "order.placed") == []


def test_sold_out_here_offers_an_alternative(kiosk):
    app = kiosk.app

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            await search_for(pilot, app, "bosch")
            await pilot.click("Button.product")
            await settle(pilot, app)
            text = screen_text(app)
            assert "Uitverkocht in deze winkel" in text and "Nog " not in text
            assert "In plaats daarvan verkrijgbaar:" in text
            alternative = app.screen.query("Button.product").first()
            assert alternative.sku == "DRILL-3"  # head office's pick, in stock here
            await pilot.click(alternative)
            await settle(pilot, app)
            assert app.screen.page.product.sku == "DRILL-3"
            assert "Op voorraad in deze winkel: 12" in screen_text(app)

    run(scenario())


def test_typo_finds_the_product(kiosk):
    app = kiosk.app

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            await search_for(pilot, app, "boormachien")
            text = screen_text(app)
            assert "Resultaten voor: boormachine" in text and "Bosch boormachine" in text

    run(scenario())


def test_paging_with_buttons(tmp_path):
    kiosk = make_kiosk(tmp_path, kiosk="page_size = 3")
    app = kiosk.app

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            await search_for(pilot, app, "gereedschap")
            first = [b.sku for b in app.screen.query("Button.product")]
            assert len(first) == 3 and not app.screen.query_one("#next").disabled
            await pilot.click("#next")
            await settle(pilot, app)
            second = [b.sku for b in app.screen.query("Button.product")]
            assert len(second) == 1 and not set(first) & set(second)
            await pilot.click("#prev")
            await settle(pilot, app)
            assert [b.sku for b in app.screen.query("Button.product")] == first

    run(scenario())
    kiosk.close()


class Consented:
    """Stands in for head office in the screen tests: answers for one consented shopper
    (the real lookup through mosquitto and `hq run`: test_recognition_e2e.py)."""

    def __init__(self, pseudonym: str, profile: ProfileSummary) -> None:
        self.pseudonym, self.profile = pseudonym, profile

    def lookup(self, pseudonym, key_id, timeout_s):
        return self.profile if pseudonym == self.pseudonym else None


def test_idle_wipe_leaves_nothing_personal(tmp_path):
    from edge.identity import Pseudonymiser
    from tests.edge.agent_support import CHAIN_KEY

    card = "2123456789010"
    pseudonym = Pseudonymiser({"k1": CHAIN_KEY}, "k1").pseudonym("loyalty", card)[0]
    clock = FakeClock()
    kiosk = make_kiosk(
        tmp_path,
        kiosk="idle_s = 60\ncountdown_s = 15",
        recognition=Consented(
            pseudonym,
            ProfileSummary("Anna", wishlist=("JACKET-1",), recently_viewed=("DRILL-3",)),
        ),
        clock=clock,
    )
    app = kiosk.app
    from kiosk.messages import ScanRead

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            app.post_message(ScanRead(card, "ean13", 0.0))
            await settle(pilot, app)
            assert "Welkom terug, Anna!" in screen_text(app)
            text = screen_text(app)
            assert "Je verlanglijst" in text and "Regenjas Noord blauw" in text
            assert "Onlangs bekeken" in text and "Einhell klopboormachine" in text
            await pilot.click("Button.product")
            await settle(pilot, app)
            await pilot.click("#order")
            await settle(pilot, app)
            await type_on_screen(pilot, app, "anna")
            clock.advance(59)
            await pilot.pause(0.3)
            assert not isinstance(app.screen, CountdownScreen)
            clock.advance(1)
            await pilot.pause(0.3)
            assert isinstance(app.screen, CountdownScreen)
            assert "over 15 seconden gewist" in screen_text(app)
            clock.advance(14)
            await pilot.pause(0.3)
            assert isinstance(app.screen, CountdownScreen)
            clock.advance(1)
            await pilot.pause(0.3)
            await settle(pilot, app)
            assert isinstance(app.screen, AttractScreen)
            assert len(app.screen_stack) == 2 and app.session is None
            # Nothing personal anywhere on screen or in any input still mounted.
            text = screen_text(app)
            assert "Anna" not in text and "Regenjas" not in text and "Einhell" not in text
            assert all(not i.value for i in app.query(Input))

    run(scenario())
    end = events(kiosk, "kiosk.session")[-1]
    assert end.reason == "idle" and end.identified
    assert card not in repr(events(kiosk))
    kiosk.close()


def test_a_tap_during_the_countdown_keeps_the_session(tmp_path):
    clock = FakeClock()
    kiosk = make_kiosk(tmp_path, clock=clock)
    app = kiosk.app

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            await search_for(pilot, app, "jas")
            clock.advance(61)
            await pilot.pause(0.3)
            assert isinstance(app.screen, CountdownScreen)
            await pilot.click("#still-here")
            await settle(pilot, app)
            assert isinstance(app.screen, SearchScreen) and app.session is not None
            assert app.screen.query_one("#query", Input).value == "jas"

    run(scenario())
    kiosk.close()


def test_language_switch_for_the_session_only(kiosk):
    app = kiosk.app

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            assert "Scan je pas of zoek" in screen_text(app)
            await pilot.click("#language")
            await settle(pilot, app)
            assert "Scan your card or search" in screen_text(app)
            await search_for(pilot, app, "makita")
            assert "In stock here" in screen_text(app) and "€64.99" in screen_text(app)
            await pilot.click("#start-over")
            await settle(pilot, app)
            assert isinstance(app.screen, AttractScreen)
            assert "Scan je pas of zoek" in screen_text(app)  # back to the store's language
            # Switched on the attract screen and left: the idle wipe restores Dutch.
            await pilot.click("#language")
            await settle(pilot, app)
            assert "Scan your card or search" in screen_text(app)
            app.clock.advance(80)
            await pilot.pause(0.5)
            await settle(pilot, app)
            assert isinstance(app.screen, AttractScreen)
            assert "Scan je pas of zoek" in screen_text(app)

    run(scenario())


def test_no_quit_key_and_no_command_palette_in_shopper_mode(kiosk):
    app = kiosk.app

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            for key in ("ctrl+q", "ctrl+c", "ctrl+p", "escape"):
                await pilot.press(key)
                await settle(pilot, app)
            assert app.is_running and isinstance(app.screen, AttractScreen)
            assert not any(isinstance(s, CommandPalette) for s in app.screen_stack)
            assert app._notifications._notifications == {}  # no Textual "press … to quit" hint

    run(scenario())


def test_a_failing_worker_gets_a_friendly_word_not_a_crash(kiosk):
    app = kiosk.app

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            await pilot.click("#start-search")
            await settle(pilot, app)
            kiosk.service.conn.close()  # the database goes away under the kiosk
            await type_on_screen(pilot, app, "makita")
            assert app.is_running and isinstance(app.screen, SearchScreen)
            messages = [n.message for n in app._notifications._notifications.values()]
            assert "Sorry, er ging iets mis. Probeer het nog eens." in messages

    run(scenario())
