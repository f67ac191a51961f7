"""Who may use the head-office web app: dashboard users and API tokens, in two files.

Both are JSON files written atomically with mode 0600 (`touchpoint hq user|token …`)
and read by `hq serve`, which notices a changed file on the next request.

- users: name, scrypt hash (hashlib.scrypt, a random salt per user) and store scope;
- tokens: name, the sha256 of a random 32-byte token (the token itself is printed
  once and never stored), store scope, and rights beyond reading (`orders`: may send
  the web shop's orders, `POST /api/v1/orders`; a file without the field gives none).

A scope is a list of store ids, or null for every store (and the chain roll-up).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import msgspec

log = logging.getLogger("hq.web")

NAME_PATTERN = r"^[A-Za-z0-9_.@-]{1,64}$"
_NAME = re.compile(NAME_PATTERN)
_STORE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# scrypt cost: n=2**14, r=8 takes ~50 ms and 16 MiB here; slow enough for a KDF.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
TOKEN_PREFIX = "tpk_"
# What a token may do besides reading; users (browser sessions) never get a right.
RIGHTS = ("orders",)


class AccountError(ValueError):
    """A person's mistake (bad name, unknown user, unreadable file): the CLI exits 2."""


class User(msgspec.Struct, frozen=True, kw_only=True):
    """A dashboard user as stored: never the password, only its scrypt hash."""

    name: str
    salt: str  # hex
    hash: str  # hex scrypt(password, salt)
    n: int = SCRYPT_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P
    stores: list[str] | None = None
    created: str = ""


class Token(msgspec.Struct, frozen=True, kw_only=True):
    """An API client's token as stored: its sha256 only."""

    name: str
    sha256: str
    stores: list[str] | None = None
    rights: list[str] = msgspec.field(default_factory=list)
    created: str = ""


class UsersFile(msgspec.Struct, kw_only=True):
    """The users file."""

    v: int = 1
    users: list[User] = msgspec.field(default_factory=list)


class TokensFile(msgspec.Struct, kw_only=True):
    """The tokens file."""

    v: int = 1
    tokens: list[Token] = msgspec.field(default_factory=list)


@dataclass(frozen=True)
class Principal:
    """Who a request acts for and which stores they may see (None = all, and the chain)."""

    name: str
    kind: str  # "user" or "token"
    stores: frozenset[str] | None
    rights: frozenset[str] = frozenset()  # a token's rights beyond reading (RIGHTS)

    def may_see(self, store: str) -> bool:
        """Whether this principal's scope covers `store`."""
        return self.stores is None or store in self.stores

    @property
    def all_stores(self) -> bool:
        """Whether the scope is every store (needed for the chain roll-up)."""
        return self.stores is None


def scrypt(password: str, salt: bytes, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P):
    """The scrypt hash of a password (32 bytes)."""
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=128 * r * (n + p + 2)
    )


