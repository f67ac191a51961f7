"""Catalog search: name, brand, category and GTIN, prefix from 3 characters, typo tolerant.

Three steps, the first that finds something wins:

1. a GTIN (8 to 14 digits): the barcode index, exact then as a prefix;
2. FTS5 over name, brand and category (not the description: a shopper types what a
   product is called; the index holds only those, see edge/migrations.py m004),
   every word a prefix, ranked by bm25 with the name weighted highest (among the
   first `RANK_WINDOW` matches: a 3-letter prefix can match a third of the catalog);
3. typo tolerance: words that prefix no indexed term are replaced by their nearest
   terms (Levenshtein distance 1, or 2 for words of 6+ letters) from the FTS5
   vocabulary, read through an `fts5vocab` table and matched with rapidfuzz.

Only what SQLite 3.40 (Raspberry Pi OS Bookworm) has is used: FTS5 with the
unicode61 tokenizer and fts5vocab; no trigram `remove_diacritics`, no spellfix1.
"""

from __future__ import annotations

import bisect
import sqlite3
import unicodedata
from dataclasses import dataclass, field

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from kiosk.core.products import PRODUCT_COLUMNS, PRODUCT_FROM, Product, gtin_variants

MIN_CHARS = 3
# bm25 weights per FTS column: name, brand, category (edge/migrations.py m004).
RANK = "bm25(catalog_fts, 10.0, 6.0, 3.0)"
FUZZY_CANDIDATES = 3
RANK_WINDOW = 200
VOCAB_SQL = "SELECT term FROM temp.kiosk_vocab"


@dataclass(frozen=True)
class SearchResult:
    """One page of results; `mode` says how they were found (gtin, words, fuzzy or none)."""

    query: str
    products: list[Product]
    mode: str
    has_more: bool = False
    offset: int = 0
    corrected: tuple[str, ...] = ()


