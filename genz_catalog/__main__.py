"""``python -m genz_catalog`` runs the CLI."""

from genz_catalog.cli import main

if __name__ == "__main__":
    main()
