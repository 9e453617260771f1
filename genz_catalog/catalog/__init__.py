"""The catalog library: the rooms behind :class:`genz_catalog.manager.ModelManager`.

- :mod:`.ids`: model ids and their validation, sizes, dates, timestamps, config hashes, and
  the one "which names are taken" query (:func:`.ids.name_owners`).
- :mod:`.config_files`: finding and reading local ``config.json`` files within the limits
  (the Hub client parses downloads with the same :func:`.config_files.parse_config_bytes`).
- :mod:`.prepared`: :class:`.prepared.PreparedModel`, a model validated and converted outside
  any transaction (what a bulk-import worker produces), plus bounds and Hub columns.
- :mod:`.writes`: THE write path, :func:`.writes.write_models`: single adds (a batch of one),
  bulk adds, ``admin.load_catalog`` and the GenZ static sync all write models through it, with
  version, aliases, FTS (triggers) and cache invalidation in one transaction. Rollback,
  delete, undelete and new aliases are here too.
- :mod:`.reads`: one model by id or alias, listings, full-text search, close matches.
- :mod:`.versions`: what a snapshot holds, history and diffs.
- :mod:`.metrics`: checking a quality metric and the one upsert that stores metrics.
- :mod:`.cache`: cached values tied to a model's config hash.
- :mod:`.stats`: totals over the live catalog.

Functions take an open ``sqlite_utils.Database`` (migrated by :func:`genz_catalog.db.connect`)
and a model's stored id where they say so; ``ModelManager`` resolves aliases and case first.
"""
