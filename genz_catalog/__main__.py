"""``python -m genz_catalog`` runs the CLI."""

from genz_catalog.cli import cli

if __name__ == "__main__":
    cli(prog_name="genz-catalog")
