"""The store agent: config, store database, event schemas, supervisor, visits, identity and status."""
