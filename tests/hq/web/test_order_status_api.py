"""`GET /api/v1/orders/{id}/status`: the web shop's track & trace, in the kiosk's words."""

from __future__ import annotations

from litestar.testing import TestClient

from edge.identity import Pseudonymiser
from hq.db import Db
from hq.imports.stores import parse_store
from hq.orders import OrderRules, accept

KEYS = Pseudonymiser({"k1": b"chain key one"}, "k1")
RULES = OrderRules(KEYS)
CARD = "2000000000012"


def test_order_status_for_the_web_shop(sqlite_hq):
    hq = sqlite_hq
    hq.writer.import_stores(
        [parse_store({"store": s, "name": s, "timezone": "Europe/Amsterdam",
                      "hours": "mon-sun 09:00-18:00"}, 1) for s in ("s1", "s2")],
        "2026-12-01T00:00:00.000Z",
    )  # fmt: skip
    order = {"order_id": "W-1", "store": "s2", "lines": "SKU-1:1|SKU-2:2", "first_name": "Cor",
             "promised_at": "2026-12-04T15:00:00Z", "code": "TPO-A1", "loyalty_number": CARD}  # fmt: skip
    assert [o.result for o in accept(Db(hq.writer), [order], RULES)] == ["imported"]
    with TestClient(hq.app()) as client:
        url = "/api/v1/orders/W-1/status"
        assert client.get(url).status_code == 401
        everything = hq.bearer(hq.token_all)
        nl = client.get(url, headers=everything)
        assert nl.status_code == 200, nl.text
        body = nl.json()
        assert (body["store"], body["state"], body["lines_total"]) == ("s2", "preparing", 2)
        assert body["text"] == "We maken je bestelling klaar"
        en = client.get(f"{url}?lang=en", headers=everything).json()
        assert en["text"] == "We're getting your order ready"
        # Nothing personal: no pick-up code, first name, card or pseudonym.
        for secret in ("TPO-A1", "Cor", CARD, KEYS.pseudonym("loyalty", CARD)[0]):
            assert secret not in nl.text
        assert client.get(url, headers=hq.bearer(hq.token_s1)).status_code == 403
        assert client.get("/api/v1/orders/W-9/status", headers=everything).status_code == 404
        assert client.get(f"{url}?lang=fr", headers=everything).status_code == 400
