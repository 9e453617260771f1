"""The document store: every large JSON value the catalog keeps, stored once.

A config.json, GenZ's ``ModelConfig`` keyword arguments, the memory figures, the converter's
warnings and the snapshot of a superseded version are *documents*: ``documents`` holds each
distinct text once, keyed by a hash of it (the first 16 bytes of its SHA-256), and rows refer to
it by the document's integer id. Texts are canonical (written with sorted keys), so equal values
share a row: a Hub fine-tune whose config.json is its base model's, byte for byte, costs its
``models`` row and nothing more.

Where documents are referenced:

- ``models.config_doc``, ``genz_doc``, ``memory_doc``, ``warnings_doc``: what the columns
  ``config_json``, ``genz_config_json``, ``memory_json`` and ``warnings_json`` held. The GenZ
  keyword arguments name the model (``"model": "org/name"``); the stored text says
  ``"model": ""`` instead, so models with one config share it, and readers put the id back
  (:func:`genz_body_for` / :func:`genz_text`).
- ``model_versions.snapshot_doc``: the version's snapshot, as the ``snapshot_json`` column held
  it. NULL for a model's current version: its snapshot *is* the ``models`` row, so the writer
  stores it only when a newer version supersedes it (:func:`version_snapshot_text`).

A config.json is stored *packed* (see :func:`pack_document`): a BLOB, raw deflate with a fixed
dictionary of the words configs share, about a third of its text's size. Every other document
stays text, so SQL reads memory figures, GenZ arguments and snapshots with ``json_extract`` as
before. :func:`unpack_document` (and the web server's SQL function ``genz_document(body)``)
gives a packed body's text back; readers that go through this module get texts only.

Readers that want the old shape (``config_json`` and friends as text) get it from
:func:`expand_model_rows` and :func:`snapshot_texts`; SQL gets it from :data:`MODEL_JSON_SQL`.
The published JSON (``models.json``, ``model_versions.json``, exports) keeps that shape.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .catalog.ids import variable_limit
from .errors import CatalogError
from .limits import MAX_CONFIG_BYTES

#: ``models`` column holding a document id -> the JSON text column it stands for.
MODEL_DOCUMENT_COLUMNS = {
    "config_doc": "config_json",
    "genz_doc": "genz_config_json",
    "memory_doc": "memory_json",
    "warnings_doc": "warnings_json",
}
#: The JSON text columns (the published shape of a ``models`` row).
MODEL_JSON_COLUMNS = tuple(MODEL_DOCUMENT_COLUMNS.values())
#: Placeholder for the model's own id inside its stored GenZ keyword arguments.
_GENZ_MODEL_PLACEHOLDER = '"model": ""'

#: ``SELECT`` expressions giving a ``models m`` row's documents back as the text columns of the
#: published shape (``genz_config_json`` minified by ``json_set``, equal as JSON).
MODEL_JSON_SQL = ", ".join(
    (
        "(SELECT genz_document(body) FROM documents WHERE id = m.config_doc) AS config_json",
        "(SELECT CASE WHEN json_extract(body, '$.model') = '' "
        "THEN json_set(body, '$.model', m.model_id) ELSE body END "
        "FROM documents WHERE id = m.genz_doc) AS genz_config_json",
        "(SELECT body FROM documents WHERE id = m.memory_doc) AS memory_json",
        "(SELECT body FROM documents WHERE id = m.warnings_doc) AS warnings_json",
    )
)


#: Every (table, column) holding a document id.
REFERENCES = (
    *(("models", column) for column in MODEL_DOCUMENT_COLUMNS),
    ("model_versions", "snapshot_doc"),
)
#: Ids of documents no row refers to (left by an update, a rollback or a hard delete).
UNREFERENCED_SQL = (
    "SELECT id FROM documents WHERE id NOT IN ("
    + " UNION ".join(
        f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL" for table, column in REFERENCES
    )
    + ")"
)
#: References to documents that do not exist (a damaged file): ``(table.column, count)`` rows.
DANGLING_SQL = " UNION ALL ".join(
    f"SELECT '{table}.{column}', count(*) FROM {table} WHERE {column} IS NOT NULL "
    f"AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.id = {table}.{column})"
    for table, column in REFERENCES
)


#: The words a Hugging Face config.json is made of: every key that at least three of the 56
#: configs of the embedded default catalog use, least common first (deflate codes a nearer match
#: in fewer bits), as canonical JSON writes them. Bodies packed with codec 1 need exactly this
#: text to be read: never edit it; a better dictionary is a new codec.
_CODEC_1_WORDS = (
    "partial_rotary_factor num_experts do_sample text-generation summary_use_proj summary_type "
    "summary_proj_to_labels summary_first_dropout summary_activation n_embd high_freq_factor "
    "low_freq_factor logit_scale patch_size vision_config num_heads n_inner "
    "AutoModelForSequenceClassification apply_residual_connection_post_layernorm alibi type "
    "use_conv_bias time_step_rank state_size residual_in_fp32 expand conv_kernel n_head rope_type "
    "attn_pdrop num_local_experts mlp_bias num_beams early_stopping task_specific_params "
    "n_positions norm_topk_prob moe_intermediate_size use_bias activation_function "
    "hidden_dropout factor AutoModel prefix embd_pdrop layer_norm_eps n_layer resid_pdrop "
    "router_aux_loss_coef output_router_logits max_length original_max_position_embeddings "
    "num_experts_per_tok AutoModelForCausalLM AutoConfig auto_map layer_norm_epsilon "
    "use_sliding_window max_window_layers pretraining_tp head_dim pad_token_id _name_or_path "
    "attention_bias rope_scaling sliding_window rms_norm_eps tie_word_embeddings rope_theta "
    "num_key_value_heads attention_dropout max_position_embeddings hidden_act "
    "num_attention_heads intermediate_size bos_token_id torch_dtype num_hidden_layers "
    "initializer_range use_cache hidden_size eos_token_id transformers_version architectures "
    "vocab_size model_type"
).split()
#: Deflate's preset dictionary for codec 1 (1,608 bytes): each word as a key, then the values
#: most configs hold.
CODEC_1_DICTIONARY = (
    "".join(f'"{word}": ' for word in _CODEC_1_WORDS)
    + '"float32", "float16", "silu", "gelu", null, false, true, "bfloat16", '
).encode()
#: First byte of a packed body: which codec packed it (0 is never used, so a packed body is
#: never mistaken for an empty one).
_CODEC_1 = b"\x01"
#: Texts shorter than this stay text: packing would save a few bytes and cost a BLOB's reader.
_PACK_FROM_BYTES = 128
#: Deflate's effort and hash-table size for packing. A bulk import packs every new config:
#: on 2,000 generated variants of real configs, level 4 with memory level 8 took 21 us a
#: config against 25.5 at 6 and 9 (zlib's most), for 296 bytes against 289; on the real
#: configs of the tests, 0.297 of the text against 0.290. Level 1 saves 2.5 us more for 0.312.
#: Readers need neither: any deflate stream inflates with the same dictionary.
_PACK_LEVEL = 4
_PACK_MEMORY_LEVEL = 8


def pack_document(text: str) -> str | bytes:
    """A config's stored body: ``text`` deflated with :data:`CODEC_1_DICTIONARY` behind the
    codec byte, or ``text`` itself when that is not at least 16 bytes smaller."""
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw) < _PACK_FROM_BYTES:
        return text
    packer = zlib.compressobj(
        _PACK_LEVEL,
        zlib.DEFLATED,
        -15,
        _PACK_MEMORY_LEVEL,
        zlib.Z_DEFAULT_STRATEGY,
        CODEC_1_DICTIONARY,
    )
    packed = _CODEC_1 + packer.compress(raw) + packer.flush()
    return packed if len(packed) + 16 <= len(raw) else text


def unpack_document(body: str | bytes | None) -> str | None:
    """A stored body's text (see :func:`pack_document`); text and None are given back as they
    are. Raises ValueError for a BLOB that is not a packed document."""
    if body is None or isinstance(body, str):
        return body
    raw = bytes(body)
    if raw[:1] != _CODEC_1:
        raise ValueError(f"document body is a BLOB of unknown codec {raw[:1].hex() or 'empty'}")
    unpacker = zlib.decompressobj(-15, CODEC_1_DICTIONARY)
    try:
        # At most one byte over the longest config a catalog stores: a BLOB made to inflate
        # without end (SQL from a web visitor) stops there.
        text = unpacker.decompress(raw[1:], MAX_CONFIG_BYTES + 1)
    except zlib.error as exc:
        raise ValueError(f"packed document body is damaged: {exc}") from None
    if len(text) > MAX_CONFIG_BYTES:
        raise ValueError(f"packed document body unpacks to more than {MAX_CONFIG_BYTES:,} bytes")
    if not unpacker.eof or unpacker.unused_data:
        raise ValueError("packed document body is cut short or has bytes after its end")
    return text.decode("utf-8", "surrogatepass")


def remove_unreferenced(conn: sqlite3.Connection) -> int:
    """Delete the documents no row refers to; returns how many. The caller holds the write
    transaction and has switched foreign keys off: no row refers to them, and with foreign keys
    on SQLite would scan ``models`` once per deleted document to make sure."""
    return conn.execute(f"DELETE FROM documents WHERE id IN ({UNREFERENCED_SQL})").rowcount


def document_hash(body: str) -> bytes:
    """The key of a document's text: the first 16 bytes of its UTF-8 SHA-256 (bytes)."""
    return hashlib.sha256(body.encode("utf-8", "surrogatepass")).digest()[:16]


