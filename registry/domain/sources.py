"""What a model version's source may be, as MLflow's server decides it, and what a `models:/`
source refers to. Pure: the caller resolves references and supplies what it found.

Modelog never reads a source, but hands it back as a download location, so a source that climbs
out of its folder (`s3://b/models/../../x`) or names a local path is refused as MLflow refuses
it. What MLflow checks against a run's or a logged model's artifact folder needs a tracking
server; without one such sources are refused, with MLflow's wording.
"""

import posixpath
import re
from dataclasses import dataclass
from urllib.parse import unquote_plus, urlparse

from registry.domain.errors import InvalidArgument

# The placeholders MLflow's clients send as a prompt version's source.
PROMPT_PLACEHOLDERS = frozenset({"dummy-source", "prompt-template"})


def _invalid(source: str, why: str) -> InvalidArgument:
    return InvalidArgument(f"Invalid model version source: '{source}'. {why}", field="source")


def _must_identify(source: str, parameter: str) -> InvalidArgument:
    return _invalid(source, f"The {parameter} request parameter must identify the resource "
                            "that contains the source.")


def _local_without(source: str, parameter: str) -> InvalidArgument:
    return _invalid(source, f"To use a local path as a model version source, the {parameter} "
                            "request parameter has to be specified and the local path has to be "
                            f"contained within the artifact directory of the run specified by the "
                            f"{parameter}.")


@dataclass(frozen=True, slots=True)
class Reference:
    """A `models:/` source: a logged model (`models:/m-<id>`) or a registered model's version,
    alias, stage or latest version."""

    model_id: str | None = None
    name: str | None = None
    version: int | None = None
    alias: str | None = None
    stage: str | None = None  # None with a name and nothing else: the latest version


def parse_reference(source: str) -> Reference | None:
    """The `models:/` reference `source` is, or None if it is another kind of source."""
    parsed = urlparse(source, allow_fragments=False)
    if parsed.scheme != "models":
        return None
    if parsed.netloc:
        raise _invalid(source, "Registered model sources must use the active model registry.")
    parts = parsed.path.removeprefix("/").split("/")
    if not parsed.path.startswith("/") or len(parts) > 2 or not parts[0].strip():
        raise _must_identify(source, "model_id")
    if len(parts) == 2:
        name, suffix = parts
        if not suffix.strip():
            raise _must_identify(source, "model_id")
        if suffix.isdigit():
            return Reference(name=name, version=int(suffix))
        return Reference(name=name, stage=None if suffix.lower() == "latest" else suffix)
    if "@" in parts[0]:
        name, _, alias = parts[0].rpartition("@")
        if not alias.strip():
            raise _must_identify(source, "model_id")
        return Reference(name=name, alias=alias)
    return Reference(model_id=parts[0])


def _climbs(source: str) -> bool:
    """Whether the source has relative parts (`..`), a NUL, or resolves to another path."""
    while (unquoted := unquote_plus(source)) != source:
        source = unquoted
    path = re.sub(r"/+", "/", urlparse(source).path.rstrip("/"))
    if "\x00" in path or any(part == ".." for part in source.split("/")):
        return True
    return posixpath.normpath(path) != path if path else False


def _is_artifact_route(source: str) -> bool:
    parsed = urlparse(source)
    if parsed.scheme == "mlflow-artifacts":
        return True
    route = ("api", "2.0", "mlflow-artifacts", "artifacts")
    parts = tuple(p for p in parsed.path.split("/") if p)
    return parsed.scheme in ("http", "https") and any(
        parts[i:i + len(route)] == route for i in range(len(parts) - len(route) + 1))


def _parts(uri: str) -> tuple[str, str, tuple[str, ...]]:
    parsed = urlparse(uri)
    return parsed.scheme or "file", parsed.netloc, tuple(p for p in parsed.path.split("/") if p)


def within(source: str, root: str) -> bool:
    """Whether `source` is `root` or inside it (same scheme and host, whole path segments)."""
    (scheme, host, parts), (root_scheme, root_host, root_parts) = _parts(source), _parts(root)
    return (scheme, host) == (root_scheme, root_host) and bool(root_parts) \
        and parts[:len(root_parts)] == root_parts


def check(source: str, run_id: str | None, model_id: str | None,
          artifacts: str | None = None) -> None:
    """Refuse a source MLflow's server refuses (its `_validate_source_run` and
    `_validate_source_model`), given the run or logged model the request names and, when a
    tracking server told, that run's or model's artifact folder (`artifacts`)."""
    parsed = urlparse(source)
    parameter = "model_id" if model_id else "run_id"
    inside = artifacts is not None and not _climbs(source) and within(source, artifacts)
    if parsed.scheme in ("", "file"):  # a path on the server's disk
        if inside and (run_id or model_id):
            return
        raise _local_without(source, parameter)
    if _climbs(source):
        raise _invalid(source, "If supplying a source as an http, https, local file path, ftp, "
                               "objectstore, or mlflow-artifacts uri, an absolute path must be "
                               "provided without relative path references present. Please "
                               "provide an absolute path.")
    if parsed.scheme == "runs":
        if model_id or parsed.netloc or parsed.path.split("/")[1:2] != [run_id or None]:
            raise _must_identify(source, parameter)
    reference = parse_reference(source)
    if reference is not None and reference.model_id is not None \
            and reference.model_id != model_id:
        raise _must_identify(source, "model_id")
    if _is_artifact_route(source) and not inside:  # only a tracking server can place it
        raise _must_identify(source, parameter)
