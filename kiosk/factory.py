"""Builds a kiosk from a checked store config: the one place that joins its parts."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from edge.classify import classifier_from_config
from edge.clock import Clock
from edge.config import StoreConfig, kiosk_scanner
from edge.configtree import SecretResolver
from edge.eventlog import EventLog
from kiosk.app import KioskApp
from kiosk.core.mqtt_recognition import MqttRecognition
from kiosk.core.recognition import OfflineRecognition, Recognition
from kiosk.core.service import KioskService
from kiosk.core.staff_service import StaffService


@dataclass
class Kiosk:
    """The app with the event log and service it was handed; `close()` after the app ends."""

    app: KioskApp
    service: KioskService
    eventlog: EventLog
    lookups: MqttRecognition | None = None
    staff: StaffService | None = None

    def close(self) -> None:
        """Commit what the kiosk recorded, release the database, leave the broker."""
        self.service.close()
        if self.staff is not None:
            self.staff.close()
        self.eventlog.stop()
        if self.lookups is not None:
            self.lookups.close()


def recognition_from_config(cfg: StoreConfig, secrets: SecretResolver) -> MqttRecognition | None:
    """Lookups at head office on the kiosk's own broker user, when the config asks for them."""
    if not (cfg.mqtt.enabled and cfg.kiosk.recognition):
        return None
    m, pw = cfg.mqtt, cfg.kiosk.mqtt_password_file
    return MqttRecognition(
        cfg.store.id,
        host=m.host,
        port=m.port,
        password=secrets.read(pw).decode() if pw else None,
        tls=m.tls,
        ca_file=m.ca_file or None,
        keepalive_s=m.keepalive_s,
    )


def build_kiosk(
    cfg: StoreConfig,
    secrets: SecretResolver,
    *,
    recognition: Recognition | None = None,
    clock: Callable[[], float] = time.monotonic,
    with_scanner: bool = True,
    staff_only: bool = False,
    wall_clock: Clock | None = None,
) -> Kiosk:
    """The kiosk app on the store database, reading the configured kiosk scanner.

    Staff mode (behind a PIN) is on every kiosk; `staff_only` makes a staff terminal
    that never shows the shopper's screens. `wall_clock` stamps events and decides
    pick-up times (tests inject one); `clock` is the monotonic idle timer.
    """
    db = cfg.database
    lookups = None
    if recognition is None:
        lookups = recognition_from_config(cfg, secrets)
        recognition = lookups.start() if lookups is not None else OfflineRecognition()
    eventlog = EventLog(
        db.path,
        clock=wall_clock,
        commit_interval=db.commit_interval_ms / 1000,
        batch_max=db.batch_max,
        busy_timeout_ms=db.busy_timeout_ms,
    ).start()
    classifier = classifier_from_config(cfg.identity, secrets)
    service = KioskService(
        db.path,
        settings=cfg.kiosk,
        store_id=cfg.store.id,
        eventlog=eventlog,
        classifier=classifier,
        recognition=recognition,
        order_prefix=cfg.identity.order_prefix,
        busy_timeout_ms=db.busy_timeout_ms,
        tz=cfg.store.timezone,
    )
    active = next(k for k in cfg.identity.keys if k.id == cfg.identity.active_key)
    staff = StaffService(
        cfg,
        key=secrets.read(active.file),
        stamper=eventlog.stamper,
        device="staff" if staff_only else "kiosk",
    )
    scanner = None
    dev = kiosk_scanner(cfg)
    if with_scanner and dev is not None:
        from kiosk.scanner import KioskScanner

        scanner = lambda post: KioskScanner(dev, post)  # noqa: E731
    app = KioskApp(
        service,
        cfg.kiosk,
        store_name=cfg.store.name,
        clock=clock,
        scanner=scanner,
        staff=staff,
        staff_only=staff_only,
    )
    return Kiosk(app, service, eventlog, lookups, staff)
