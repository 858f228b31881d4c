"""A version's page: its facts, tags, aliases and open transition requests, now or as of a point of
the log, with the forms that change it (the model page's actions, brought back here)."""

from aiohttp import web

from registry.domain.names import STAGES
from registry.http import authorize
from registry.http.ui.model_page import fetch_model, model_url, now_url
from registry.http.ui.render import FormQuery, html_errors, page
from registry.http.validation import parse_query, path_version


class VersionQuery(FormQuery):
    as_of: str | None = None


def version_url(full_name: str, version: int) -> str:
    return f"{model_url(full_name)}/versions/{version}"


@html_errors
async def version_page(request: web.Request) -> web.Response:
    q = parse_query(request, VersionQuery)
    number = path_version(request)
    reader = authorize.reader(request)
    position = None if q.as_of is None else await reader.point(q.as_of)
    model = await fetch_model(request, request.match_info["full_name"], position)
    mv = await reader.version(model, number, position)
    return page(request, "version.html", title=f"{model.full_name} v{number}", model=model,
                mv=mv, position=position, url=version_url(model.full_name, number),
                model_url=model_url(model.full_name), stages=STAGES,
                now_url=(now := await now_url(request, model)) and f"{now}/versions/{number}")
