"""App tokens are single-use across the store's processes: the door agent and the kiosk
share one ledger of used nonces in the store database (edge/nonces.py)."""

from __future__ import annotations

import sqlite3
import time

from edge.identity import TokenVerifier, issue_token
from edge.nonces import NonceLedger
from kiosk.core.scans import Identify, NotUnderstood


def door_verifier(db) -> tuple[TokenVerifier, NonceLedger]:
    """The agent's verifier: its own memory, its own connection to the store database."""
    ledger = NonceLedger(db)
    verifier = TokenVerifier(b"tok")
    verifier.ledger = ledger.claim
    return verifier, ledger


def test_a_token_used_at_the_door_is_refused_at_the_kiosk(make_service, kiosk_db) -> None:
    kiosk = make_service()
    door, ledger = door_verifier(kiosk_db)
    now = time.time()
    token = issue_token(b"tok", "cust-1", now)
    try:
        assert door.verify(token, now).valid
        assert kiosk.scan(token, "qr") == NotUnderstood("replayed")
        # A fresh token of the same shopper is fine.
        assert isinstance(kiosk.scan(issue_token(b"tok", "cust-1", now), "qr"), Identify)
    finally:
        ledger.close()


def test_a_token_used_at_the_kiosk_is_refused_at_the_door(make_service, kiosk_db) -> None:
    kiosk = make_service()
    now = time.time()
    token = issue_token(b"tok", "cust-1", now)
    assert isinstance(kiosk.scan(token, "qr"), Identify)
    door, ledger = door_verifier(kiosk_db)
    try:
        result = door.verify(token, now)
        assert result.reason == "replayed"
        assert door.rejected == {"replayed": 1}
        # The agent restored after a restart knows it as well (the same state rows).
        (count,) = (
            sqlite3.connect(kiosk_db)
            .execute("SELECT count(*) FROM state WHERE key LIKE 'nonce:%'")
            .fetchone()
        )
        assert count == 1
    finally:
        ledger.close()


def test_an_unwritable_ledger_leaves_the_check_to_the_process(tmp_path) -> None:
    bare = tmp_path / "bare.db"
    sqlite3.connect(bare).close()  # no state table: every claim fails
    ledger = NonceLedger(bare)
    verifier = TokenVerifier(b"tok")
    verifier.ledger = ledger.claim
    now = time.time()
    token = issue_token(b"tok", "cust-1", now)
    try:
        assert verifier.verify(token, now).valid
        assert ledger.unavailable == 1
        assert verifier.verify(token, now).reason == "replayed"  # its own memory still holds
    finally:
        ledger.close()
