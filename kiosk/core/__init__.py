"""The kiosk's domain core: search, availability, alternatives, orders, sessions, recognition.

Plain Python over the store database; no Textual (an import-linter contract in
pyproject.toml keeps it so), so every rule here is tested without a screen.
"""
