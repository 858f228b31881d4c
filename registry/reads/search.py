"""Finding models: by catalog, schema, name pattern and tag, now (one query per page) or as they
were at a position. The native API and the web UI both search through `ModelFilter`; each maps its
own parameters onto it (MLflow's filter language is registry/reads/mlflow_search.py)."""

from dataclasses import dataclass

from registry.domain.models import Model
from registry.reads import as_of, queries


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
    """Up to `limit` models by full name after `after`, with their tags and aliases."""
    pattern = None if f.name_pattern is None else queries.like_pattern(f.name_pattern)
    rows = await db.fetch(
        f"SELECT {queries.MODEL_COLUMNS} FROM registered_models m "
        "WHERE ($1::text IS NULL OR m.catalog_name = $1) AND ($2::text IS NULL OR m.schema_name = $2) "
        f"AND ($3::text IS NULL OR m.name {'ILIKE' if f.ignore_case else 'LIKE'} $3) "
        "AND ($4::text IS NULL OR m.full_name > $4) "
        "AND ($5::text IS NULL OR EXISTS (SELECT 1 FROM model_tags t WHERE t.model_id = m.id "
        "     AND t.key = $5 AND ($6::text IS NULL OR t.value = $6))) "
        "ORDER BY m.full_name LIMIT $7",
        f.catalog, f.schema, pattern, after, f.tag_key, f.tag_value, limit)
    return [queries.model_from_row(r) for r in rows]


async def models_at(db: queries.Db, position: int, f: ModelFilter, after: str | None,
                    limit: int) -> list[Model]:
    """As `models`, among the models as they were at `position`."""
    return await as_of.models_at(db, position, catalog=f.catalog, schema=f.schema,
                                 name_pattern=f.name_pattern, ignore_case=f.ignore_case,
                                 keep=f.keeps, after=after, limit=limit)
