"""Staff PINs on a real store database: scrypt hashes, the persisted 5-try lockout."""

from __future__ import annotations

import pytest

from edge.db import connect, open_store_db
from kiosk.core.staff import Locked, SignedIn, StaffError, StaffRegistry, WrongPin

KEY = b"test-chain-key-0123456789"


def registry(db):
    open_store_db(db).close()
    return StaffRegistry(connect(db), key=KEY, store="s1")


def test_pins_are_hashed_and_sign_in_gives_a_pseudonym(tmp_path):
    staff = registry(tmp_path / "store.db")
    staff.add("Noor", "4821", "t")
    staff.add("Daan", "77331", "t")
    stored = staff.conn.execute("SELECT pin_hash FROM staff WHERE name = 'Noor'").fetchone()[0]
    assert stored.startswith("scrypt$") and "4821" not in stored
    result = staff.sign_in("4821", 1000.0, "t")
    assert isinstance(result, SignedIn) and result.name == "Noor"
    assert len(result.pseudonym) == 16 and "Noor" not in result.pseudonym
    assert staff.names() == ["Daan", "Noor"]
    with pytest.raises(StaffError, match="another staff member"):
        staff.add("Sem", "77331", "t")
    with pytest.raises(StaffError, match="4 to 8 digits"):
        staff.add("Sem", "12a4", "t")


def test_five_wrong_pins_lock_for_five_minutes_across_restarts_and_terminals(tmp_path):
    db = tmp_path / "store.db"
    staff = registry(db)
    staff.add("Noor", "4821", "t")
    results = [staff.sign_in("0000", 1000.0 + i, "t") for i in range(5)]
    assert results[:4] == [WrongPin(4), WrongPin(3), WrongPin(2), WrongPin(1)]
    assert results[4] == Locked(300)
    # A restart (a new connection) and another terminal find the lock: the right PIN too.
    other = registry(db)
    assert other.sign_in("4821", 1100.0, "t") == Locked(204)
    assert isinstance(other.sign_in("4821", 1305.0, "t"), SignedIn)
    # A good PIN resets the count of wrong ones.
    assert staff.sign_in("1111", 1306.0, "t") == WrongPin(4)
