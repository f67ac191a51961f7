"""Kiosk screens, one module each."""
