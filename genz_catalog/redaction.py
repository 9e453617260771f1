"""Keep Hub tokens out of every message, log record and stored error.

A token reaches this process three ways: ``--token``, the ``HF_TOKEN`` environment variable
(or the older ``HUGGING_FACE_HUB_TOKEN``), and the login ``hf auth login`` saved under
``HF_HOME`` (the ``token`` file, and ``stored_tokens`` for several logins). :func:`redact`
replaces any of them with ``***``; the CLI passes every error line through it and
:func:`install_log_redaction` does the same for every log record. Imports nothing heavy: the
CLI calls it on every error.
"""

from __future__ import annotations

import configparser
import logging
import os
import threading
from pathlib import Path

#: What a token is replaced with.
MASK = "***"
#: Shorter strings are not treated as tokens (replacing "a" everywhere would garble text).
_MIN_SECRET_LENGTH = 8
_registered: set[str] = set()
_lock = threading.Lock()
_log_factory_installed = False


def register_secret(token: str | None) -> None:
    """Remember a token given explicitly (``--token``), so it is redacted from now on."""
    if token and len(token) >= _MIN_SECRET_LENGTH:
        with _lock:
            _registered.add(token)


def _hf_home() -> Path:
    home = os.environ.get("HF_HOME")
    if home:
        return Path(home).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(cache).expanduser() / "huggingface"


def _read_small(path: Path) -> str:
    try:
        if path.is_file() and path.stat().st_size < 65536:
            return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        pass
    return ""


def stored_tokens() -> set[str]:
    """Tokens saved by a Hugging Face login: ``HF_TOKEN_PATH`` (or ``HF_HOME/token``) and
    every ``hf_token`` in ``HF_STORED_TOKENS_PATH`` (or ``HF_HOME/stored_tokens``)."""
    found: set[str] = set()
    token_path = os.environ.get("HF_TOKEN_PATH")
    token_file = Path(token_path).expanduser() if token_path else _hf_home() / "token"
    token = _read_small(token_file).strip()
    if token:
        found.add(token)
    stored_path = os.environ.get("HF_STORED_TOKENS_PATH")
    stored_file = Path(stored_path).expanduser() if stored_path else _hf_home() / "stored_tokens"
    text = _read_small(stored_file)
    if text:
        parser = configparser.ConfigParser()
        try:
            parser.read_string(text)
        except configparser.Error:
            return found
        for section in parser.sections():
            value = parser.get(section, "hf_token", fallback="").strip()
            if value:
                found.add(value)
    return found


def known_secrets() -> set[str]:
    """Every token this process could send: registered, from the environment, stored."""
    with _lock:
        secrets = set(_registered)
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        value = os.environ.get(name, "").strip()
        if value:
            secrets.add(value)
    secrets |= stored_tokens()
    return {s for s in secrets if len(s) >= _MIN_SECRET_LENGTH}


def redact(text: str) -> str:
    """``text`` with every known token replaced by ``***`` (longest first)."""
    if not text:
        return text
    for secret in sorted(known_secrets(), key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def install_log_redaction() -> None:
    """Redact tokens from every log record this process makes, whichever logger and handler
    (huggingface_hub's debug output quotes request headers). Installed once."""
    global _log_factory_installed
    with _lock:
        if _log_factory_installed:
            return
        _log_factory_installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is the logger's business
            return record
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return record

    logging.setLogRecordFactory(factory)
