"""Serial device emulators on ptys, for tests and `make demo`: real bytes, injectable faults."""
