"""Kiosk widgets: on-screen keyboard, header, product buttons, QR code."""
