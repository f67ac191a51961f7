"""Recognition lookups through mosquitto on exactly the generated config and access rules.

A store's kiosk logs in as `{store}-kiosk`: it may publish only its store's
`up/lookup` and read only its `down/lookup/#`. Head office's lookup responder logs in
as `{hq user}-lookup`: it joins `$share/hq/…/up/lookup` and writes `down/lookup/…`,
nothing else. The kiosk's connection never knocks the store agent off the broker.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator

import pytest

from sync import wire
from tests.sync.broker_peer import Peer
from tests.sync.test_broker_security import (
    NOT_AUTHORIZED,
    QUIET_S,
    A,
    B,
    Broker,
    accepted,
    generated_broker,
    online,
    topic,
)

KIOSK_A, KIOSK_B = f"{A}-kiosk", f"{B}-kiosk"
REQUEST = wire.encode(
    wire.LookupRequest(v=1, req="req-00001", key_id="k1", pseudonym="a" * 64, sent_at="")
)
REPLY = wire.encode(wire.LookupReply(v=1, req="req-00001", known=False))


@pytest.fixture(scope="module")
def broker() -> Iterator[Broker]:
    """The generated broker for stores A and B (so kiosks A and B) and HQ user `hq`."""
    with generated_broker() as running:
        yield running


@pytest.fixture
def peers() -> Iterator[list[Peer]]:
    made: list[Peer] = []
    yield made
    for peer in made:
        peer.close()


def test_the_kiosk_writes_only_its_lookup_requests(broker, peers):
    kiosk = online(peers, broker.peer(KIOSK_A, KIOSK_A))
    assert accepted(kiosk.publish(topic(A, "up/lookup"), REQUEST))
    for forged in (
        topic(A, "up/events"),  # it cannot forge the store's events or state
        topic(A, "up/state"),
        topic(A, "up/lookup/extra"),
        topic(B, "up/lookup"),  # nor ask as another store
        topic(A, "down/lookup/req-00001"),  # nor answer itself
        "$CONTROL/dynamic-security/v1",
    ):
        assert kiosk.publish(forged, REQUEST).value == NOT_AUTHORIZED, forged


def test_the_kiosk_reads_only_its_lookup_replies(broker, peers):
    kiosk = online(peers, broker.peer(KIOSK_A, KIOSK_A))
    assert kiosk.subscribe(topic(A, "down/lookup/#"))[0].value == 1
    for filt in (
        topic(A, "down/#"),  # not the store's acks, commands, catalog or orders
        topic(A, "down/ack"),
        topic(B, "down/lookup/#"),
        topic(A, "up/lookup"),  # nor other kiosks' requests
        "$share/hq/touchpoint/v1/+/up/lookup",
        "#",
    ):
        [reason] = kiosk.subscribe(filt)
        assert reason.is_failure and reason.value == NOT_AUTHORIZED, filt


def test_request_reaches_the_lookup_responder_and_its_reply_only_that_kiosk(broker, peers):
    responder = online(peers, broker.peer("hq-lookup", "hq-lookup"))
    assert responder.subscribe("$share/hq/touchpoint/v1/+/up/lookup")[0].value == 1
    kiosk_a = online(peers, broker.peer(KIOSK_A, KIOSK_A))
    kiosk_b = online(peers, broker.peer(KIOSK_B, KIOSK_B))
    for k, store in ((kiosk_a, A), (kiosk_b, B)):
        assert k.subscribe(topic(store, "down/lookup/#"))[0].value == 1

    assert accepted(kiosk_a.publish(topic(A, "up/lookup"), REQUEST))
    got = responder.next_message()
    assert (got.topic, got.payload) == (topic(A, "up/lookup"), REQUEST)
    assert accepted(responder.publish(topic(A, "down/lookup/req-00001"), REPLY))
    assert kiosk_a.next_message().payload == REPLY
    with pytest.raises(queue.Empty):
        kiosk_b.next_message(QUIET_S)

    # The responder has nothing else: no batches, no acks, no other share group.
    for filt in (
        "$share/hq/touchpoint/v1/+/up/events",
        "touchpoint/v1/+/up/state",
        "$share/other/touchpoint/v1/+/up/lookup",
    ):
        assert responder.subscribe(filt)[0].value == NOT_AUTHORIZED, filt
    assert responder.publish(topic(A, "down/ack"), b"{}").value == NOT_AUTHORIZED
    assert responder.publish(topic(A, "feed/day"), b"{}").value == NOT_AUTHORIZED


def test_the_kiosk_connection_leaves_the_store_agent_connected(broker, peers):
    agent = online(peers, broker.peer(A, A))
    assert agent.subscribe(topic(A, "down/#"))[0].value == 1
    # The kiosk even claims the agent's client id: the broker makes it its own user.
    online(peers, broker.peer(KIOSK_A, A))
    hq = online(peers, broker.peer("hq", "hq"))
    assert accepted(hq.publish(topic(A, "down/cmd"), b"still here?"))
    assert agent.next_message().payload == b"still here?"
    assert agent.disconnects == []
