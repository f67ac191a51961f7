"""The chain page's rankings at chain size: every store up to RANK_ALL, past that the top
and bottom RANK_EDGE with their places, a gap and a link to all of them."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import jinja2

from hq.metrics import derive
from hq.web.dashboard import RANK_ALL, RANK_EDGE, ChainPage, StoreDay
from hq.web.i18n import Texts
from hq.web.views import chain_view

TEMPLATES = Path(__file__).resolve().parents[3] / "hq" / "web" / "templates"
DAY = date(2026, 6, 1)


def _cards(n: int) -> list[StoreDay]:
    def day(visitors: int, transactions: int) -> dict:
        return derive("day", {"visitors": visitors, "transactions": transactions})

    return [
        StoreDay(f"s{i:03d}", f"Winkel {i}", DAY, day(100, 100 - i), day(90, 10), day(0, 0),
                 False, None)
        for i in range(n)
    ]  # fmt: skip


def _page(n: int, everything: bool = False) -> ChainPage:
    cards = _cards(n)
    zero = derive("day", {})
    return ChainPage(DAY, zero, zero, n, [], cards, cards, everything=everything)


def _html(chain: ChainPage) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    view = chain_view(Texts("nl"), chain)
    view.put("updated", "12:00")  # as the page handler does
    return env.get_template("chain.html").render(
        t=view.t, view=view, view_json=view.as_json(), layout=view.layout, page="chain",
        user="u", here="/chain", refresh_url="/chain?format=json", refresh_s=10,
        cards=chain.by_conversion, chain=chain,
    )  # fmt: skip


def test_a_few_stores_are_all_ranked():
    chain = _page(RANK_ALL)
    assert not chain.truncated
    assert [i for i, _ in chain.shown(chain.by_conversion)] == list(range(RANK_ALL))
    html = _html(chain)
    assert "Toon alle" not in html and 'class="gap"' not in html


def test_many_stores_show_top_and_bottom_with_their_places_and_a_link_to_all():
    n = 1000
    chain = _page(n)
    shown = chain.shown(chain.by_conversion)
    assert [i for i, _ in shown] == [*range(RANK_EDGE), *range(n - RANK_EDGE, n)]
    assert shown[-1][1].store == "s999"  # the last place is the last store
    fields = chain_view(Texts("nl"), chain).as_json()["fields"]
    assert "conv.0.store" in fields and f"conv.{n - 1}.store" in fields
    assert f"conv.{RANK_EDGE}.store" not in fields
    html = _html(chain)
    assert html.count('class="gap"') == 2 and html.count("Toon alle 1.000 winkels") == 2
    assert f'<li value="{n}">' in html and f'<li value="{RANK_EDGE + 1}">' not in html
    assert len(html) < 100_000
    everything = _page(n, everything=True)
    assert len(everything.shown(everything.by_change)) == n
    assert "Toon alle" not in _html(everything)