#: Most documents one INSERT statement holds (see :func:`store_documents`).
DOCUMENTS_PER_STATEMENT = 200
#: The sizes of :func:`store_documents`' statements: a few texts (one model's documents, as
#: ``load``, ``add`` and every single write store) take a small statement, not one padded to
#: 200 whose every repeat is another look-up of the hash index.
DOCUMENT_STATEMENT_SIZES = (8, 32, DOCUMENTS_PER_STATEMENT)


#: A document whose key and stored form are known already: (text, key, stored body), as
#: :func:`known_document` gives. A bulk-import worker computes them once per distinct config and
#: architecture, so the writer neither hashes nor packs those texts.
KnownDocument = tuple[str, bytes, str | bytes]


def known_document(text: str, packed: str | bytes | None = None) -> KnownDocument:
    """``text``'s :data:`KnownDocument`; ``packed``: its :func:`pack_document` form when it is
    to be stored packed (and was packed already), else it is stored as text."""
    return (text, document_hash(text), text if packed is None else packed)


#: New documents' ids come back from their INSERT where SQLite can (3.35 and later): at a
#: million models a second look-up of each new key cost ~5% of a bulk import's writer.
_RETURNING = " RETURNING hash, id" if sqlite3.sqlite_version_info >= (3, 35) else ""


