"""Local ``config.json`` files: finding them, reading them within the limits, and the model id
a file's folder stands for. The Hub client (:mod:`genz_catalog.hub`) parses what it downloads
with the same :func:`parse_config_bytes`, so a file on disk and a download are checked alike.
"""

from __future__ import annotations

import functools
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from .. import limits as _limits
from ..errors import InvalidInputError, InvalidModelIdError
from .ids import validate_model_id

#: Largest config.json accepted from a file or the Hub (bytes); see :mod:`genz_catalog.limits`.
MAX_CONFIG_BYTES = _limits.MAX_CONFIG_BYTES


class ConfigTextError(InvalidInputError):
    """Why config bytes are not a config: ``kind`` is ``utf8``, ``json``, ``limit`` or
    ``shape`` (not a JSON object); callers word the message for where the bytes came from."""

    def __init__(self, kind: str, detail: str, error: Exception | None = None):
        super().__init__(detail)
        self.kind = kind
        self.error = error


def parse_config_bytes(data: bytes) -> dict[str, Any]:
    """A config.json's bytes as a dict, within :mod:`genz_catalog.limits` (depth, number
    length); raises :class:`ConfigTextError`. The size limit is the caller's: it knows the
    size before reading."""
    try:
        config = _limits.loads_config(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigTextError("utf8", "not UTF-8 text", exc) from None
    except json.JSONDecodeError as exc:
        raise ConfigTextError("json", exc.msg, exc) from None
    except InvalidInputError as exc:  # a limit (depth, number length)
        raise ConfigTextError("limit", str(exc), exc) from None
    if not isinstance(config, dict):
        raise ConfigTextError("shape", "config must be a JSON object")
    return config


def read_config_file(
    path: str | os.PathLike[str], model_id: str | None = None
) -> tuple[dict[str, Any], str]:
    """Read and check a local ``config.json`` (or a folder with one); return (config, model id).

    One ``stat`` and one read per file: the bulk import (``admin.import_config_files``) calls
    this for every file.
    """
    data, name = read_config_bytes(path)
    config = config_from_bytes(data, name)
    return config, config_model_id(config, name, model_id)


def read_config_bytes(
    path: str | os.PathLike[str], opened: OpenedConfig | None = None
) -> tuple[bytes, str]:
    """The bytes of a local ``config.json`` (or of the one in a folder) within the size limit,
    and the file's name; raises :class:`InvalidInputError` naming the problem. ``opened``: the
    same file as :func:`open_ahead` opened it, read (and closed) instead of opening it again."""
    if opened is None:
        opened = _open_config(path)
    try:
        data = _read_open_file(opened.fd, opened.size)
    except OSError as exc:
        raise InvalidInputError(f"{opened.name}: cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise InvalidInputError(
            f"{opened.name}: config is {max(opened.size, len(data))} bytes; at most "
            f"{MAX_CONFIG_BYTES} bytes are accepted"
        )
    return data, opened.name


class OpenedConfig(NamedTuple):
    """An open config file: its name (a folder's ``config.json``), its size in bytes as
    ``stat`` gave it, and the file descriptor (closed by :func:`read_config_bytes`)."""

    name: str
    size: int
    fd: int


#: Read-only, and never waiting: should the path become a FIFO after its ``stat``, opening it
#: returns at once (on a regular file O_NONBLOCK changes nothing).
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
_OPEN_FLAGS |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _open_config(path: str | os.PathLike[str]) -> OpenedConfig:
    """Open the regular file ``path``, or a folder's ``config.json``; raises
    :class:`InvalidInputError` naming the problem."""
    name = os.path.expanduser(os.fspath(path))
    try:
        found = os.stat(name)
    except FileNotFoundError:
        if os.path.islink(name):
            raise InvalidInputError(f"{path}: a symlink to a missing file") from None
        raise InvalidInputError(f"{path}: no such file or folder") from None
    except OSError as exc:
        raise InvalidInputError(f"{name}: cannot read: {exc.strerror or exc}") from None
    if stat.S_ISDIR(found.st_mode):
        folder = name
        name = os.path.join(name, "config.json")
        try:
            found = os.stat(name)
        except OSError:
            found = None
        if found is None or not stat.S_ISREG(found.st_mode):
            raise InvalidInputError(f"{folder}: folder has no config.json")
    elif not stat.S_ISREG(found.st_mode):
        # Never open a FIFO or device: reading one could block or never end.
        raise InvalidInputError(f"{path}: not a regular file")
    try:
        return OpenedConfig(name, found.st_size, os.open(name, _OPEN_FLAGS))
    except OSError as exc:
        raise InvalidInputError(f"{name}: cannot read: {exc.strerror or exc}") from None


def open_ahead(path: str | os.PathLike[str]) -> OpenedConfig | None:
    """Open the regular file ``path`` (or a folder's ``config.json``) and ask the kernel to
    start reading it into the page cache in the background (``posix_fadvise`` WILLNEED), so
    that :func:`read_config_bytes` of it a moment later does not wait on the disk. The caller
    hands the result to :func:`read_config_bytes`, which reads and closes it. None where
    ``posix_fadvise`` is missing, for anything but a regular file, and on any error (the read
    itself then opens the file and reports those).

    A bulk import's worker opens the next files of its task while it converts one
    (``admin._read_and_prepare_many``): files it had not read recently then no longer make it
    wait on the disk for each one (~50 us a file). A file is still opened once: the hint costs
    one system call.
    """
    if _FADVISE is None:
        return None
    try:
        opened = _open_config(path)
    except (InvalidInputError, ValueError):  # ValueError: a NUL in the path
        return None
    try:
        _FADVISE(opened.fd, 0, 0, os.POSIX_FADV_WILLNEED)
    except OSError:
        pass
    return opened


_FADVISE = getattr(os, "posix_fadvise", None)


def _read_open_file(fd: int, size: int) -> bytes:
    """The bytes of the open regular file ``fd`` that ``stat`` gave ``size`` bytes, or its first
    ``MAX_CONFIG_BYTES + 1`` when it is (or has grown) larger; closes ``fd``.

    Reads ``size + 1`` bytes, then to the end: a buffered ``read(limit)`` would allocate
    the whole 2 MB limit for every file, ~30 us a file of a bulk import.
    """
    limit = MAX_CONFIG_BYTES + 1
    try:
        parts = []
        total = 0
        ask = min(size + 1, limit)
        while total < limit:
            chunk = os.read(fd, min(ask, limit - total))
            if not chunk:
                break
            parts.append(chunk)
            total += len(chunk)
            ask = 65_536  # past the size stat gave (a file that grew): chunks, up to the limit
    finally:
        os.close(fd)
    return b"".join(parts)


def config_from_bytes(data: bytes, name: str) -> dict[str, Any]:
    """A config file's bytes (from :func:`read_config_bytes`) as a checked dict; errors name
    the file ``name``."""
    try:
        return parse_config_bytes(data)
    except ConfigTextError as exc:
        if exc.kind == "json":
            error = exc.error
            assert isinstance(error, json.JSONDecodeError)
            raise InvalidInputError(
                f"{name}: malformed JSON at line {error.lineno} column {error.colno}: {error.msg}"
            ) from None
        raise InvalidInputError(f"{name}: {exc}") from None


def config_model_id(config: Mapping[str, Any], name: str, model_id: str | None = None) -> str:
    """The model id of the config file ``name``: ``model_id`` if given, else its folder's
    (:func:`model_id_from_folder`), or for a loose file under another name its usable
    ``_name_or_path``; validated."""
    if model_id is None:
        # A config.json (or its folder) is named by its folder: a fine-tune's config often
        # keeps its base model's _name_or_path, which must not become the fine-tune's id.
        # Only a loose file under another name (``my-model.json``) takes _name_or_path.
        if os.path.basename(name) != "config.json":
            # Already validated when it comes from _name_or_path.
            found = _id_from_name_or_path(config.get("_name_or_path"))
            if found is not None:
                return found
        model_id = _folder_model_id(_real_folder(name))
    return validate_model_id(model_id)


def _real_folder(name: str) -> str:
    """The real path of the folder holding the file ``name`` (links resolved). A bulk import
    reads thousands of files from a few parent folders: those are resolved once each."""
    folder = os.path.dirname(os.path.abspath(name))
    if os.path.islink(folder):
        return os.path.realpath(folder)
    return os.path.join(_real_path(os.path.dirname(folder)), os.path.basename(folder))


@functools.lru_cache(maxsize=256)
def _real_path(folder: str) -> str:
    return os.path.realpath(folder)


def find_config_files(folder: str | os.PathLike[str]) -> list[str]:
    """The ``config.json`` files below ``folder`` (any depth, hidden folders skipped), sorted:
    a folder of model folders (``org__name/config.json``, a Hugging Face cache) imports as many
    models, each named by its own folder. Linked folders are followed; a folder reached twice
    (two links to it, a link to a folder above) is read once."""
    found = []
    seen: set[tuple[int, int]] = set()
    for root, folders, files in os.walk(os.path.expanduser(os.fspath(folder)), followlinks=True):
        try:
            info = os.stat(root)
        except OSError:
            folders[:] = []
            continue
        if (info.st_dev, info.st_ino) in seen:
            folders[:] = []
            continue
        seen.add((info.st_dev, info.st_ino))
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        if "config.json" in files:
            found.append(os.path.join(root, "config.json"))
    return sorted(found)


def _id_from_name_or_path(name_or_path: Any) -> str | None:
    """``_name_or_path`` when it is a usable model id; None for local paths and free text
    (trainers write both there, e.g. ``/scratch/ckpt-900`` or ``StableLM 2 1.6B Chat``)."""
    if not isinstance(name_or_path, str) or name_or_path.startswith((".", "/", "~")):
        return None
    try:
        return validate_model_id(name_or_path)
    except InvalidModelIdError:
        return None


def model_id_from_folder(folder: Path) -> str:
    """The model id a config's folder stands for.

    A Hugging Face cache snapshot (``.../models--org--name/snapshots/<sha>/``) gives
    ``org/name``; a flat ``org__name`` folder (how configs are often saved side by side) gives
    ``org/name``; any other folder gives its own name.
    """
    return _folder_model_id(os.fspath(folder))


def _folder_model_id(folder: str) -> str:
    """:func:`model_id_from_folder` of a folder path without a trailing separator, by string
    operations alone (a bulk import names every file this way)."""
    parent, name = os.path.split(folder)
    grandparent, parent_name = os.path.split(parent)
    if parent_name == "snapshots":
        repo = os.path.basename(grandparent)
        if repo.startswith("models--"):
            return repo[len("models--") :].replace("--", "/", 1)
    if name.count("__") == 1 and not name.startswith("__"):
        return name.replace("__", "/")
    return name
