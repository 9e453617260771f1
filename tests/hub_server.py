"""A local Hugging Face Hub stand-in for the tests and benchmarks.

It serves, over real HTTP on 127.0.0.1, what the real ``huggingface_hub`` client needs for
``model_info``, ``hf_hub_download`` and ``list_models``:

- ``GET /api/models/{repo}`` and ``GET /api/models/{repo}/revision/{rev}``: model-info JSON in the
  Hub's shape (tests/data/hf-api/*.json), with ``sha`` and ``lastModified`` of that revision;
- ``HEAD``/``GET /{repo}/resolve/{rev}/{file}``: the file, with ``X-Repo-Commit``, ``ETag`` and
  ``Content-Length`` (what ``get_hf_file_metadata`` reads);
- ``GET /api/models``: the listing, with ``search``, ``author``, ``filter``, ``pipeline_tag``,
  ``sort`` (descending, like the Hub), ``limit`` (a page of at most 1,000, like the Hub),
  ``cursor`` (the next page, offered in a ``Link: <...>; rel="next"`` header) and ``expand``
  (only the fields asked for, ``sha`` included); ``listing_faults`` injects errors by page;
- errors the way the Hub sends them: status, ``X-Error-Code`` (``RepoNotFound``, ``GatedRepo``,
  ``RevisionNotFound``, ``EntryNotFound``), ``X-Error-Message`` and a JSON ``{"error": ...}``;
  a token the Hub does not know gets 401 "Invalid credentials in Authorization header";
- un-namespaced legacy ids (``bert-base-uncased``) redirect (307) to their namespaced id.

Faults are per repository: ``fault="server-error"`` (HTTP 500 on every endpoint),
``fault="file-server-error"`` (model info answers, every file request gets HTTP 500) and
``delay=`` seconds before every answer, ``file_delay=`` seconds before the body of a file
(GET only: its HEAD answers at once); ``HubStandIn(delay=...)`` delays every response.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

DATA_DIR = Path(__file__).parent / "data"
CONFIGS_DIR = DATA_DIR / "hf-configs"
API_DIR = DATA_DIR / "hf-api"
#: Models per listing page (the Hub's own maximum).
LISTING_PAGE_SIZE = 1000


def git_blob_sha(content: bytes) -> str:
    """The git blob id of ``content`` (what the Hub sends as a small file's ETag)."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


@dataclass
class Commit:
    sha: str
    files: dict[str, bytes]
    last_modified: str


@dataclass
class FakeRepo:
    """One model repository: its commits, branches (``main`` first) and tags, info and faults."""

    repo_id: str
    info: dict[str, Any]
    commits: list[Commit] = field(default_factory=list)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    gated: bool | str = False
    granted_tokens: set[str] = field(default_factory=set)
    fault: str | None = None
    delay: float = 0.0
    file_delay: float = 0.0

    def resolve(self, revision: str) -> Commit | None:
        sha = self.branches.get(revision) or self.tags.get(revision, revision)
        return next((c for c in self.commits if c.sha == sha), None)


@dataclass
class LoggedRequest:
    method: str
    path: str
    authorization: str | None


class HubStandIn:
    """The server. ``start()`` binds a free port; ``url`` is what ``HF_ENDPOINT`` should be."""

    def __init__(self, delay: float = 0.0):
        self.delay = delay
        self.repos: dict[str, FakeRepo] = {}
        self.legacy_ids: dict[str, str] = {}
        self.valid_tokens: set[str] = set()
        self.requests: list[LoggedRequest] = []
        #: Listing page (1-based) -> HTTP statuses to answer with, once each, before serving it.
        self.listing_faults: dict[int, list[int]] = {}
        #: Filtered, sorted listing rows per query (cleared by every commit): paging through
        #: tens of thousands of repos must not re-sort them for every page.
        self._listings: dict[str, list[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ content

    def add_model(
        self,
        repo_id: str,
        config: dict[str, Any] | bytes | None,
        *,
        info: dict[str, Any] | None = None,
        gated: bool | str = False,
        fault: str | None = None,
        delay: float = 0.0,
        file_delay: float = 0.0,
        sha: str | None = None,
        safetensors_total: int | None = None,
    ) -> str:
        """Add a repository whose ``main`` holds ``config`` (dict, raw bytes, or None: absent).

        ``info`` is the model-info body (default: tests/data/hf-api/<org>__<name>.json if there
        is one, else a minimal one). Returns the commit sha.
        """
        if info is None:
            recorded = API_DIR / (repo_id.replace("/", "__") + ".json")
            info = json.loads(recorded.read_text()) if recorded.exists() else _minimal_info(repo_id)
        info = dict(info)
        info["id"] = info["modelId"] = repo_id
        if gated:
            info["gated"] = gated
        gated = info.get("gated") or False
        if safetensors_total is not None:
            info["safetensors"] = {
                "parameters": {"BF16": safetensors_total},
                "total": safetensors_total,
            }
        repo = FakeRepo(repo_id, info, gated=gated, fault=fault, delay=delay, file_delay=file_delay)
        with self._lock:
            self.repos[repo_id.lower()] = repo
        self._commit(
            repo, config, sha=sha or info.get("sha"), last_modified=info.get("lastModified")
        )
        return repo.commits[-1].sha

    def add_real_model(self, repo_id: str, **kwargs: Any) -> str:
        """Add a repository serving the real config in tests/data/hf-configs (and its info)."""
        folder = CONFIGS_DIR / repo_id.replace("/", "__")
        return self.add_model(repo_id, (folder / "config.json").read_bytes(), **kwargs)

    def push_commit(
        self, repo_id: str, config: dict[str, Any] | bytes | None, *, branch: str = "main"
    ) -> str:
        """A new commit on ``branch`` (created if new) with this config; returns its sha."""
        repo = self.repos[repo_id.lower()]
        self._commit(repo, config, branch=branch)
        return repo.commits[-1].sha

    def _commit(
        self,
        repo: FakeRepo,
        config: dict[str, Any] | bytes | None,
        *,
        sha: str | None = None,
        last_modified: str | None = None,
        branch: str = "main",
    ) -> None:
        files: dict[str, bytes] = {"README.md": f"# {repo.repo_id}\n".encode()}
        if config is not None:
            files["config.json"] = (
                config if isinstance(config, bytes) else json.dumps(config, indent=2).encode()
            )
        if sha is None:
            parent = repo.branches.get(branch) or repo.branches.get("main") or ""
            sha = hashlib.sha1(
                (repo.repo_id + parent).encode() + files.get("config.json", b"")
            ).hexdigest()
        stamp = last_modified or time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        repo.commits.append(Commit(sha, files, stamp))
        repo.branches[branch] = sha
        self._listings.clear()

    def add_legacy_id(self, legacy_id: str, repo_id: str) -> None:
        """Make ``/api/models/{legacy_id}`` redirect to ``repo_id``, like the Hub does."""
        self.legacy_ids[legacy_id.lower()] = repo_id

    def requests_for(self, repo_id: str) -> list[LoggedRequest]:
        """Requests that named this repository (API or file)."""
        needle = "/" + repo_id.lower() + "/"
        return [r for r in self.requests if needle in (r.path.lower() + "/")]

    # ------------------------------------------------------------------ server

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the stand-in first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> HubStandIn:
        stand_in = self

        class Handler(_Handler):
            hub = stand_in

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that timed out and hung up is expected in the fault tests.
        pass


def _minimal_info(repo_id: str) -> dict[str, Any]:
    org = repo_id.split("/")[0] if "/" in repo_id else None
    return {
        "_id": hashlib.sha1(repo_id.encode()).hexdigest()[:24],
        "id": repo_id,
        "private": False,
        "pipeline_tag": "text-generation",
        "library_name": "transformers",
        "tags": ["transformers", "safetensors", "text-generation", "license:apache-2.0"],
        "downloads": 10,
        "likes": 1,
        "modelId": repo_id,
        "author": org,
        "gated": False,
        "disabled": False,
        "cardData": {"license": "apache-2.0"},
        "siblings": [],
        "createdAt": "2024-01-01T00:00:00.000Z",
    }


class _Handler(BaseHTTPRequestHandler):
    hub: HubStandIn
    protocol_version = "HTTP/1.1"  # keep-alive, as the Hub; every answer has a Content-Length

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_HEAD(self) -> None:
        self._dispatch(head=True)

    def do_GET(self) -> None:
        self._dispatch(head=False)

    # ------------------------------------------------------------------ replies

    def _send(self, status: int, body: bytes, headers: dict[str, str], head: bool) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _json(self, status: int, payload: Any, head: bool, **headers: str) -> None:
        body = json.dumps(payload).encode()
        self._send(
            status, body, {"Content-Type": "application/json; charset=utf-8", **headers}, head
        )

    def _error(self, status: int, code: str | None, message: str, head: bool, **extra: str) -> None:
        headers = {"X-Error-Message": message, **extra}
        if code:
            headers["X-Error-Code"] = code
        self._json(status, {"error": message}, head, **headers)

    # ------------------------------------------------------------------ routing

    def _dispatch(self, head: bool) -> None:
        hub = self.hub
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        authorization = self.headers.get("Authorization")
        with hub._lock:
            hub.requests.append(LoggedRequest(self.command, self.path, authorization))
        if hub.delay:
            time.sleep(hub.delay)
        token = None
        if authorization and authorization.lower().startswith("bearer "):
            token = authorization.split(" ", 1)[1].strip()
            if token not in hub.valid_tokens:
                self._error(401, None, "Invalid credentials in Authorization header", head)
                return
        if path in ("/api/models", "/api/models/"):
            self._list_models(parse_qs(parts.query), head)
            return
        if path.startswith("/api/models/"):
            rest = path[len("/api/models/") :]
            revision = None
            if "/revision/" in rest:
                rest, revision = rest.split("/revision/", 1)
            self._model_info(rest, revision, head)
            return
        if "/resolve/" in path:
            repo_part, tail = path.lstrip("/").split("/resolve/", 1)
            # The client quotes the revision (``refs/pr/1`` -> ``refs%2Fpr%2F1``); split on the
            # raw path so a quoted slash stays inside the revision.
            raw_tail = parts.path.split("/resolve/", 1)[1]
            raw_revision, _, raw_file = raw_tail.partition("/")
            self._resolve(repo_part, unquote(raw_revision), unquote(raw_file), token, head)
            return
        self._error(404, None, "Not Found", head)

    def _repo(self, repo_id: str, head: bool, redirect_prefix: str, suffix: str) -> FakeRepo | None:
        hub = self.hub
        repo = hub.repos.get(repo_id.lower())
        if repo is None and repo_id.lower() in hub.legacy_ids:
            target = hub.legacy_ids[repo_id.lower()]
            message = f"Temporary Redirect. Redirecting to {redirect_prefix}{target}{suffix}"
            self._send(
                307,
                message.encode(),
                {
                    "Location": quote(f"{redirect_prefix}{target}{suffix}"),
                    "Content-Type": "text/plain; charset=utf-8",
                },
                head,
            )
            return None
        if repo is None:
            self._error(404, "RepoNotFound", "Repository not found", head)
            return None
        if repo.delay:
            time.sleep(repo.delay)
        if repo.fault == "server-error" or (
            repo.fault == "file-server-error" and redirect_prefix == "/"
        ):
            self._error(
                500,
                None,
                "Internal Error - We're working hard to fix this as soon as possible!",
                head,
            )
            return None
        return repo

    def _model_info(self, repo_id: str, revision: str | None, head: bool) -> None:
        suffix = f"/revision/{revision}" if revision else ""
        repo = self._repo(repo_id, head, "/api/models/", suffix)
        if repo is None:
            return
        commit = repo.resolve(revision or "main")
        if commit is None:
            self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}", head)
            return
        body = dict(repo.info)
        body["sha"] = commit.sha
        body["lastModified"] = commit.last_modified
        body["siblings"] = [{"rfilename": name} for name in sorted(commit.files)]
        self._json(200, body, head)

    def _resolve(
        self, repo_id: str, revision: str, filename: str, token: str | None, head: bool
    ) -> None:
        repo = self._repo(repo_id, head, "/", f"/resolve/{revision}/{filename}")
        if repo is None:
            return
        if repo.gated and token not in repo.granted_tokens:
            self._error(
                401,
                "GatedRepo",
                f"Access to model {repo.repo_id} is restricted. You must have access to it and "
                "be authenticated to access it. Please log in.",
                head,
            )
            return
        commit = repo.resolve(revision)
        if commit is None:
            self._error(404, "RevisionNotFound", "Invalid rev id: " + revision, head)
            return
        content = commit.files.get(filename)
        if repo.file_delay and not head:
            time.sleep(repo.file_delay)
        if content is None:
            self._error(
                404,
                "EntryNotFound",
                f'{filename} does not exist on "{revision}"',
                head,
                **{"X-Repo-Commit": commit.sha},
            )
            return
        self._send(
            200,
            content,
            {
                "Content-Type": "application/json" if filename.endswith(".json") else "text/plain",
                "X-Repo-Commit": commit.sha,
                "ETag": f'"{git_blob_sha(content)}"',
                "Accept-Ranges": "bytes",
            },
            head,
        )

    def _list_models(self, query: dict[str, list[str]], head: bool) -> None:
        hub = self.hub
        key = json.dumps({k: v for k, v in query.items() if k != "cursor"}, sort_keys=True)
        with hub._lock:
            rows = hub._listings.get(key)
        if rows is None:
            rows = self._listing_rows(query)
            with hub._lock:
                hub._listings[key] = rows
        self._listing_page(query, rows, head)

    def _listing_rows(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        hub = self.hub
        rows = [repo.info | {"sha": repo.branches["main"]} for repo in list(hub.repos.values())]
        if "search" in query:
            needle = query["search"][0].lower()
            rows = [r for r in rows if needle in r["id"].lower()]
        if "author" in query:
            author = query["author"][0].lower()
            rows = [r for r in rows if r["id"].lower().startswith(author + "/")]
        for wanted in query.get("filter", []):
            rows = [
                r
                for r in rows
                if wanted in (r.get("tags") or []) or wanted == r.get("library_name")
            ]
        if "pipeline_tag" in query:
            rows = [r for r in rows if r.get("pipeline_tag") == query["pipeline_tag"][0]]
        sort = (query.get("sort") or ["downloads"])[0]
        key = {
            "downloads": "downloads",
            "likes": "likes",
            "createdAt": "createdAt",
            "lastModified": "lastModified",
        }.get(sort, "downloads")
        rows.sort(key=lambda r: (r.get(key) or 0, r["id"]), reverse=True)
        return rows

    def _listing_page(
        self, query: dict[str, list[str]], rows: list[dict[str, Any]], head: bool
    ) -> None:
        hub = self.hub
        # Pages of at most LISTING_PAGE_SIZE, like the Hub: a ``Link: <...>; rel="next"``
        # header carries the cursor of the next page while more rows remain.
        page_size = min(int(query.get("limit", [LISTING_PAGE_SIZE])[0]), LISTING_PAGE_SIZE)
        offset = int(query.get("cursor", ["0"])[0])
        page_number = offset // max(page_size, 1) + 1
        with hub._lock:
            faults = hub.listing_faults.get(page_number)
            status = faults.pop(0) if faults else None
        if status is not None:
            self._error(status, None, f"injected fault on listing page {page_number}", head)
            return
        fields = [
            "_id",
            "id",
            "likes",
            "downloads",
            "private",
            "pipeline_tag",
            "library_name",
            "tags",
            "createdAt",
            "modelId",
            "gated",
        ]
        expand = query.get("expand", []) + query.get("expand[]", [])
        if expand:
            fields = ["_id", "id", *expand]
        listing = [{k: r.get(k) for k in fields} for r in rows[offset : offset + page_size]]
        headers = {}
        if offset + page_size < len(rows):
            following = {k: v for k, v in query.items() if k != "cursor"}
            following["cursor"] = [str(offset + page_size)]
            headers["Link"] = (
                f'<{hub.url}/api/models?{urlencode(following, doseq=True)}>; rel="next"'
            )
        self._json(200, listing, head, **headers)


@contextmanager
def running_hub(delay: float = 0.0) -> Iterator[HubStandIn]:
    """A started stand-in, stopped on exit."""
    hub = HubStandIn(delay=delay).start()
    try:
        yield hub
    finally:
        hub.stop()
