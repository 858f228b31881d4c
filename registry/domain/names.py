"""Names of securables (`catalog.schema.model`), aliases and tags, and the rules they follow."""

import posixpath
import re
import unicodedata
from dataclasses import dataclass

from registry.domain.errors import InvalidArgument

MAX_NAME_LENGTH = 255
MAX_MODEL_NAME_LENGTH = 256  # the width of MLflow's own name column
MAX_TAG_KEY_LENGTH = 250
MAX_TAG_VALUE_LENGTH = 5000
MAX_COMMENT_LENGTH = 65536

# Letters (any script, with their combining marks), digits, underscore and hyphen; no dots (the
# separator), slashes, spaces or control characters, which would make paths and names ambiguous.
_WORD = re.compile(r"\w")
_ALIAS = re.compile(r"^[\w-]+\Z")
# MLflow resolves `models:/m/latest` and `models:/m/v3`-like references itself.
_VERSION_LIKE_ALIAS = re.compile(r"^v\d+\Z", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0, DEL and C1

RESERVED_CATALOG_NAMES = frozenset({"system", "information_schema", "hive_metastore", "samples"})
RESERVED_SCHEMA_NAMES = frozenset({"information_schema"})
RESERVED_ALIASES = frozenset({"latest"})
STAGES = ("None", "Staging", "Production", "Archived")


# Unity Catalog's rule (`[a-zA-Z0-9_@-]+`: e.g. per-user schemas named after an e-mail address),
# widened to the letters and digits of every script.
_PLAIN_IDENTIFIER = re.compile(r"^[\w@-]+\Z")


def _is_identifier(value: str) -> bool:
    if _PLAIN_IDENTIFIER.match(value):  # nearly every name: no need to look at each character
        return True

    def allowed(ch: str) -> bool:
        return bool(_WORD.match(ch)) or ch in "@-" or unicodedata.category(ch).startswith("M")

    return all(allowed(ch) for ch in value)


def identifier(kind: str, value: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidArgument(f"{kind} name must be a non-empty string", field=kind)
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidArgument(
            f"{kind} name is {len(value)} characters long; the limit is {MAX_NAME_LENGTH}", field=kind
        )
    if not _is_identifier(value):
        raise InvalidArgument(
            f"invalid {kind} name {value!r}: use letters, digits, '_', '-' and '@'; "
            "no dots, slashes, spaces or control characters",
            field=kind,
        )
    return value


def catalog_name(value: str) -> str:
    identifier("catalog", value)
    if value.lower() in RESERVED_CATALOG_NAMES:
        raise InvalidArgument(f"catalog name {value!r} is reserved", field="catalog")
    return value


def schema_name(value: str) -> str:
    identifier("schema", value)
    if value.lower() in RESERVED_SCHEMA_NAMES:
        raise InvalidArgument(f"schema name {value!r} is reserved", field="schema")
    return value


def model_name(value: str) -> str:
    """A registered model's own name (the last level): whatever MLflow's server accepts, which is
    more than Unity Catalog does (spaces, dots, '@'); the Unity Catalog surface narrows it to an
    identifier. Catalog and schema names have no dots, so the first two dots of a full name are
    always the separators."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument("model name must be a non-empty string", field="model")
    if len(value) > MAX_MODEL_NAME_LENGTH:
        raise InvalidArgument(f"model name is {len(value)} characters long; the limit is "
                              f"{MAX_MODEL_NAME_LENGTH}", field="model")
    if "/" in value or ":" in value:
        raise InvalidArgument(f"Invalid model name '{value}'. Names cannot contain '/' or ':'.",
                              field="model")
    if _CONTROL.search(value):
        raise InvalidArgument(f"Invalid model name {value!r}: it contains control characters",
                              field="model")
    # Names become folder names in some stores: one must not resolve to another.
    normal = posixpath.normpath(value)
    if normal != value or normal == "." or normal.startswith(".."):
        raise InvalidArgument(f"Invalid model name '{value}': as a path it would resolve to "
                              f"{normal!r}", field="model")
    return value


def workspace_model(workspace_schema: str, name: str) -> str:
    """The full name of the model an MLflow (`http://`) client calls `name`: MLflow's registry is
    flat, and every name in it, dotted or not, is a model of the workspace schema."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgument("Missing value for required parameter 'name'.", field="name")
    return f"{workspace_schema}.{model_name(name)}"


def workspace_name(workspace_schema: str, full_name: str) -> str | None:
    """The name an MLflow client knows the model `full_name` by, or None if the model is not in
    the workspace schema (MLflow's surface does not show it)."""
    prefix = workspace_schema + "."
    return full_name[len(prefix):] if full_name.startswith(prefix) else None


def levels(full_name: str) -> list[str]:
    """The levels of a securable's dotted name, catalog first: at most three, since a model's own
    name may hold dots but a catalog's or a schema's may not."""
    return full_name.split(".", 2)


@dataclass(frozen=True, slots=True)
class FullName:
    """A registered model's three-level name."""

    catalog: str
    schema: str
    name: str

    @classmethod
    def parse(cls, value: str) -> "FullName":
        if not isinstance(value, str):
            raise InvalidArgument("model name must be a string", field="name")
        parts = levels(value)
        if len(parts) != 3:
            raise InvalidArgument(
                f"invalid model name {value!r}: expected a three-level name catalog.schema.model",
                field="name",
            )
        return cls(catalog_name(parts[0]), schema_name(parts[1]), model_name(parts[2]))

    @property
    def schema_full_name(self) -> str:
        return f"{self.catalog}.{self.schema}"

    def __str__(self) -> str:
        return f"{self.catalog}.{self.schema}.{self.name}"


def alias_name(value: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidArgument("alias must be a non-empty string", field="alias")
    if len(value) > MAX_NAME_LENGTH:
        raise InvalidArgument(f"alias is longer than {MAX_NAME_LENGTH} characters", field="alias")
    if not _ALIAS.match(value):
        raise InvalidArgument(
            f"invalid alias {value!r}: use letters, digits, '_' and '-'", field="alias"
        )
    if value.lower() in RESERVED_ALIASES or _VERSION_LIKE_ALIAS.match(value):
        raise InvalidArgument(
            f"alias {value!r} is reserved: 'latest' and 'v<number>' name versions", field="alias"
        )
    return value


def tag_key(value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument("tag key must be a non-empty string", field="key")
    if len(value) > MAX_TAG_KEY_LENGTH:
        raise InvalidArgument(f"tag key is longer than {MAX_TAG_KEY_LENGTH} characters", field="key")
    if _CONTROL.search(value):
        raise InvalidArgument("tag key contains control characters", field="key")
    return value


def tag_value(value: str) -> str:
    if not isinstance(value, str):
        raise InvalidArgument("tag value must be a string", field="value")
    if len(value) > MAX_TAG_VALUE_LENGTH:
        raise InvalidArgument(
            f"tag value is longer than {MAX_TAG_VALUE_LENGTH} characters", field="value"
        )
    return value


def comment(value: str | None) -> str | None:
    if value is not None and len(value) > MAX_COMMENT_LENGTH:
        raise InvalidArgument(f"text is longer than {MAX_COMMENT_LENGTH} characters", field="comment")
    return value


def within(name: str | None, prefix: str | None) -> bool:
    """Whether `name` is `prefix` or under it, by whole dotted segments ('prod.fraud' is within
    'prod', 'prod.fraudulent' is not); no prefix takes everything. A model's full name has
    nothing under it ('unity.default.a.b' is not within the model 'unity.default.a')."""
    if prefix is None:
        return True
    if name is None:
        return False
    return name == prefix or (len(levels(prefix)) < 3 and name.startswith(prefix + "."))
