"""Messages staff-mode workers post to the app (results of sign-in, loads and actions)."""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.message import Message

from edge.pickup_desk import PickupConflict
from edge.pickup_views import OrderView, PutBack
from kiosk.core.staff import SignInResult
from kiosk.core.staff_service import StoreToday


@dataclass
class StaffSignInDone(Message):
    """The PIN was checked."""

    result: SignInResult


@dataclass
class StaffQueueLoaded(Message):
    """The open orders, by promised time (`due`: only the no-shows due today)."""

    orders: list[OrderView]
    due: bool = False
    put_back: list[PutBack] = field(default_factory=list)  # with `due`: lines to shelve


@dataclass
class StaffOrderLoaded(Message):
    """One order after a load or a change; `conflict` when the change was refused."""

    order: OrderView | None
    conflict: PickupConflict | None = None
    handed_over: int = 0  # lines handed over by the action that loaded it


@dataclass
class StaffTodayLoaded(Message):
    """The store's day for "the store today"."""

    today: StoreToday


@dataclass
class StaffCodeScanned(Message):
    """A pick-up code scanned in staff mode, with its order if there is one."""

    code: str
    order: OrderView | None
