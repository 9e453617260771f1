"""Everything that talks to the Hugging Face Hub, always through ``huggingface_hub``.

One import reads ``model_info`` (commit sha, safetensors parameter total, license, gated flag,
pipeline tag, library, tags, downloads, likes, dates), downloads ``config.json`` with
``hf_hub_download`` (so the file lands in the standard Hugging Face cache, refs and all),
converts it, and stores row, version and Hub metadata in one transaction.

Bulk imports and ``sync`` fetch and convert in a thread pool, but every database write happens
on the calling thread: the SQLite connection belongs to it.

``huggingface_hub`` reads ``HF_ENDPOINT``, ``HF_HOME`` and ``HF_HUB_OFFLINE`` once, when it is
imported. This module reads them again on every call and passes them explicitly, so a process
that changes its environment (a test, a long-lived notebook) gets what it asked for.

The token comes from the caller, else from whatever ``huggingface_hub`` resolves (``HF_TOKEN``,
a saved login). It is never stored, logged or printed, and never put in an error message.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tqdm import tqdm

from .catalog.config_files import MAX_CONFIG_BYTES, ConfigTextError, parse_config_bytes
from .convert import ConversionError, UnhandledFamilyError, convert_hf_config
from .errors import CatalogError, InvalidInputError
from .manager import WriteResult, validate_model_id
from .redaction import install_log_redaction, redact, register_secret

if TYPE_CHECKING:
    from huggingface_hub import HfApi
    from huggingface_hub.hf_api import ModelInfo

    from .manager import ModelManager

#: Concurrent Hub requests in a bulk import or sync (threads; each waits on the network).
DEFAULT_WORKERS = 8
#: Seconds to wait for the Hub to answer one request, unless ``GENZ_CATALOG_HUB_TIMEOUT`` says.
DEFAULT_TIMEOUT_SECONDS = 10.0
TIMEOUT_ENV_VAR = "GENZ_CATALOG_HUB_TIMEOUT"
#: ``discover --sort`` choices -> ``HfApi.list_models(sort=...)`` values.
DISCOVER_SORTS = {"downloads": "downloads", "likes": "likes", "created": "created_at"}

_COMMIT_SHA = re.compile(r"^[0-9a-f]{40}$")
#: The branch ``sync`` follows for a model imported without ``--revision``.
DEFAULT_BRANCH = "main"


def hub_reference(repo_id: str, revision: str | None) -> str:
    """What ``hub_id`` stores: ``org/name``, or ``org/name@REV`` when a revision was pinned.

    ``@REV`` is the notation ``HfFileSystem`` uses (``hf://org/name@REV``); repo ids cannot
    contain ``@``. ``sync`` reads it back: a 40-hex commit sha is never moved, a branch or tag
    is followed. No revision (or ``main``) means: follow the default branch.
    """
    if not revision or revision == DEFAULT_BRANCH:
        return repo_id
    return f"{repo_id}@{revision}"


def split_hub_reference(hub_id: str) -> tuple[str, str | None]:
    """``(repo_id, revision or None)`` of a stored ``hub_id`` (see :func:`hub_reference`)."""
    repo_id, _, revision = hub_id.partition("@")
    return repo_id, revision or None


def is_commit_sha(revision: str | None) -> bool:
    """True for a full 40-hex commit sha (a fixed commit, as opposed to a branch or tag)."""
    return bool(revision) and bool(_COMMIT_SHA.match(revision))  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------- errors


class HubError(CatalogError):
    """An expected failure talking to the Hub; the message names the model and what to do."""

    def __init__(self, model_id: str, message: str):
        self.model_id = model_id
        super().__init__(f"{model_id}: {message}")


class HubRepoNotFoundError(HubError):
    """No such model repository (or it is private and the token cannot see it)."""


class HubGatedRepoError(HubError):
    """A gated model the token has no access to."""


class HubAuthError(HubError):
    """The Hub rejected the token (HTTP 401, invalid credentials)."""


class HubRevisionNotFoundError(HubError):
    """The repository has no such branch, tag or commit."""


class HubConfigNotFoundError(HubError):
    """The repository has no ``config.json`` at that revision."""


class HubMalformedConfigError(HubError):
    """``config.json`` is not a JSON object (or is absurdly large)."""


class UnsupportedArchitectureError(HubError, ConversionError):
    """The converter cannot convert this model's config (a :class:`ConversionError`)."""


class HubUnreachableError(HubError):
    """The Hub endpoint cannot be reached (DNS, refused connection, no network)."""


class HubTimeoutError(HubError):
    """The Hub did not answer in time."""


class HubServerError(HubError):
    """The Hub answered with an unexpected HTTP error (5xx, 429, ...)."""


class HubOfflineCacheMissError(HubError):
    """``HF_HUB_OFFLINE=1`` and the model's config is not in the local cache."""


# ----------------------------------------------------------------------------- environment


def hub_endpoint() -> str:
    """The Hub base URL in force now: ``$HF_ENDPOINT``, else huggingface_hub's default."""
    from huggingface_hub import constants

    return (os.environ.get("HF_ENDPOINT") or constants.ENDPOINT).rstrip("/")


def hub_cache_dir() -> Path:
    """The Hugging Face hub cache in force now: ``$HF_HUB_CACHE``, else ``$HF_HOME/hub``."""
    from huggingface_hub import constants

    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.path.expandvars(os.environ["HF_HUB_CACHE"])).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.path.expandvars(os.environ["HF_HOME"])).expanduser() / "hub"
    return Path(constants.HF_HUB_CACHE)


