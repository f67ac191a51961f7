"""Declared config trees: TOML in, typed msgspec Structs out, every mistake reported.

msgspec stops at the first error; an installer fixing a config wants all of them at
once, with the key path (Frigate's ``--validate-config`` habit). So `check_tree`
walks the declared types and collects one `Problem` per bad key, and only a config
without problems is converted for real.

Each schema field is ``Annotated[type, Meta(description=…, ge=…, le=…)]``; a test
walks every tree and fails on a key without a description.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import msgspec
from msgspec import inspect as mi

T = TypeVar("T", bound=msgspec.Struct)


@dataclass(frozen=True)
class Problem:
    """One mistake in a config file, at a dotted key path."""

    path: str
    message: str

    def render(self, file: str) -> str:
        """The `file: key.path: message` line shown to a person."""
        return f"{file}: {self.path or '(top)'}: {self.message}"


class ConfigError(Exception):
    """A config file that cannot be used; carries every problem found."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        super().__init__("\n".join(p.render(file) for p in problems))


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning I/O and syntax errors into ConfigError."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(str(path), [Problem("", "file not found")]) from None
    except OSError as exc:
        raise ConfigError(str(path), [Problem("", f"cannot read: {exc.strerror}")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [Problem("", f"not valid TOML: {exc}")]) from None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _leaf_message(exc: msgspec.ValidationError, value: Any) -> str:
    msg = str(exc).split(" - at `", 1)[0]
    msg = msg[0].lower() + msg[1:] if msg else msg
    if "got" not in msg:
        msg = f"{msg}, got {_describe(value)}"
    return msg


def _struct_fields(cls: type) -> Iterator[msgspec.structs.FieldInfo]:
    yield from msgspec.structs.fields(cls)


def _tagged_choices(info: mi.Type) -> dict[str, type] | None:
    """For a union of tagged Structs: {tag value: Struct class}; else None."""
    if not isinstance(info, mi.UnionType):
        return None
    choices: dict[str, type] = {}
    for member in info.types:
        if not isinstance(member, mi.StructType) or member.tag is None:
            return None
        choices[str(member.tag)] = member.cls
    return choices


def check_tree(value: Any, annotation: Any, path: str = "") -> list[Problem]:
    """Every problem in `value` against the declared type `annotation`."""
    info = _unwrap(mi.type_info(annotation))
    if isinstance(info, mi.StructType):
        return _check_struct(value, info, path)
    if isinstance(info, mi.ListType) and isinstance(value, list):
        problems = _check_leaf(value, annotation, path, shallow=True)
        for i, item in enumerate(value):
            problems += check_tree(item, _item_annotation(annotation), f"{path}[{i}]")
        return problems
    choices = _tagged_choices(info)
    if choices is not None:
        return _check_tagged(value, info, choices, path)
    return _check_leaf(value, annotation, path)


def _unwrap(info: mi.Type) -> mi.Type:
    """Strip the Metadata wrapper that Annotated[..., Meta(description=…)] adds."""
    while isinstance(info, mi.Metadata):
        info = info.type
    return info


def _item_annotation(annotation: Any) -> Any:
    # Annotated[list[X], Meta] -> list[X] -> X
    origin = getattr(annotation, "__origin__", None)
    metadata = getattr(annotation, "__metadata__", None)
    if metadata is not None:
        return _item_annotation(origin)
    return annotation.__args__[0]


def _check_leaf(value: Any, annotation: Any, path: str, shallow: bool = False) -> list[Problem]:
    try:
        if shallow:
            # Only the list's own constraints (length); items are checked one by one.
            mi_info = _unwrap(mi.type_info(annotation))
            if isinstance(mi_info, mi.ListType):
                if mi_info.min_length is not None and len(value) < mi_info.min_length:
                    return [Problem(path, f"expected at least {mi_info.min_length} item(s)")]
                if mi_info.max_length is not None and len(value) > mi_info.max_length:
                    return [Problem(path, f"expected at most {mi_info.max_length} item(s)")]
            return []
        msgspec.convert(value, annotation, strict=True)
    except msgspec.ValidationError as exc:
        return [Problem(path, _leaf_message(exc, value))]
    return []


def _check_tagged(
    value: Any, info: mi.UnionType, choices: dict[str, type], path: str
) -> list[Problem]:
    if not isinstance(value, dict):
        return [Problem(path, f"expected a table, got {_describe(value)}")]
    tag_field = info.types[0].tag_field
    tag = value.get(tag_field)
    if tag not in choices:
        allowed = ", ".join(sorted(choices))
        return [Problem(_join(path, tag_field), f"expected one of {allowed}, got {_describe(tag)}")]
    rest = {k: v for k, v in value.items() if k != tag_field}
    return check_tree(rest, choices[tag], path)


def _check_struct(value: Any, info: mi.StructType, path: str) -> list[Problem]:
    if not isinstance(value, dict):
        return [Problem(path, f"expected a table, got {_describe(value)}")]
    problems: list[Problem] = []
    fields = {f.encode_name: f for f in _struct_fields(info.cls)}
    for key in value:
        if key not in fields and key != info.tag_field:
            known = ", ".join(sorted(fields))
            problems.append(Problem(_join(path, key), f"unknown key (known keys: {known})"))
    for name, field in fields.items():
        if name not in value:
            if field.required:
                problems.append(Problem(_join(path, name), "required key is missing"))
            continue
        problems += check_tree(value[name], field.type, _join(path, name))
    return problems


def build(value: dict[str, Any], schema: type[T], file: str) -> T:
    """Check `value` against `schema` and convert it, or raise ConfigError."""
    problems = check_tree(value, schema)
    if problems:
        raise ConfigError(file, problems)
    try:
        return msgspec.convert(value, schema, strict=True)
    except msgspec.ValidationError as exc:  # cross-field checks in __post_init__
        raise ConfigError(file, [Problem(_path_of(exc), str(exc).split(" - at `")[0])]) from None


def _path_of(exc: msgspec.ValidationError) -> str:
    text = str(exc)
    if " - at `$" in text:
        return text.split(" - at `$", 1)[1].rstrip("`").lstrip(".")
    return ""


def undescribed_keys(schema: type, path: str = "") -> list[str]:
    """Key paths in a schema that lack a description (used by a test)."""
    missing: list[str] = []
    for field in _struct_fields(schema):
        key = _join(path, field.encode_name)
        metas = getattr(field.type, "__metadata__", ())
        if not any(isinstance(m, msgspec.Meta) and m.description for m in metas):
            missing.append(key)
        info = _unwrap(mi.type_info(field.type))
        for nested in _nested_structs(info):
            missing += undescribed_keys(nested, key)
    return missing


def _nested_structs(info: mi.Type) -> list[type]:
    info = _unwrap(info)
    if isinstance(info, mi.StructType):
        return [info.cls]
    if isinstance(info, mi.ListType):
        return _nested_structs(info.item_type)
    if isinstance(info, mi.UnionType):
        return [c for t in info.types for c in _nested_structs(t)]
    return []


# --- secrets ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SecretResolver:
    """Finds secret files: absolute paths, then $CREDENTIALS_DIRECTORY, then the config's dir."""

    config_dir: Path
    credentials_dir: Path | None = None

    @classmethod
    def from_environ(
        cls, config_file: Path, environ: dict[str, str] | None = None
    ) -> SecretResolver:
        """Resolver for a config file, honouring systemd's $CREDENTIALS_DIRECTORY."""
        env = os.environ if environ is None else environ
        creds = env.get("CREDENTIALS_DIRECTORY")
        return cls(Path(config_file).resolve().parent, Path(creds) if creds else None)

    def candidates(self, name: str) -> list[Path]:
        """Where a secret called `name` may live, in order."""
        p = Path(name)
        if p.is_absolute():
            return [p]
        found = [self.credentials_dir / p] if self.credentials_dir else []
        return [*found, self.config_dir / p]

    def locate(self, name: str) -> Path | None:
        """The first existing candidate file, or None."""
        return next((c for c in self.candidates(name) if c.is_file()), None)

    def read(self, name: str) -> bytes:
        """The secret's bytes, stripped of a trailing newline; raises FileNotFoundError."""
        path = self.locate(name)
        if path is None:
            raise FileNotFoundError(name)
        return path.read_bytes().rstrip(b"\r\n")

    def problem(self, name: str, key_path: str) -> Problem | None:
        """A Problem if the secret is missing, unreadable or empty."""
        path = self.locate(name)
        if path is None:
            looked = ", ".join(str(c) for c in self.candidates(name))
            return Problem(key_path, f"secret file not found (looked in {looked})")
        try:
            if not path.read_bytes().strip():
                return Problem(key_path, f"secret file {path} is empty")
        except OSError as exc:
            return Problem(key_path, f"secret file {path} cannot be read: {exc.strerror}")
        return None


def load(
    file: Path,
    schema: type[T],
    *,
    secrets: SecretResolver | None = None,
    extra_checks: Callable[[T, SecretResolver], list[Problem]] | None = None,
) -> T:
    """Read, check and convert a TOML config; run cross-checks (secrets, references)."""
    data = read_toml(file)
    config = build(data, schema, str(file))
    if extra_checks is not None:
        resolver = secrets or SecretResolver.from_environ(file)
        problems = extra_checks(config, resolver)
        if problems:
            raise ConfigError(str(file), problems)
    return config
