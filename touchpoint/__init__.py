"""touchpoint-edge: in-store touchpoint edge system (door counters, scanners, kiosk, MQTT sync)."""

__version__ = "0.1.0"
