"""Orders from head office to a store over a real mosquitto: `hq import orders`, the real
`hq run` (order worker), and a real store uplink whose downlink applies them."""

from __future__ import annotations

import signal

import pytest

from edge.db import open_store_db
from sync.uplink import Uplink, UplinkSettings
from tests.edge.agent_support import wait_for
from tests.hq.orders_support import (
    hq_config,
    hq_rows,
    import_orders,
    order_status,
    store_rows,
    web_order,
)
from tests.support import touchpoint_process


@pytest.fixture
def store_db(tmp_path):
    db = tmp_path / "store.db"
    open_store_db(db).close()
    return db


def uplink(broker, db) -> Uplink:
    up = Uplink(
        UplinkSettings(store="s1", db_path=db, host=broker.host, port=broker.port, boot_id="b1")
    )
    up.start()
    return up


def test_an_order_imported_while_the_store_is_offline_arrives_and_its_cancellation_too(
    mosquitto, tmp_path, store_db
):
    config = hq_config(tmp_path, mosquitto.port)
    # The store has been online once (its session at the broker holds its subscription).
    up = uplink(mosquitto, store_db)
    wait_for(lambda: up.stats.connects >= 1, what="store online")
    up.stop()
    # Imported while the store is offline and before `hq run` is up: the outbox waits.
    assert import_orders(config, web_order("W-1"), web_order("W-2")).startswith(
        "orders: imported 2"
    )
    assert hq_rows(config, "SELECT count(*) FROM hq_order_outbox") == [(2,)]
    hq = touchpoint_process("hq", "run", "-c", str(config))
    try:
        wait_for(
            lambda: hq_rows(config, "SELECT count(*) FROM hq_order_outbox") == [(0,)],
            what="orders acknowledged by the broker",
        )
        assert store_rows(store_db, "SELECT count(*) FROM pickup_orders") == [(0,)]
        up = uplink(mosquitto, store_db)  # the store comes back
        wait_for(
            lambda: store_rows(store_db, "SELECT order_id, version, first_name FROM pickup_orders"
                               " ORDER BY order_id") == [("W-1", 1, "Anna"), ("W-2", 1, "Anna")],
            what="both orders at the store",
        )  # fmt: skip
        lines = store_rows(store_db, "SELECT line, sku, qty, state FROM pickup_lines"
                           " WHERE order_id = 'W-1' ORDER BY line")  # fmt: skip
        assert lines == [(1, "SKU-1", 1, "to_pick"), (2, "SKU-2", 1, "to_pick"),
                         (3, "SKU-3", 1, "to_pick")]  # fmt: skip
        # Cancelled at head office before anyone picked it: it reaches the store, whose
        # pickup.cancelled event comes back and ends the order at head office too.
        import_orders(config, {"order_id": "W-2", "status": "cancelled"})
        wait_for(
            lambda: store_rows(store_db, "SELECT ended, first_name FROM pickup_orders"
                               " WHERE order_id = 'W-2'") == [("cancelled", "")],
            what="the cancellation at the store",
        )  # fmt: skip
        wait_for(
            lambda: hq_rows(config, "SELECT state, ended_at IS NOT NULL FROM hq_orders"
                            " WHERE order_id = 'W-2'") == [("cancelled", 1)],
            what="the store's confirmation at head office",
        )  # fmt: skip
        assert order_status(config, "W-2") == "This order has been cancelled"
        assert order_status(config, "W-1", "nl") == "We maken je bestelling klaar"
        up.stop()
    finally:
        hq.send_signal(signal.SIGTERM)
        hq.wait(20)
