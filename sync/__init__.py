"""Both ends of the MQTT link: the store uplink/downlink and head office (hq)."""
