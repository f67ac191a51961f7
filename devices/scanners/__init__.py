"""Barcode and QR scanners: serial USB-CDC scanners and a camera QR reader, both → `Scan`."""
