"""Head office in the browser: feed API (`/api/v1`), login and dashboard (`hq serve`)."""
