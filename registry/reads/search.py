"""Finding models: by catalog, schema, name pattern and tag, now (one query per page) or as they
were at a position. The native API and the web UI both search through `ModelFilter`; each maps its
own parameters onto it (MLflow's filter language is registry/reads/mlflow_search.py)."""

from dataclasses import dataclass

from registry.domain.models import Model
from registry.reads import as_of, queries
from registry.reads.mlflow_search import Params, tag_set


@dataclass(frozen=True, slots=True)
class ModelFilter:
    catalog: str | None = None
    schema: str | None = None
    name_pattern: str | None = None  # `*`/`?` wildcards, or SQL's `%`/`_` (queries.like_pattern)
    ignore_case: bool = False  # of the name pattern
    tag_key: str | None = None
    tag_value: str | None = None  # None: any value of `tag_key`

    def keeps(self, model: Model) -> bool:
        """The tag condition, for models folded from the log (the name is matched in SQL)."""
        if self.tag_key is None:
            return True
        value = model.tags.get(self.tag_key)
        return value is not None and (self.tag_value is None or value == self.tag_value)


async def models(db: queries.Db, f: ModelFilter, after: str | None, limit: int) -> list[Model]:
    """Up to `limit` models by full name after `after`, with their tags and aliases.

    Only the conditions `f` sets are written (no `$n IS NULL OR ...`), so each is a range an
    index answers. Within one schema every full name starts with the same `catalog.schema.`, so
    the full names' order is the names' order there: a schema's models are read in the order of
    the (catalog, schema, name) index, which no other index offers. Ordered by full name, a
    cached statement's plan could walk the unique full-name index instead, filtering on the
    schema, and run on past the schema's last model to the end of every name."""
    p = Params()
    where = []
    if f.catalog is not None:
        where.append(f"m.catalog_name = {p(f.catalog)}")
    if f.schema is not None:
        where.append(f"m.schema_name = {p(f.schema)}")
    if f.name_pattern is not None:
        where.append(f"m.name {'ILIKE' if f.ignore_case else 'LIKE'} "
                     f"{p(queries.like_pattern(f.name_pattern))}")
    in_schema = f.catalog is not None and f.schema is not None
    order = "m.name" if in_schema else "m.full_name"
    prefix = f"{f.catalog}.{f.schema}."
    if after is not None and in_schema and after.startswith(prefix):
        where.append(f"m.name > {p(after[len(prefix):])}")
    elif after is not None:  # (a key from another list still pages correctly, if slower)
        where.append(f"m.full_name > {p(after)}")
    if f.tag_key is not None:
        value = "true" if f.tag_value is None else f"t.value = {p(f.tag_value)}"
        if await queries.hash_tag(db, f.tag_key, f.tag_value):
            where.append(tag_set("m.id", "model_tags", p(f.tag_key), value))
        else:
            where.append("EXISTS (SELECT 1 FROM model_tags t WHERE t.model_id = m.id "
                         f"AND t.key = {p(f.tag_key)} AND {value})")
    conditions = f"WHERE {' AND '.join(where)}" if where else ""
    if f.name_pattern is None and f.tag_key is None:
        rows = await db.fetch(f"SELECT {queries.MODEL_COLUMNS} FROM registered_models m "
                              f"{conditions} ORDER BY {order} LIMIT {int(limit)}", *p.values)
    else:
        # A pattern's or a tag's selectivity decides between walking the name order and looking
        # the matches up (trigram or tag index): planned for their values. The page's ids come
        # first, from what the name index holds (the id is in it), its rows after.
        rows = await queries.fetch_planned(
            db, f"SELECT {queries.MODEL_COLUMNS} FROM registered_models m WHERE m.id IN "
            f"(SELECT m.id FROM registered_models m {conditions} ORDER BY {order} "
            f"LIMIT {int(limit)}) ORDER BY {order}", *p.values)
    return await queries.in_slices(rows, queries.model_from_row)


async def models_at(db: queries.Db, position: int, f: ModelFilter, after: str | None,
                    limit: int) -> list[Model]:
    """As `models`, among the models as they were at `position`."""
    return await as_of.models_at(db, position, catalog=f.catalog, schema=f.schema,
                                 name_pattern=f.name_pattern, ignore_case=f.ignore_case,
                                 keep=f.keeps, after=after, limit=limit)
