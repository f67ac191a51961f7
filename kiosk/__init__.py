"""The endless-aisle and click-&-collect kiosk (Textual)."""