def store_documents(
    conn: sqlite3.Connection,
    bodies: Sequence[str | None],
    packed: Sequence[bool] | None = None,
    known: Sequence[KnownDocument | None] | None = None,
) -> list[int | None]:
    """Store each distinct text once; return each one's document id (None for None).

    ``packed[i]`` (default False) stores a new ``bodies[i]`` packed (:func:`pack_document`); a
    text stored already keeps its row, packed or not. ``known[i]``, when its text equals
    ``bodies[i]``, gives that text's key and stored form instead of computing them (its stored
    form must be packed exactly when ``packed[i]`` is). The caller holds the write transaction.
    One ``SELECT`` per few hundred distinct texts, and an ``INSERT`` and a ``SELECT`` more for
    those not stored yet: only new texts are packed.
    """
    # key -> (text, whether to pack it, its stored form when known)
    wanted: dict[bytes, tuple[str, bool, str | bytes | None]] = {}
    keys: list[bytes | None] = []
    for n, body in enumerate(bodies):
        if body is None:
            keys.append(None)
            continue
        pack = packed is not None and packed[n]
        given = known[n] if known is not None else None
        if given is not None and given[0] == body:
            key, stored = given[1], given[2]
        else:
            key, stored = document_hash(body), None
        if key not in wanted or pack:
            wanted[key] = (body, pack, stored)
        keys.append(key)
    ids: dict[bytes, int] = {}
    items = list(wanted.items())
    # Statements of a few fixed sizes (a chunk padded with a repeat, which changes nothing):
    # SQLite keeps a cached statement's bound texts until it runs again, so these few
    # statements (at most sum(DOCUMENT_STATEMENT_SIZES) texts) are all the memory this holds.
    largest = max(1, min(DOCUMENTS_PER_STATEMENT, variable_limit(conn) // 2))

    def padded(chunk: list) -> tuple[int, list]:
        size = next((n for n in DOCUMENT_STATEMENT_SIZES if len(chunk) <= n <= largest), largest)
        return size, chunk + [chunk[-1]] * (size - len(chunk))

    def select(chunk: list) -> list:
        size, hashes = padded([key for key, _ in chunk])
        sql = f"SELECT hash, id FROM documents WHERE hash IN ({', '.join('?' * size)})"
        return conn.execute(sql, hashes).fetchall()

    def stored_form(body: str, pack: bool, stored: str | bytes | None) -> str | bytes:
        if stored is not None:
            return stored
        return pack_document(body) if pack else body

    for start in range(0, len(items), largest):
        chunk = items[start : start + largest]
        ids.update(select(chunk))
        new = [(key, stored_form(*value)) for key, value in chunk if key not in ids]
        if new:
            size, rows = padded(new)
            inserted = conn.execute(
                "INSERT OR IGNORE INTO documents (hash, body) VALUES "
                + ", ".join(["(?, ?)"] * size)
                + _RETURNING,
                [v for pair in rows for v in pair],
            ).fetchall()
            # Without RETURNING (SQLite before 3.35), or a row ignored: found by its key.
            ids.update(inserted)
            if missing := [item for item in new if item[0] not in ids]:
                ids.update(select(missing))
    return [None if key is None else ids[key] for key in keys]


def load_documents(conn: sqlite3.Connection, ids: Iterable[int | None]) -> dict[int, str]:
    """The texts of these document ids (``{id: text}``, packed bodies unpacked); unknown ids
    are left out. Raises CatalogError for a damaged packed body (doctor names it)."""
    wanted = sorted({i for i in ids if i is not None})
    found: dict[int, str] = {}
    per_statement = variable_limit(conn)
    for start in range(0, len(wanted), per_statement):
        chunk = wanted[start : start + per_statement]
        for doc, body in conn.execute(
            f"SELECT id, body FROM documents WHERE id IN ({', '.join('?' * len(chunk))})",
            chunk,
        ):
            if body.__class__ is not str:
                try:
                    body = unpack_document(body)
                except ValueError as exc:
                    raise CatalogError(
                        f"document {doc} of the catalog is damaged ({exc}); run genz-catalog doctor"
                    ) from None
            found[doc] = body
    return found


def genz_body_for(text: str | None, model_id: str) -> str | None:
    """The stored form of a model's ``genz_config_json``: its own id replaced by ``""``."""
    if text is None:
        return None
    own = f'"model": {json.dumps(model_id)}'
    if own in text:
        return text.replace(own, _GENZ_MODEL_PLACEHOLDER, 1)
    return text


def genz_text(body: str | None, model_id: str) -> str | None:
    """A stored GenZ document as the model's ``genz_config_json`` (inverse of
    :func:`genz_body_for`)."""
    if body is None:
        return None
    if _GENZ_MODEL_PLACEHOLDER in body:
        return body.replace(_GENZ_MODEL_PLACEHOLDER, f'"model": {json.dumps(model_id)}', 1)
    return body


def model_document_bodies(row: Mapping[str, Any]) -> list[str | None]:
    """The four document texts of a ``models`` row in the published shape, in
    :data:`MODEL_DOCUMENT_COLUMNS` order, as they are stored."""
    return [
        row.get("config_json"),
        genz_body_for(row.get("genz_config_json"), row["model_id"]),
        row.get("memory_json"),
        row.get("warnings_json"),
    ]


#: A row's documents when none is known (see :func:`to_stored_row`).
_NONE_KNOWN: tuple[None, ...] = (None,) * len(MODEL_DOCUMENT_COLUMNS)


def to_stored_row(
    conn: sqlite3.Connection,
    rows: Sequence[dict[str, Any]],
    known: Sequence[Sequence[KnownDocument | None] | None] | None = None,
) -> None:
    """Replace the JSON text columns of ``rows`` (published shape) by document ids, in place.

    A row without a given text column keeps its document column unset (an update that does
    not touch it). ``known[n]``: row ``n``'s documents in :data:`MODEL_DOCUMENT_COLUMNS` order
    as :func:`model_document_bodies` gives them, when their keys are known already (each is used
    only for a text equal to its own, see :func:`store_documents`).
    """
    bodies: list[str | None] = []
    present: list[list[bool]] = []
    given: list[KnownDocument | None] = []
    for n, row in enumerate(rows):
        flags = [column in row for column in MODEL_JSON_COLUMNS]
        present.append(flags)
        full = dict(row)
        full.setdefault("model_id", "")
        bodies.extend(model_document_bodies(full))
        documents = known[n] if known is not None else None
        given.extend(documents if documents is not None else _NONE_KNOWN)
    # Only the config is packed: the other documents are read by SQL (json_extract) and by
    # every GenZ lookup, and are small.
    ids = store_documents(
        conn,
        bodies,
        [column == "config_doc" for _ in rows for column in MODEL_DOCUMENT_COLUMNS],
        given,
    )
    for n, row in enumerate(rows):
        for k, (doc_column, text_column) in enumerate(MODEL_DOCUMENT_COLUMNS.items()):
            if present[n][k]:
                row[doc_column] = ids[4 * n + k]
                del row[text_column]


def model_document_ids(rows: Sequence[Mapping[str, Any]]) -> set[int]:
    """The document ids ``models`` rows refer to."""
    return {row[c] for row in rows for c in MODEL_DOCUMENT_COLUMNS if row.get(c) is not None}


def expand_model_rows(
    conn: sqlite3.Connection | None,
    rows: Sequence[dict[str, Any]],
    texts: Mapping[int, str] | None = None,
) -> None:
    """Give ``models`` rows (dicts with the ``*_doc`` columns) their JSON text columns back, in
    place: the published shape, with the document ids removed. ``texts`` (``{id: body}``, as
    :func:`load_documents` gives) saves reading them through ``conn``."""
    if not rows or "config_doc" not in rows[0]:
        return
    if texts is None:
        assert conn is not None
        texts = load_documents(conn, model_document_ids(rows))
    for row in rows:
        for doc_column, text_column in MODEL_DOCUMENT_COLUMNS.items():
            doc = row.pop(doc_column, None)
            row[text_column] = None if doc is None else texts.get(doc)
        row["genz_config_json"] = genz_text(row["genz_config_json"], row["model_id"])


def snapshot_texts(
    conn: sqlite3.Connection, versions: Sequence[dict[str, Any]], live: Callable[[str], str]
) -> None:
    """Give ``model_versions`` rows their ``snapshot_json`` back, in place (``snapshot_doc``
    removed): a stored snapshot's text, or for a current version (NULL ``snapshot_doc``) the
    snapshot of the live row, from ``live(model_id)``."""
    texts = load_documents(conn, (v.get("snapshot_doc") for v in versions))
    for version in versions:
        doc = version.pop("snapshot_doc", None)
        version["snapshot_json"] = texts.get(doc) if doc is not None else live(version["model_id"])


def version_snapshot_text(snapshot: Mapping[str, Any]) -> str:
    """The stored text of a version snapshot (sorted keys, as ``snapshot_json`` held it)."""
    return json.dumps(snapshot, sort_keys=True)


# --------------------------------------------------------------------------------------------
# Moving a catalog written before the store (m013) into it, in batches, resumably.

#: Rows moved per transaction by :func:`move_into_store`.
MOVE_BATCH = 5000


def columns_of(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info([{table}])")}


def move_pending(conn: sqlite3.Connection) -> bool:
    """Whether the file still holds JSON texts in the columns the store replaced."""
    # One query: every writable open asks.
    return (
        conn.execute(
            "SELECT 1 FROM pragma_table_info('models') WHERE name = 'config_json' UNION ALL "
            "SELECT 1 FROM pragma_table_info('model_versions') WHERE name = 'snapshot_json'"
        ).fetchone()
        is not None
    )


def move_into_store(
    conn: sqlite3.Connection,
    begin: Callable[[], Any],
    progress: Callable[[str, int, int], None] | None = None,
    batch: int = MOVE_BATCH,
) -> None:
    """Move an older file's JSON texts into ``documents``, ``batch`` rows per transaction.

    ``begin()`` returns a context manager holding one write transaction (the catalog's
    ``write_transaction``). Each batch commits on its own, so a run stopped at any point
    (killed, out of disk) resumes where it stood: a row whose text columns are NULL has been
    moved. When every row is moved, the old columns are dropped. ``progress(what, done,
    total)`` is called after each batch.
    """
    # Another process may be moving the same file: every step looks again under the write lock
    # and stops when the columns it moves are gone.
    if "config_json" in columns_of(conn, "models"):
        pending = " OR ".join(f"{c} IS NOT NULL" for c in MODEL_JSON_COLUMNS)
        with begin():
            total = conn.execute("SELECT count(*) FROM models").fetchone()[0]
            moving = "config_json" in columns_of(conn, "models")
            left = (
                conn.execute(f"SELECT count(*) FROM models WHERE {pending}").fetchone()[0]
                if moving
                else 0
            )
            done = total - left
        last = 0
        while moving:
            with begin():
                if "config_json" not in columns_of(conn, "models"):
                    break
                rows = conn.execute(
                    "SELECT rowid, model_id, config_json, genz_config_json, memory_json, "
                    f"warnings_json FROM models WHERE rowid > ? AND ({pending}) "
                    "ORDER BY rowid LIMIT ?",
                    [last, batch],
                ).fetchall()
                if not rows:
                    break
                dicts = [
                    dict(zip(("model_id", *MODEL_JSON_COLUMNS), r[1:], strict=True)) for r in rows
                ]
                to_stored_row(conn, dicts)
                conn.executemany(
                    "UPDATE models SET config_doc = ?, genz_doc = ?, memory_doc = ?, "
                    "warnings_doc = ?, config_json = NULL, genz_config_json = NULL, "
                    "memory_json = NULL, warnings_json = NULL WHERE rowid = ?",
                    [
                        (*(d[c] for c in MODEL_DOCUMENT_COLUMNS), r[0])
                        for d, r in zip(dicts, rows, strict=True)
                    ],
                )
            last = rows[-1][0]
            done += len(rows)
            if progress:
                progress("models", done, total)
    if "snapshot_json" in columns_of(conn, "model_versions"):
        # The column is NOT NULL: '' marks a moved snapshot until the column is dropped.
        with begin():
            total = conn.execute("SELECT count(*) FROM model_versions").fetchone()[0]
            moving = "snapshot_json" in columns_of(conn, "model_versions")
            done = (
                conn.execute(
                    "SELECT count(*) FROM model_versions WHERE snapshot_json = ''"
                ).fetchone()[0]
                if moving
                else total
            )
        last = 0
        while moving:
            with begin():
                if "snapshot_json" not in columns_of(conn, "model_versions"):
                    break
                rows = conn.execute(
                    "SELECT v.id, v.snapshot_json, "
                    "coalesce(v.version = (SELECT current_version FROM models m "
                    "WHERE m.model_id = v.model_id), 0) "
                    "FROM model_versions v WHERE v.id > ? AND v.snapshot_json != '' "
                    "ORDER BY v.id LIMIT ?",
                    [last, batch],
                ).fetchall()
                if not rows:
                    break
                # A current version's snapshot is its live row: stored only once superseded.
                historical = [r for r in rows if not r[2]]
                ids = store_documents(conn, [r[1] for r in historical])
                conn.executemany(
                    "UPDATE model_versions SET snapshot_doc = ? WHERE id = ?",
                    [(doc, r[0]) for doc, r in zip(ids, historical, strict=True)],
                )
                conn.executemany(
                    "UPDATE model_versions SET snapshot_json = '' WHERE id = ?",
                    [(r[0],) for r in rows],
                )
            last = rows[-1][0]
            done += len(rows)
            if progress:
                progress("versions", done, total)
    with begin():
        for column in MODEL_JSON_COLUMNS:
            if column in columns_of(conn, "models"):
                conn.execute(f"ALTER TABLE models DROP COLUMN {column}")
        if "snapshot_json" in columns_of(conn, "model_versions"):
            conn.execute("ALTER TABLE model_versions DROP COLUMN snapshot_json")


def print_progress(what: str, done: int, total: int) -> None:
    """Default progress of :func:`move_into_store`: one line on stderr per batch."""
    print(
        f"\rgenz-catalog: moving {what} into the document store: {done:,}/{total:,}",
        end="\n" if done >= total else "",
        file=sys.stderr,
        flush=True,
    )
