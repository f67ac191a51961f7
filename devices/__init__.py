"""Hardware → typed readings. Pure parsers plus small readers that own a port; no SQLite, MQTT or UI."""
