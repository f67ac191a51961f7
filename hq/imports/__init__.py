"""Head-office imports: stores, profiles and transactions from CSV or JSONL (docs/imports.md)."""
