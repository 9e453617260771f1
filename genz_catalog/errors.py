"""Expected failures. The CLI turns each into one line on stderr and exit code 1."""

from __future__ import annotations


class CatalogError(Exception):
    """Base class of every expected catalog failure; its message is meant for the user."""


class ModelNotFoundError(CatalogError, LookupError):
    """No model (or alias) with that id; the message lists close matches when there are any."""

    def __init__(self, model_id: str, close_matches: list[str] | None = None):
        self.model_id = model_id
        self.close_matches = close_matches or []
        message = f"no model named {model_id!r}"
        if self.close_matches:
            message += "; did you mean: " + ", ".join(self.close_matches) + "?"
        super().__init__(message)


class ModelExistsError(CatalogError):
    """An add of an id that is already in the catalog, without force."""

    def __init__(self, model_id: str):
        self.model_id = model_id
        super().__init__(f"model {model_id!r} already exists; use --force to replace it")


class NameTakenError(ModelExistsError):
    """An add of a bare id that is already another model's name or alias: a new model never
    shadows it, with or without force."""

    def __init__(self, name: str, owner: str):
        self.owner = owner
        CatalogError.__init__(
            self,
            f"{name!r} is already a name of model {owner!r}; give the new model an org/name id",
        )
        self.model_id = name


class RepeatedInImportError(CatalogError):
    """A model id that an import meets again, with another config, after writing it (several
    config files name the same model): only the first is written."""

    def __init__(self, model_id: str):
        self.model_id = model_id
        super().__init__(
            f"{model_id!r} appears more than once in this import; only its first config is written"
        )


class VersionNotFoundError(CatalogError, LookupError):
    """A rollback or diff naming a version the model does not have."""


class InvalidModelIdError(CatalogError, ValueError):
    """A model id that breaks one of the id rules (the message names the rule)."""


class InvalidInputError(CatalogError, ValueError):
    """Any other bad input: a size that does not parse, a metric that is not a number, ..."""