def hub_offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` is set (now, or when huggingface_hub was imported)."""
    from huggingface_hub import constants

    value = os.environ.get("HF_HUB_OFFLINE")
    if value is not None:
        return value.strip().upper() in ("1", "ON", "YES", "TRUE")
    return bool(constants.HF_HUB_OFFLINE)


def hub_timeout(timeout: float | None = None) -> float:
    """Seconds to wait per Hub request: ``timeout``, else ``$GENZ_CATALOG_HUB_TIMEOUT``, else 10."""
    if timeout is not None:
        return float(timeout)
    raw = os.environ.get(TIMEOUT_ENV_VAR)
    if raw:
        try:
            value = float(raw)
        except ValueError:
            raise InvalidInputError(
                f"{TIMEOUT_ENV_VAR}={raw!r} is not a number of seconds"
            ) from None
        if value > 0:
            return value
    return DEFAULT_TIMEOUT_SECONDS


#: Seconds the reachability check before a Hub listing waits for an answer.
PROBE_TIMEOUT_S = 10.0


def _http_exception_types() -> tuple[
    tuple[type[BaseException], ...], tuple[type[BaseException], ...]
]:
    """(timeout classes, connection-failure classes) of the HTTP library huggingface_hub uses.

    huggingface_hub 2.x speaks ``httpx2``, 1.x ``httpx``, 0.x ``requests``; take what is there.
    """
    timeouts: list[type[BaseException]] = []
    connects: list[type[BaseException]] = []
    for name in ("httpx2", "httpx"):
        try:
            lib = __import__(name)
        except ImportError:
            continue
        timeouts.append(lib.TimeoutException)
        connects.extend([lib.NetworkError, lib.RemoteProtocolError, lib.UnsupportedProtocol])
    try:
        import requests

        timeouts.append(requests.Timeout)
        connects.append(requests.ConnectionError)
    except ImportError:
        pass
    return tuple(timeouts), tuple(connects)


class _NoProgressBar(tqdm):
    """A tqdm that never draws: the per-file bar of ``hf_hub_download`` would garble ours."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.pop("name", None)
        kwargs["disable"] = True
        super().__init__(*args, **kwargs)


# ------------------------------------------------------------------------------ the fetch


@dataclass
class HubModel:
    """One model fetched from the Hub (or the offline cache) and converted, not yet stored."""

    model_id: str
    config: dict[str, Any]
    record: dict[str, Any]
    hub_metadata: dict[str, Any]
    config_path: Path

    @property
    def revision_sha(self) -> str | None:
        return self.hub_metadata.get("revision_sha")


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def hub_metadata_from_info(info: ModelInfo, revision_sha: str | None = None) -> dict[str, Any]:
    """The ``manager.HUB_METADATA_KEYS`` values of a ``ModelInfo`` (parameter total in params)."""
    license_name = None
    card = getattr(info, "card_data", None)
    if card is not None:
        license_name = (
            card.get("license") if hasattr(card, "get") else getattr(card, "license", None)
        )
    tags = list(info.tags or [])
    if not license_name:
        license_name = next((t.split(":", 1)[1] for t in tags if t.startswith("license:")), None)
    if isinstance(license_name, list):
        license_name = ", ".join(str(x) for x in license_name)
    safetensors = getattr(info, "safetensors", None)
    return {
        "hub_id": info.id,
        "revision_sha": revision_sha or info.sha,
        "hub_parameter_count": int(safetensors.total)
        if safetensors and safetensors.total
        else None,
        "license": license_name,
        "gated": info.gated if info.gated is not None else None,
        "pipeline_tag": info.pipeline_tag,
        "library_name": info.library_name,
        "tags": tags,
        "downloads": info.downloads,
        "likes": info.likes,
        "hub_created_at": _iso(info.created_at),
        "hub_last_modified": _iso(info.last_modified),
    }


class HubClient:
    """The Hub as this process sees it now: endpoint, cache folder, token, timeout, offline.

    Every method turns huggingface_hub's exceptions into :class:`HubError` subclasses whose
    one-line message names the model and what to do. Methods are safe to call from threads.
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        timeout: float | None = None,
        offline: bool | None = None,
    ):
        from huggingface_hub import HfApi

        self.endpoint = hub_endpoint()
        self.cache_dir = hub_cache_dir()
        self.timeout = hub_timeout(timeout)
        self.offline = hub_offline() if offline is None else offline
        # None lets huggingface_hub resolve HF_TOKEN or a saved login per request.
        self._token = token or None
        # Every token source (this one, HF_TOKEN, the saved login) is masked in messages and logs.
        register_secret(self._token)
        install_log_redaction()
        self.api: HfApi = HfApi(
            endpoint=self.endpoint, token=self._token, library_name="genz-catalog"
        )

    @property
    def token(self) -> str | None:
        """The token this client sends (``None``: anonymous); never printed by ``repr``."""
        return self._token

    def __repr__(self) -> str:  # never show the token
        return f"HubClient(endpoint={self.endpoint!r}, offline={self.offline})"

    # -- error translation

    def _redact(self, text: str) -> str:
        text = text.replace(self._token, "***") if self._token else text
        return redact(text)

    def translate(self, exc: BaseException, model_id: str, revision: str | None = None) -> HubError:
        """The :class:`HubError` for an exception raised by huggingface_hub for ``model_id``."""
        from huggingface_hub.errors import (
            EntryNotFoundError,
            GatedRepoError,
            HfHubHTTPError,
            HFValidationError,
            LocalEntryNotFoundError,
            OfflineModeIsEnabled,
            RepositoryNotFoundError,
            RevisionNotFoundError,
        )

        timeouts, connects = _http_exception_types()
        if isinstance(exc, HubError):
            return exc
        if isinstance(exc, HFValidationError):
            reason = str(exc).splitlines()[0].rstrip(".")
            return HubError(model_id, f"not a valid Hub model id ({reason}); use org/name")
        if isinstance(exc, GatedRepoError):
            return HubGatedRepoError(
                model_id,
                "gated model, and this token has no access; "
                "request access on the model page, then set HF_TOKEN",
            )
        if isinstance(exc, RevisionNotFoundError):
            return HubRevisionNotFoundError(
                model_id,
                f"revision {revision or 'main'!r} not found; "
                "pass an existing branch, tag or commit sha with --revision",
            )
        if isinstance(exc, LocalEntryNotFoundError) or (
            isinstance(exc, OfflineModeIsEnabled) and self.offline
        ):
            if self.offline:
                return HubOfflineCacheMissError(
                    model_id,
                    f"not in the local Hugging Face cache ({self.cache_dir}) and HF_HUB_OFFLINE=1; "
                    "import it once while online, or unset HF_HUB_OFFLINE",
                )
            # Online, the HEAD request failed and nothing was cached: the cause says why.
            cause = exc.__cause__ or exc.__context__
            if cause is not None and cause is not exc:
                return self.translate(cause, model_id, revision)
            return HubUnreachableError(model_id, self._unreachable_advice())
        if isinstance(exc, EntryNotFoundError):
            return HubConfigNotFoundError(
                model_id,
                f"the repository has no config.json at revision {revision or 'main'}; "
                "only repositories with a transformers config.json can be imported",
            )
        if isinstance(exc, HfHubHTTPError):
            status = exc.response.status_code if exc.response is not None else None
            if status == 401 and not isinstance(exc, RepositoryNotFoundError):
                return HubAuthError(
                    model_id,
                    "the Hub rejected the token (401 Unauthorized); "
                    "pass a valid --token or HF_TOKEN, or log in again with `hf auth login`",
                )
            if isinstance(exc, RepositoryNotFoundError) or status == 404:
                return HubRepoNotFoundError(
                    model_id,
                    f"no such model on the Hub ({self.endpoint}); check the id (org/name), "
                    "or set HF_TOKEN if the repository is private",
                )
            if status == 403:
                return HubAuthError(
                    model_id,
                    "the Hub refused access (403 Forbidden); "
                    "check that your token has read permission for this repository",
                )
            return HubServerError(
                model_id,
                f"the Hub answered HTTP {status}; try again later",
            )
        if isinstance(exc, timeouts):
            return self._timeout_error(model_id)
        if isinstance(exc, OfflineModeIsEnabled):
            return HubOfflineCacheMissError(
                model_id, "offline mode is enabled (HF_HUB_OFFLINE); unset it to reach the Hub"
            )
        if isinstance(exc, connects) or isinstance(exc, ConnectionError):
            return HubUnreachableError(model_id, self._unreachable_advice())
        return HubError(
            model_id,
            self._redact(
                f"unexpected error from the Hub: {type(exc).__name__}: {exc}"
            ).splitlines()[0],
        )

    def _timeout_error(self, model_id: str) -> HubTimeoutError:
        return HubTimeoutError(
            model_id,
            f"the Hub at {self.endpoint} did not answer within {self.timeout:g} s; "
            f"try again later, or allow more time with --timeout or {TIMEOUT_ENV_VAR}",
        )

    def check_reachable(self, what: str) -> None:
        """One request without retries to the listing endpoint: HfApi's listings retry a failed
        connection with back-off for ~10 s, so a machine without network (or a mistyped
        HF_ENDPOINT) would wait that long and then see a timeout. A connection failure here is
        a :class:`HubUnreachableError` at once; any answer at all means the Hub is there."""
        from huggingface_hub.utils import get_session

        timeouts, connects = _http_exception_types()
        try:
            get_session().get(
                f"{self.endpoint}/api/models",
                params={"limit": 1},
                timeout=min(self.timeout or PROBE_TIMEOUT_S, PROBE_TIMEOUT_S),
            )
        except timeouts:
            raise self._timeout_error(what) from None
        except (*connects, ConnectionError, OSError):
            raise HubUnreachableError(what, self._unreachable_advice()) from None

    def _unreachable_advice(self) -> str:
        return (
            f"cannot reach the Hub at {self.endpoint}; check your network connection or "
            "HF_ENDPOINT, or set HF_HUB_OFFLINE=1 to import from the local cache"
        )

    # -- calls

    def model_info(self, model_id: str, revision: str | None = None) -> ModelInfo:
        """``HfApi.model_info`` for ``model_id`` at ``revision`` (default branch if None)."""
        if self.offline:
            raise HubOfflineCacheMissError(
                model_id, "HF_HUB_OFFLINE=1, so the Hub cannot be asked; unset HF_HUB_OFFLINE"
            )
        try:
            return self.api.model_info(
                model_id, revision=revision, timeout=self.timeout, token=self._token
            )
        except Exception as exc:  # noqa: BLE001 - every failure becomes a one-line HubError
            raise self.translate(exc, model_id, revision) from exc

    def download_config(
        self, model_id: str, revision: str | None = None, *, shown_revision: str | None = None
    ) -> Path:
        """``config.json`` of ``model_id`` at ``revision`` in the HF cache (downloaded if needed).

        Offline, only the cache is read (``revision`` None means the cached ``main``).
        ``shown_revision`` is what error messages call the revision (the one the user asked for).

        Online, ``hf_hub_download`` alone would not respect the timeout: a 5xx or a timeout on
        its HEAD request is retried with back-off (about 23 s), and its GET has a fixed 10 s
        timeout, resumed up to 5 times. So the file's metadata is first read once, without
        retries, within the timeout (a 5xx or a missing file fails at once), and the download
        itself gets two timeouts (its HEAD and its GET) before it is given up as timed out.
        """
        from huggingface_hub import get_hf_file_metadata, hf_hub_download, hf_hub_url

        shown = shown_revision or revision

        def download() -> str:
            return hf_hub_download(
                model_id,
                "config.json",
                revision=revision,
                cache_dir=self.cache_dir,
                endpoint=self.endpoint,
                token=self._token,
                etag_timeout=self.timeout,
                local_files_only=self.offline,
                tqdm_class=_NoProgressBar,
            )

        try:
            if self.offline:
                return Path(download())
            get_hf_file_metadata(
                hf_hub_url(model_id, "config.json", revision=revision, endpoint=self.endpoint),
                token=self._token,
                timeout=self.timeout,
                endpoint=self.endpoint,
                retry_on_errors=False,
            )
            return Path(self._within(2 * self.timeout, download, model_id))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a one-line HubError
            raise self.translate(exc, model_id, shown) from exc

    def _within(self, seconds: float, call: Callable[[], Any], model_id: str) -> Any:
        """``call()`` on a daemon thread; :class:`HubTimeoutError` if it takes over ``seconds``.

        A call given up on finishes (or fails) on its own; huggingface_hub writes the cache
        through a temporary file and a lock, so it never leaves a half file behind, and a daemon
        thread never keeps the process alive.
        """
        outcome: dict[str, Any] = {}
        done = threading.Event()

        def run() -> None:
            try:
                outcome["value"] = call()
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller's thread
                outcome["error"] = exc
            finally:
                done.set()

        threading.Thread(target=run, name="hub-download", daemon=True).start()
        if not done.wait(seconds):
            raise self._timeout_error(model_id)
        if "error" in outcome:
            raise outcome["error"]
        return outcome["value"]

    def fetch(
        self, model_id: str, revision: str | None = None, *, info: ModelInfo | None = None
    ) -> HubModel:
        """Read metadata, download ``config.json`` and convert it (no database access).

        Online, the config is downloaded at the revision asked for (default ``main``), so the
        cache gets the ref an offline run needs; should the branch move between ``model_info``
        and the download, metadata is re-read at the commit actually downloaded, so both always
        describe the same commit. Offline, the cached config is used and the only metadata is
        its commit sha.
        """
        model_id = validate_model_id(model_id)
        if self.offline:
            path = self.download_config(model_id, revision)
            canonical = model_id
            metadata: dict[str, Any] = {
                "hub_id": hub_reference(model_id, revision),
                "revision_sha": _sha_of(path),
            }
        else:
            if info is None:
                info = self.model_info(model_id, revision)
            canonical = info.id or model_id
            shown = revision or "main"
            if info.sha and info.sha != revision:
                shown += f" ({info.sha[:12]})"
            path = self.download_config(canonical, revision, shown_revision=shown)
            downloaded_sha = _sha_of(path)
            if downloaded_sha and info.sha and downloaded_sha != info.sha:
                info = self.model_info(canonical, downloaded_sha)
            metadata = hub_metadata_from_info(info, downloaded_sha or info.sha)
            # Remember a pinned revision, so that sync leaves a commit alone and follows a branch.
            metadata["hub_id"] = hub_reference(canonical, revision)
        config = read_hub_config(path, canonical)
        try:
            record = convert_hf_config(config, model_id=canonical)
        except ConversionError as exc:
            hub_total = metadata.get("hub_parameter_count")
            record = None
            if isinstance(exc, UnhandledFamilyError) and hub_total:
                # No handler, but the repo publishes its safetensors total: an exact figure of
                # what it stores, labelled count_basis 'hub-safetensors' (never a formula guess).
                from .exact import hub_safetensors_record

                record = hub_safetensors_record(config, canonical, int(hub_total))
            if record is None:
                # An unhandled family's message already says how to get an exact count.
                tail = (
                    ""
                    if isinstance(exc, UnhandledFamilyError)
                    else "; models of this architecture cannot be catalogued yet"
                )
                raise UnsupportedArchitectureError(
                    canonical, f"cannot convert its config ({exc}){tail}"
                ) from exc
        return HubModel(canonical, config, record, metadata, path)

    def list_models(
        self,
        *,
        author: str | None = None,
        search: str | None = None,
        pipeline_tag: str | None = None,
        library: str | None = None,
        sort: str = "downloads",
        limit: int = 20,
    ) -> list[ModelInfo]:
        """``HfApi.list_models`` with the discover filters; ``sort`` is a :data:`DISCOVER_SORTS` key."""
        if sort not in DISCOVER_SORTS:
            raise InvalidInputError(
                f"cannot sort by {sort!r}; choose one of: " + ", ".join(DISCOVER_SORTS)
            )
        if self.offline:
            raise HubOfflineCacheMissError(
                "discover", "HF_HUB_OFFLINE=1, so the Hub cannot be searched; unset HF_HUB_OFFLINE"
            )

        def listing() -> list[ModelInfo]:
            return list(
                self.api.list_models(
                    author=author or None,
                    search=search or None,
                    pipeline_tag=pipeline_tag or None,
                    filter=library or None,
                    sort=DISCOVER_SORTS[sort],  # type: ignore[arg-type]
                    limit=limit,
                    token=self._token,
                )
            )

        self.check_reachable("discover")
        try:
            # HfApi.list_models takes no timeout and retries 5xx answers with back-off, so the
            # whole listing gets a deadline of its own.
            return self._within(self.timeout, listing, "discover")
        except Exception as exc:  # noqa: BLE001 - every failure becomes a one-line HubError
            raise self.translate(exc, "discover") from exc


def _sha_of(config_path: Path | str) -> str | None:
    """The commit sha of a cached file: its ``snapshots/<sha>/`` folder."""
    parent = Path(config_path).parent.name
    return parent if _COMMIT_SHA.match(parent) else None


def read_hub_config(path: Path | str, model_id: str) -> dict[str, Any]:
    """Parse a downloaded ``config.json``; anything but a JSON object is a one-line error."""
    p = Path(path)
    size = p.stat().st_size
    if size > MAX_CONFIG_BYTES:
        raise HubMalformedConfigError(
            model_id, f"config.json is {size} bytes; at most {MAX_CONFIG_BYTES} are accepted"
        )
    try:
        return parse_config_bytes(p.read_bytes())
    except ConfigTextError as exc:
        if exc.kind == "limit":
            raise HubMalformedConfigError(model_id, f"config.json: {exc}") from None
        if exc.kind == "utf8":
            raise HubMalformedConfigError(
                model_id,
                "config.json is not UTF-8 text; the repository's config is broken, "
                "try another --revision",
            ) from None
        if exc.kind == "json":
            error = exc.error
            assert isinstance(error, json.JSONDecodeError)
            raise HubMalformedConfigError(
                model_id,
                f"config.json is not valid JSON (line {error.lineno} column {error.colno}: "
                f"{error.msg}); the repository's config is broken, try another --revision",
            ) from None
        raise HubMalformedConfigError(
            model_id,
            "config.json is not a JSON object; the repository's config is broken, "
            "try another --revision",
        ) from None


# ------------------------------------------------------------------------------- writes


def store_hub_model(
    manager: ModelManager,
    fetched: HubModel,
    *,
    force_update: bool,
    change_description: str | None = None,
) -> WriteResult:
    """Write a fetched model in one transaction (status imported/updated/unchanged/skipped)."""
    return manager.add_model(
        fetched.model_id,
        fetched.config,
        record=fetched.record,
        source="huggingface",
        hub_metadata=fetched.hub_metadata,
        if_exists="update" if force_update else "skip",
        change_description=change_description,
    )


def _existing_id(manager: ModelManager, model_id: str) -> str | None:
    # Aliases do not count: a Hub id that is only another model's alias is not imported yet.
    model = manager.get_model(model_id, include_deleted=True, follow_aliases=False)
    return model["model_id"] if model else None


def import_hub_model(
    model_id: str,
    force_update: bool = False,
    revision: str | None = None,
    token: str | None = None,
    *,
    manager: ModelManager | None = None,
    timeout: float | None = None,
) -> WriteResult:
    """Import one model from the Hub (or, with ``HF_HUB_OFFLINE=1``, from the local HF cache).

    A model already in the catalog is left alone (status ``skipped``, no network) unless
    ``force_update``; a forced re-import with identical content records no new version (status
    ``unchanged``). Raises a :class:`HubError` subclass (a :class:`CatalogError`) with a one-line
    message on any failure, having written nothing. ``timeout`` is seconds per Hub request.
    """
    from .manager import ModelManager

    own_manager = manager is None
    manager = manager or ModelManager()
    try:
        if not force_update:
            existing = manager.get_model(model_id, include_deleted=True, follow_aliases=False)
            if existing is not None:
                return WriteResult(existing["model_id"], "skipped", existing["current_version"])
        fetched = HubClient(token, timeout=timeout).fetch(model_id, revision)
        return store_hub_model(manager, fetched, force_update=force_update)
    finally:
        if own_manager:
            manager.close()


def import_model_from_hf(
    model_id: str,
    force_update: bool = False,
    revision: str | None = None,
    token: str | None = None,
    *,
    manager: ModelManager | None = None,
    timeout: float | None = None,
) -> bool:
    """The original API's import: True when ``model_id`` is in the catalog afterwards.

    Same arguments as :func:`import_hub_model`; a model already in the catalog counts as a
    success (re-fetched only with ``force_update``). A failure returns False and logs its
    one-line reason on the ``genz_catalog`` logger at WARNING level, having written nothing.
    Call :func:`import_hub_model` for the status, version and warnings, or for the exception.
    """
    try:
        import_hub_model(
            model_id,
            force_update,
            revision,
            token,
            manager=manager,
            timeout=timeout,
        )
    except (CatalogError, ConversionError) as exc:
        logging.getLogger("genz_catalog").warning("could not import %r: %s", model_id, exc)
        return False
    return True


# ---------------------------------------------------------------------------- bulk import


@dataclass
class ImportOutcome:
    """One line of a bulk import or sync summary.

    ``status``: ``imported``, ``updated``, ``unchanged``, ``skipped``, ``failed`` or (sync only)
    ``pinned``; ``detail`` says why (the error for a failure).
    """

    requested_id: str
    status: str
    model_id: str | None = None
    version: int | None = None
    detail: str = ""
    old_revision: str | None = None
    new_revision: str | None = None
    warnings: list[str] = field(default_factory=list)


def _progress_bar(total: int, description: str, show: bool | None) -> tqdm:
    if show is None:
        show = sys.stderr.isatty()
    return tqdm(
        total=total,
        desc=description,
        unit="model",
        file=sys.stderr,
        disable=not show,
        leave=False,
        dynamic_ncols=True,
    )


def _dedupe(ids: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    unique = []
    for raw in ids:
        model_id = raw.strip()
        if model_id and model_id.lower() not in seen:
            seen.add(model_id.lower())
            unique.append(model_id)
    return unique


def _run_in_pool(
    items: Sequence[Any],
    work: Callable[[Any], Any],
    write: Callable[[Any, Any], ImportOutcome],
    fail: Callable[[Any, BaseException], ImportOutcome],
    *,
    workers: int,
    progress: tqdm,
) -> list[ImportOutcome]:
    """Run ``work`` in threads; call ``write`` (or ``fail``) on this thread as each finishes.

    The pool only fetches and converts; results come back through a queue so that every
    database write stays on the thread that owns the connection.
    """
    import queue

    outcomes: list[ImportOutcome | None] = [None] * len(items)
    finished: queue.Queue[tuple[int, Future[Any]]] = queue.Queue()
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="hub") as pool:
        for index, item in enumerate(items):
            future = pool.submit(work, item)
            future.add_done_callback(lambda f, i=index: finished.put((i, f)))
        for _ in range(len(items)):
            index, future = finished.get()
            item = items[index]
            try:
                outcomes[index] = write(item, future.result())
            except (CatalogError, ConversionError) as exc:
                outcomes[index] = fail(item, exc)
            except Exception as exc:  # noqa: BLE001 - one bad model never aborts the rest
                outcomes[index] = fail(item, exc)
            progress.update(1)
    return [o for o in outcomes if o is not None]


def _failure_text(exc: BaseException, client: HubClient, model_id: str) -> str:
    if isinstance(exc, (CatalogError, ConversionError)):
        text = str(exc)
    else:
        text = str(client.translate(exc, model_id))
    return client._redact(text).splitlines()[0] if text else type(exc).__name__


def import_models_from_hf(
    model_ids: Iterable[str],
    *,
    manager: ModelManager,
    force_update: bool = False,
    revision: str | None = None,
    token: str | None = None,
    workers: int = DEFAULT_WORKERS,
    timeout: float | None = None,
    show_progress: bool | None = None,
) -> list[ImportOutcome]:
    """Import many models: concurrent downloads and conversion, writes on this thread.

    Ids already in the catalog are skipped without a request unless ``force_update``. One
    failure never stops the rest; each outcome says what happened, in the order given.
    ``show_progress`` None draws a tqdm bar on stderr only when it is a terminal.
    """
    client = HubClient(token, timeout=timeout)
    requested = _dedupe(model_ids)
    outcomes: dict[str, ImportOutcome] = {}
    to_fetch: list[str] = []
    for model_id in requested:
        try:
            validate_model_id(model_id)
        except CatalogError as exc:
            outcomes[model_id] = ImportOutcome(model_id, "failed", detail=str(exc))
            continue
        existing = None if force_update else _existing_id(manager, model_id)
        if existing is not None:
            outcomes[model_id] = ImportOutcome(
                model_id, "skipped", existing, detail="already in the catalog; --force re-imports"
            )
        else:
            to_fetch.append(model_id)

    def write(model_id: str, fetched: HubModel) -> ImportOutcome:
        result = store_hub_model(manager, fetched, force_update=force_update)
        detail = {
            "imported": "new model",
            "updated": "content changed: new version",
            "unchanged": "same content: no new version",
            "skipped": "already in the catalog; --force re-imports",
        }.get(result.status, "")
        return ImportOutcome(
            model_id,
            result.status,
            result.model_id,
            result.version,
            detail,
            new_revision=fetched.revision_sha,
            warnings=list(result.warnings),
        )

    def fail(model_id: str, exc: BaseException) -> ImportOutcome:
        return ImportOutcome(model_id, "failed", detail=_failure_text(exc, client, model_id))

    with _progress_bar(len(to_fetch), "importing", show_progress) as bar:
        fetched_outcomes = _run_in_pool(
            to_fetch,
            lambda model_id: client.fetch(model_id, revision),
            write,
            fail,
            workers=workers,
            progress=bar,
        )
    for outcome in fetched_outcomes:
        outcomes[outcome.requested_id] = outcome
    return [outcomes[m] for m in requested]


# ----------------------------------------------------------------------------------- sync


def sync_hub_models(
    manager: ModelManager,
    *,
    token: str | None = None,
    workers: int = DEFAULT_WORKERS,
    timeout: float | None = None,
    show_progress: bool | None = None,
) -> list[ImportOutcome]:
    """Re-check every Hub-sourced model against the revision it was imported at.

    A model imported without ``--revision`` follows ``main``; one imported at a branch or tag
    follows that branch or tag; one imported at a full commit sha is never moved (status
    ``pinned``, no request). A model whose commit sha is unchanged is not touched (not even its
    download count). A new sha means its config is downloaded and converted again: a changed
    config records a new version (``updated``), an identical one only moves the stored sha
    (``unchanged``).
    """
    client = HubClient(token, timeout=timeout)
    if client.offline:
        raise HubOfflineCacheMissError(
            "sync", "HF_HUB_OFFLINE=1, so the Hub cannot be checked; unset HF_HUB_OFFLINE"
        )
    models = manager.list_models(source="huggingface", order_by="model_id")
    pinned = object()

    def reference(model: Mapping[str, Any]) -> tuple[str, str | None]:
        return split_hub_reference(model.get("hub_id") or model["model_id"])

    def work(model: Mapping[str, Any]) -> HubModel | object | None:
        repo_id, revision = reference(model)
        if is_commit_sha(revision):
            return pinned
        info = client.model_info(repo_id, revision)
        if info.sha and info.sha == model.get("revision_sha"):
            return None
        fetched = client.fetch(repo_id, revision, info=info)
        # Keep the catalog's id even if the Hub now redirects the repository elsewhere.
        fetched.model_id = model["model_id"]
        return fetched

    def write(model: Mapping[str, Any], fetched: HubModel | object | None) -> ImportOutcome:
        old = model.get("revision_sha")
        _, revision = reference(model)
        if fetched is pinned:
            return ImportOutcome(
                model["model_id"],
                "pinned",
                model["model_id"],
                model["current_version"],
                f"imported at commit {_short(revision)}; sync leaves it there "
                "(import --force without --revision to follow main)",
                old_revision=old,
                new_revision=old,
            )
        if not isinstance(fetched, HubModel):
            return ImportOutcome(
                model["model_id"],
                "unchanged",
                model["model_id"],
                model["current_version"],
                "same revision",
                old_revision=old,
                new_revision=old,
            )
        new = fetched.revision_sha
        result = store_hub_model(
            manager,
            fetched,
            force_update=True,
            change_description=f"sync: Hub revision {_short(old)} -> {_short(new)}",
        )
        where = f" on {revision}" if revision else ""
        if result.status == "updated":
            detail = (
                f"config changed at {_short(new)}{where}: "
                f"version {model['current_version']} -> {result.version}"
            )
        else:
            detail = f"new revision {_short(new)}{where}, same config: no new version"
        return ImportOutcome(
            model["model_id"],
            result.status,
            result.model_id,
            result.version,
            detail,
            old_revision=old,
            new_revision=new,
            warnings=list(result.warnings),
        )

    def fail(model: Mapping[str, Any], exc: BaseException) -> ImportOutcome:
        return ImportOutcome(
            model["model_id"],
            "failed",
            model["model_id"],
            model["current_version"],
            _failure_text(exc, client, model["model_id"]),
            old_revision=model.get("revision_sha"),
        )

    with _progress_bar(len(models), "syncing", show_progress) as bar:
        return _run_in_pool(models, work, write, fail, workers=workers, progress=bar)


def _short(sha: str | None) -> str:
    return sha[:12] if sha else "unknown"


# ------------------------------------------------------------------------------ discover


def discover_models(
    manager: ModelManager | None = None,
    *,
    author: str | None = None,
    search: str | None = None,
    pipeline_tag: str | None = None,
    library: str | None = None,
    sort: str = "downloads",
    limit: int = 20,
    token: str | None = None,
    timeout: float | None = None,
) -> list[dict[str, Any]]:
    """Hub models matching the filters, most downloaded (or liked, or newest) first.

    Each row: ``model_id``, ``downloads``, ``likes``, ``pipeline_tag``, ``library``,
    ``created_at`` and, with a manager, ``in_catalog`` (bool).
    """
    if limit < 1:
        raise InvalidInputError(f"--limit must be at least 1, not {limit}")
    infos = HubClient(token, timeout=timeout).list_models(
        author=author,
        search=search,
        pipeline_tag=pipeline_tag,
        library=library,
        sort=sort,
        limit=limit,
    )
    rows = []
    for info in infos:
        row: dict[str, Any] = {
            "model_id": info.id,
            "downloads": info.downloads,
            "likes": info.likes,
            "pipeline_tag": info.pipeline_tag,
            "library": info.library_name,
            "created_at": _iso(info.created_at),
        }
        if manager is not None:
            row["in_catalog"] = _existing_id(manager, info.id) is not None
        rows.append(row)
    return rows