def token_digest(token: str) -> str:
    """The stored form of an API token."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_name(name: str) -> str:
    """A valid user or token name, else AccountError."""
    if not _NAME.match(name):
        raise AccountError(f"name {name!r} must match {NAME_PATTERN}")
    return name


def parse_stores(text: str | None) -> list[str] | None:
    """`a,b` → ['a', 'b']; empty or None → None (every store); bad ids → AccountError."""
    if not text:
        return None
    stores = sorted({s.strip() for s in text.split(",") if s.strip()})
    bad = [s for s in stores if not _STORE.match(s)]
    if bad or not stores:
        raise AccountError(f"bad store id(s) {bad}: each must match [A-Za-z0-9_-]{{1,32}}")
    return stores


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_private(path: Path, data: bytes) -> None:
    """Replace `path` atomically with `data`, mode 0600 (temp file, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _read(path: Path, kind: type):
    try:
        return msgspec.json.decode(path.read_bytes(), type=kind)
    except FileNotFoundError:
        return kind()
    except OSError as exc:
        raise AccountError(f"{path}: cannot read: {exc.strerror}") from None
    except msgspec.DecodeError as exc:
        raise AccountError(f"{path}: not a valid {kind.__name__}: {exc}") from None


def _write(path: Path, content: msgspec.Struct) -> None:
    write_private(path, msgspec.json.format(msgspec.json.encode(content), indent=1) + b"\n")


_FIELD = {UsersFile: "users", TokensFile: "tokens"}


def _put(path: Path, kind: type, record: User | Token) -> None:
    """Add `record` to a file, replacing the one of the same name."""
    data = _read(path, kind)
    field = _FIELD[kind]
    setattr(data, field, [r for r in getattr(data, field) if r.name != record.name] + [record])
    _write(path, data)


def _drop(path: Path, kind: type, name: str) -> None:
    """Delete the record called `name` (AccountError when there is none)."""
    data = _read(path, kind)
    field = _FIELD[kind]
    records = getattr(data, field)
    kept = [r for r in records if r.name != name]
    if len(kept) == len(records):
        raise AccountError(f"no {field[:-1]} {name!r} in {path}")
    setattr(data, field, kept)
    _write(path, data)


def add_user(path: Path, name: str, password: str, stores: list[str] | None) -> User:
    """Add or replace a user with a fresh salt; returns the stored record."""
    check_name(name)
    if len(password) < 8:
        raise AccountError("the password must have at least 8 characters")
    salt = secrets.token_bytes(16)
    user = User(
        name=name, salt=salt.hex(), hash=scrypt(password, salt).hex(), stores=stores, created=_now()
    )
    _put(path, UsersFile, user)
    return user


def remove_user(path: Path, name: str) -> None:
    """Delete a user (AccountError when there is none of that name)."""
    _drop(path, UsersFile, name)


def list_users(path: Path) -> list[User]:
    """The users of a file."""
    return _read(path, UsersFile).users


def add_token(
    path: Path, name: str, stores: list[str] | None, rights: list[str] | None = None
) -> str:
    """Make a new token under `name` (replacing one of that name); returns it, once."""
    check_name(name)
    unknown = sorted(set(rights or ()) - set(RIGHTS))
    if unknown:
        raise AccountError(f"unknown right(s) {unknown}: rights are {', '.join(RIGHTS)}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = Token(
        name=name,
        sha256=token_digest(token),
        stores=stores,
        rights=sorted(set(rights or ())),
        created=_now(),
    )
    _put(path, TokensFile, record)
    return token


def remove_token(path: Path, name: str) -> None:
    """Revoke a token by name."""
    _drop(path, TokensFile, name)


def list_tokens(path: Path) -> list[Token]:
    """The tokens of a file (names and scopes; the hashes are of no use to anyone)."""
    return _read(path, TokensFile).tokens


def _scope(stores: list[str] | None) -> frozenset[str] | None:
    return None if stores is None else frozenset(stores)


# A hash to spend time on for unknown user names, so timing does not tell who exists.
_DUMMY = User(name="-", salt="00" * 16, hash="00" * 32)


class Accounts:
    """The users and tokens files as `hq serve` sees them, re-read when they change."""

    def __init__(self, users_file: Path, tokens_file: Path) -> None:
        self._users_file = Path(users_file)
        self._tokens_file = Path(tokens_file)
        self._stamp: tuple = ()
        self._users: dict[str, User] = {}
        self._tokens: dict[str, Token] = {}
        self.refresh(strict=True)

    def _stat(self) -> tuple:
        out = []
        for path in (self._users_file, self._tokens_file):
            try:
                st = path.stat()
                out.append((st.st_mtime_ns, st.st_size, st.st_ino))
            except FileNotFoundError:
                out.append(None)
        return tuple(out)

    def refresh(self, strict: bool = False) -> None:
        """Re-read the files if they changed. A broken file keeps the last good copy
        (logged), except at start (`strict`), where it is an AccountError."""
        stamp = self._stat()
        if stamp == self._stamp:
            return
        try:
            users = _read(self._users_file, UsersFile).users
            tokens = _read(self._tokens_file, TokensFile).tokens
        except AccountError as exc:
            if strict:
                raise
            log.error("keeping the previous users and tokens: %s", exc)
            return
        self._users = {u.name: u for u in users}
        self._tokens = {t.sha256: t for t in tokens}
        self._stamp = stamp

    def user(self, name: str) -> Principal | None:
        """The principal of a user who (still) exists."""
        self.refresh()
        u = self._users.get(name)
        return None if u is None else Principal(u.name, "user", _scope(u.stores))

    def check_password(self, name: str, password: str) -> Principal | None:
        """The user's principal if the password is right, else None (same cost either way)."""
        self.refresh()
        u = self._users.get(name)
        stored = u or _DUMMY
        try:
            got = scrypt(password, bytes.fromhex(stored.salt), stored.n, stored.r, stored.p)
        except (ValueError, MemoryError):
            log.error("user %r has an unusable hash in %s", stored.name, self._users_file)
            return None
        if u is None or not hmac.compare_digest(got.hex(), stored.hash):
            return None
        return Principal(u.name, "user", _scope(u.stores))

    def check_token(self, token: str) -> Principal | None:
        """The principal of a bearer token, or None for an unknown one."""
        self.refresh()
        t = self._tokens.get(token_digest(token))
        if t is None:
            return None
        return Principal(t.name, "token", _scope(t.stores), frozenset(t.rights))
