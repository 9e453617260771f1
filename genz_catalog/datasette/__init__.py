"""Datasette integration: the packaged ``metadata.yml``, plugins and templates, and the app builder.

Datasette reads the catalog file read-only; everything here only reads.
"""

from __future__ import annotations

from pathlib import Path

#: Folder of this package; it ships inside the wheel with its data files.
PACKAGE_DIR = Path(__file__).resolve().parent
#: The packaged Datasette metadata (titles, facets, canned queries).
METADATA_PATH = PACKAGE_DIR / "metadata.yml"
#: The packaged plugins folder (thin files importing :mod:`genz_catalog.datasette.hooks`).
PLUGINS_DIR = PACKAGE_DIR / "plugins"
#: Templates for the plugin's own pages (the chart).
TEMPLATES_DIR = PACKAGE_DIR / "templates"
#: The name (and URL path) the catalog is served under, whatever its file is called.
DATABASE_NAME = "catalog"