def words(text: str) -> list[str]:
    """Lower-case words without diacritics, split as the unicode61 tokenizer splits them."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    out, cur = [], []
    for ch in plain:
        if ch.isalnum():
            cur.append(ch)
        elif cur:
            out.append("".join(cur))
            cur = []
    if cur:
        out.append("".join(cur))
    return out


def _fts_phrase(word: str) -> str:
    return '"' + word.replace('"', "") + '"'


@dataclass
class Vocabulary:
    """The indexed terms, sorted (prefix tests by bisection) and grouped by length (fuzzy)."""

    terms: list[str] = field(default_factory=list)
    by_length: dict[int, list[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, conn: sqlite3.Connection) -> Vocabulary:
        """Read the FTS5 vocabulary of the searchable columns."""
        conn.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.kiosk_vocab"
            " USING fts5vocab(main, 'catalog_fts', 'row')"
        )
        terms = sorted({r[0] for r in conn.execute(VOCAB_SQL)})
        by_length: dict[int, list[str]] = {}
        for t in terms:
            by_length.setdefault(len(t), []).append(t)
        return cls(terms, by_length)

    def has_prefix(self, word: str) -> bool:
        """Whether some indexed term starts with `word`."""
        i = bisect.bisect_left(self.terms, word)
        return i < len(self.terms) and self.terms[i].startswith(word)

    def nearest(self, word: str, limit: int = FUZZY_CANDIDATES) -> list[str]:
        """Indexed terms within the allowed edit distance of `word`, closest first."""
        max_edits = 1 if len(word) < 6 else 2
        pool = [
            t
            for n in range(len(word) - max_edits, len(word) + max_edits + 1)
            for t in self.by_length.get(n, ())
        ]
        found = process.extract(
            word, pool, scorer=Levenshtein.distance, score_cutoff=max_edits, limit=limit
        )
        return [term for term, _dist, _i in sorted(found, key=lambda f: (f[1], f[0]))]


class CatalogSearch:
    """Searches the store's catalog; blocking (call it from a worker thread)."""

    def __init__(self, conn: sqlite3.Connection, *, page_size: int = 8) -> None:
        self.conn = conn
        self.page_size = page_size
        self._vocab: Vocabulary | None = None
        self._vocab_version: str | None = None

    def search(self, query: str, offset: int = 0) -> SearchResult:
        """One page of products matching `query` (nothing under 3 characters)."""
        text = query.strip()
        if len(text) < MIN_CHARS:
            return SearchResult(query, [], "none", offset=offset)
        digits = text.replace(" ", "")
        if digits.isdigit() and len(digits) >= 8:
            found = self._gtin(digits, offset)
            if found:
                return self._page(query, found, "gtin", offset)
        ws = [w for w in words(text) if w]
        if not ws:
            return SearchResult(query, [], "none", offset=offset)
        found = self._fts(" ".join(_fts_phrase(w) + "*" for w in ws), offset)
        if found:
            return self._page(query, found, "words", offset)
        fuzzy, corrected = self._fuzzy_query(ws)
        if fuzzy:
            found = self._fts(fuzzy, offset)
            if found:
                return self._page(query, found, "fuzzy", offset, corrected)
        return SearchResult(query, [], "none", offset=offset)

    def _page(
        self, query: str, rows: list, mode: str, offset: int, corrected: tuple[str, ...] = ()
    ) -> SearchResult:
        more = len(rows) > self.page_size
        products = [Product.from_row(r) for r in rows[: self.page_size]]
        return SearchResult(query, products, mode, more, offset, corrected)

    def _gtin(self, digits: str, offset: int) -> list:
        variants = gtin_variants(digits)
        marks = ", ".join("?" * len(variants))
        rows = self.conn.execute(
            f"SELECT {PRODUCT_COLUMNS} FROM {PRODUCT_FROM} WHERE c.gtin IN ({marks})"
            " ORDER BY c.sku LIMIT ? OFFSET ?",
            (*variants, self.page_size + 1, offset),
        ).fetchall()
        if rows:
            return rows
        # A GTIN typed so far: a range on the index (LIKE would not use it).
        upper = digits[:-1] + chr(ord(digits[-1]) + 1)
        return self.conn.execute(
            f"SELECT {PRODUCT_COLUMNS} FROM {PRODUCT_FROM} WHERE c.gtin >= ? AND c.gtin < ?"
            " ORDER BY c.gtin LIMIT ? OFFSET ?",
            (digits, upper, self.page_size + 1, offset),
        ).fetchall()

    def _fts(self, match: str, offset: int) -> list:
        # bm25 is computed for at most RANK_WINDOW matches: a 3-letter prefix can match
        # a third of a big catalog, and ranking all of it would cost tens of ms. Past
        # that many matches the shopper types on long before paging that far.
        # Rank and cut the page inside the subquery, so only the page's rows are
        # joined to the catalog and stock (not every ranked match).
        return self.conn.execute(
            f"SELECT {PRODUCT_COLUMNS} FROM"
            " (SELECT rowid, score FROM"
            f"  (SELECT rowid, {RANK} AS score FROM catalog_fts WHERE catalog_fts MATCH ?"
            "   LIMIT ?)"
            "  ORDER BY score LIMIT ? OFFSET ?) f"
            " JOIN catalog c ON c.rowid = f.rowid LEFT JOIN stock s ON s.sku = c.sku"
            " ORDER BY f.score",
            (match, RANK_WINDOW, self.page_size + 1, offset),
        ).fetchall()

    def _fuzzy_query(self, ws: list[str]) -> tuple[str, tuple[str, ...]]:
        vocab = self.vocabulary()
        parts: list[str] = []
        corrected: list[str] = []
        for w in ws:
            if vocab.has_prefix(w):
                parts.append(_fts_phrase(w) + "*")
                continue
            near = vocab.nearest(w) if len(w) >= 4 else []
            if not near:
                return "", ()  # a word with no near term: nothing honest to show
            corrected.append(near[0])
            parts.append("(" + " OR ".join(_fts_phrase(t) for t in near) + ")")
        if not corrected:
            return "", ()
        return " AND ".join(parts), tuple(corrected)

    def vocabulary(self) -> Vocabulary:
        """The vocabulary, reloaded when a new catalog version has been applied."""
        row = self.conn.execute("SELECT value FROM state WHERE key = 'downlink:catalog'").fetchone()
        version = row[0] if row else None
        if self._vocab is None or version != self._vocab_version:
            self._vocab = Vocabulary.load(self.conn)
            self._vocab_version = version
        return self._vocab
