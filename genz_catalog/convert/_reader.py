"""Typed, validating access to a Hugging Face ``config.json`` dict.

Every handler reads its config through a :class:`ConfigReader`, which

- resolves legacy key names (``n_embd`` / ``d_model`` / ``n_embed`` ...) in the order given,
- validates types (an ``int`` field must be a non-negative integer, not a bool, a string or NaN),
- collects every missing required key so that one :class:`ConversionError` names them all.

No value is ever invented: a required key that is absent is an error; an optional key falls back
only to the default the caller passes, which must be the documented default of the Hugging Face
config class for that family.
"""

from __future__ import annotations

from typing import Any

from genz_catalog.convert.errors import ConversionError

_REQUIRED: Any = object()

# Upper bound on any single dimension we accept; larger values are malformed, not models.
_MAX_DIMENSION = 1 << 40
# Layer counts are looped over; no real model has more than a few hundred layers.
_MAX_LAYERS = 1 << 16
_LAYER_KEYS = frozenset(
    (
        "num_hidden_layers",
        "n_layer",
        "n_layers",
        "num_layers",
        "num_decoder_layers",
        "depth",
        "num_global_layers",
    )
)


class ConfigReader:
    """Read validated values from one config dict on behalf of one family handler."""

    __slots__ = ("config", "family", "missing", "where")

    def __init__(self, config: dict[str, Any], family: str, where: str = "") -> None:
        self.config = config
        self.family = family
        self.missing: list[str] = []
        self.where = where  # e.g. "text_config." for nested configs, used in messages

    def raw(self, *names: str) -> Any:
        """The first of ``names`` present with a non-null value, else ``None``."""
        config = self.config
        for name in names:
            value = config.get(name)
            if value is not None:
                return value
        return None

    def name_of(self, *names: str) -> str:
        """The first of ``names`` present with a non-null value (else ``names[0]``), for messages."""
        config = self.config
        for name in names:
            if config.get(name) is not None:
                return name
        return names[0]

    def has(self, *names: str) -> bool:
        """Whether any of ``names`` is present with a non-null value."""
        return self.raw(*names) is not None

    def int(self, *names: str, default: Any = _REQUIRED, minimum: int = 1) -> int:
        """An integer dimension (>= ``minimum``) under the first present of ``names``.

        A missing key records ``names[0]`` as missing (and returns a harmless placeholder of 1)
        unless ``default`` is given; call :meth:`check` before using the values in arithmetic.
        """
        value = self.config.get(names[0])
        if value is None and len(names) > 1:
            value = self.raw(*names[1:])
        # Fast path: a plain in-range int (bool is a subclass of int, so compare the exact type).
        if type(value) is int and minimum <= value <= _MAX_LAYERS:
            return value
        if value is None:
            if default is _REQUIRED:
                self.missing.append(self.where + names[0])
                return 1
            return default
        return self._as_int(names[0], value, minimum)

    def optional_int(self, *names: str, minimum: int = 0) -> int | None:
        """An integer under the first present of ``names``, or ``None`` when absent."""
        value = self.raw(*names)
        if value is None:
            return None
        return self._as_int(names[0], value, minimum)

    def _as_int(self, name: str, value: Any, minimum: int) -> int:
        if isinstance(value, bool):
            raise self.error(f"{self.where}{name} must be an integer, got {value!r}")
        if isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        else:
            raise self.error(f"{self.where}{name} must be an integer, got {value!r}")
        maximum = _MAX_LAYERS if name in _LAYER_KEYS else _MAX_DIMENSION
        if number < minimum or number > maximum:
            raise self.error(
                f"{self.where}{name} must be between {minimum} and {maximum}, got {number}"
            )
        return number

    def int_or_null(self, name: str, minimum: int = 1) -> int | None:
        """An integer under ``name`` that may be an explicit ``null`` (e.g. DeepSeek ``q_lora_rank``).

        A key present with ``null`` gives ``None``; a key that is absent is recorded as missing
        (returning ``None``), because absent and null mean different things to the family.
        """
        config = self.config
        if name not in config:
            self.missing.append(self.where + name)
            return None
        value = config[name]
        if value is None:
            return None
        return self._as_int(name, value, minimum)

    def number(self, *names: str, default: Any = _REQUIRED) -> float:
        """A finite positive real number (e.g. ``expansion_ratio``, ``partial_rotary_factor``)."""
        value = self.raw(*names)
        if value is None:
            if default is _REQUIRED:
                self.missing.append(self.where + names[0])
                return 1.0
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(f"{self.where}{names[0]} must be a number, got {value!r}")
        if not (0 < value < _MAX_DIMENSION):
            raise self.error(
                f"{self.where}{names[0]} must be a positive finite number, got {value!r}"
            )
        return float(value)

    def bool(self, *names: str, default: bool) -> bool:
        """A boolean flag; ``default`` must be the HF config class default for this family."""
        value = self.raw(*names)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise self.error(f"{self.where}{names[0]} must be a boolean, got {value!r}")

    def str(self, *names: str, default: str | None = None) -> str | None:
        """A string value, or ``default`` when absent."""
        value = self.raw(*names)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self.error(f"{self.where}{names[0]} must be a string, got {value!r}")
        return value

    def int_list(self, *names: str) -> list[int] | None:
        """A list of non-negative integers (e.g. ``mlp_only_layers``), or ``None`` when absent."""
        value = self.raw(*names)
        if value is None:
            return None
        if not isinstance(value, list):
            raise self.error(f"{self.where}{names[0]} must be a list of integers, got {value!r}")
        return [self._as_int(names[0], item, 0) for item in value]

    def str_list(self, *names: str) -> list[str] | None:
        """A list of strings (e.g. ``layer_types``), or ``None`` when absent."""
        value = self.raw(*names)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.error(f"{self.where}{names[0]} must be a list of strings, got {value!r}")
        return value

    def sub(self, name: str) -> dict[str, Any] | None:
        """A nested config dict (``text_config``, ``attn_config`` ...), or ``None`` when absent."""
        value = self.config.get(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.error(f"{self.where}{name} must be an object, got {type(value).__name__}")
        return value

    def require(self, name: str) -> None:
        """Record ``name`` as missing (for keys that are needed only in some configurations)."""
        self.missing.append(self.where + name)

    def check(self) -> None:
        """Raise one :class:`ConversionError` naming every missing required key so far."""
        if self.missing:
            keys = ", ".join(dict.fromkeys(self.missing))
            raise ConversionError(f"{self.family}: config lacks required key(s): {keys}")

    def error(self, message: str) -> ConversionError:
        """A :class:`ConversionError` for this family with ``message``."""
        return ConversionError(f"{self.family}: {message}")
