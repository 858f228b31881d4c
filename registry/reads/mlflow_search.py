"""MLflow's search filter and order_by languages, as SQL over the read models.

Filters are clauses joined by AND: `name = 'x'`, `name LIKE 'fr%'`, `tag.key != 'v'`,
``tag.`mlflow.prompt.is_prompt` = 'true'``, `run_id IN ('a', 'b')`, `source_path = 's3://..'`,
`version_number >= 3`. Values only ever reach SQL as bind parameters.
"""

import re
from dataclasses import dataclass
from typing import Any

from registry.domain.errors import InvalidArgument

PROMPT_TAG = "mlflow.prompt.is_prompt"

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<op>!=|<>|>=|<=|=|<|>|\(|\)|,)
    | (?P<ident>(?:tags?|attributes?|attr)\.(?:`[^`]+`|[\w.\-]+)|`[^`]+`|[A-Za-z_][\w.]*)
    )""", re.VERBOSE)

_COMPARATORS = {"=", "!=", "<>", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN"}


@dataclass(frozen=True)
class Clause:
    kind: str  # "attribute" or "tag"
    key: str
    op: str
    value: Any  # str, int, or a tuple of str for IN


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise InvalidArgument(f"invalid filter {text!r}: cannot parse at {text[pos:]!r}",
                                  field="filter")
        kind = m.lastgroup
        assert kind is not None
        out.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def _unquote(s: str) -> str:
    q = s[0]
    body = s[1:-1].replace(q + q, q)
    return re.sub(r"\\(.)", r"\1", body)


def parse_filter(text: str | None, attributes: frozenset[str]) -> list[Clause]:
    if not text or not text.strip():
        return []
    toks = _tokens(text)
    clauses: list[Clause] = []
    i = 0

    def fail(why: str) -> InvalidArgument:
        return InvalidArgument(f"invalid filter {text!r}: {why}", field="filter")

    while True:
        if i >= len(toks) or toks[i][0] != "ident":
            raise fail("expected a field such as name, tag.<key> or run_id")
        field = toks[i][1]
        i += 1
        if "." in field and field.split(".", 1)[0].lower() in ("tag", "tags"):
            kind, key = "tag", field.split(".", 1)[1].strip("`")
        else:
            kind, key = "attribute", field.split(".", 1)[-1].strip("`")
            if key not in attributes:
                raise fail(f"unknown field {key!r}; searchable: {', '.join(sorted(attributes))}, "
                           "tag.<key>")
        # comparator
        if i < len(toks) and toks[i][0] == "ident" and toks[i][1].upper() == "NOT" and \
                i + 1 < len(toks) and toks[i + 1][1].upper() == "IN":
            op, i = "NOT IN", i + 2
        elif i < len(toks) and (toks[i][0] == "op" or toks[i][1].upper() in _COMPARATORS):
            op, i = toks[i][1].upper(), i + 1
        else:
            raise fail(f"expected a comparator after {field}")
        if op not in _COMPARATORS:
            raise fail(f"unknown comparator {op!r}")
        op = "!=" if op == "<>" else op
        # value
        if op in ("IN", "NOT IN"):
            if i >= len(toks) or toks[i][1] != "(":
                raise fail(f"{op} takes a parenthesised list of strings")
            i += 1
            items = []
            while True:
                if i >= len(toks) or toks[i][0] != "string":
                    raise fail(f"{op} takes a list of quoted strings")
                items.append(_unquote(toks[i][1]))
                i += 1
                if i < len(toks) and toks[i][1] == ",":
                    i += 1
                    continue
                if i < len(toks) and toks[i][1] == ")":
                    i += 1
                    break
                raise fail("unclosed list")
            value: Any = tuple(items)
        elif i < len(toks) and toks[i][0] == "string":
            value, i = _unquote(toks[i][1]), i + 1
        elif i < len(toks) and toks[i][0] == "number":
            value, i = toks[i][1], i + 1
        else:
            raise fail(f"expected a value after {field} {op}")
        clauses.append(Clause(kind, key, op, value))
        if i == len(toks):
            return clauses
        if toks[i][0] == "ident" and toks[i][1].upper() == "AND":
            i += 1
            continue
        raise fail(f"expected AND, not {toks[i][1]!r} (OR is not supported)")


class Params:
    """Collects bind parameters, handing out their $n placeholders."""

    def __init__(self, *initial: Any) -> None:
        self.values: list[Any] = list(initial)

    def __call__(self, value: Any, cast: str = "") -> str:
        self.values.append(value)
        return f"${len(self.values)}{cast}"


_SQL_OPS = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">=", "LIKE": "LIKE",
            "ILIKE": "ILIKE"}


def compare(expr: str, clause: Clause, p: Params, cast: str = "") -> str:
    if clause.op in ("IN", "NOT IN"):
        return f"{'NOT ' if clause.op == 'NOT IN' else ''}{expr} = ANY({p(list(clause.value))}" \
               f"::text[])"
    value = clause.value
    if cast == "::int":
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise InvalidArgument(f"{clause.key} takes a whole number, not {clause.value!r}",
                                  field="filter") from None
        if clause.op in ("LIKE", "ILIKE"):
            raise InvalidArgument(f"{clause.key} cannot be compared with {clause.op}",
                                  field="filter")
    elif not isinstance(value, str):
        value = str(value)
    return f"{expr} {_SQL_OPS[clause.op]} {p(value, cast)}"


def tag_filters(clauses: list[Clause], tag_table: str, owner_match: str, p: Params,
                owner: str | None = None, hashed: frozenset[Clause] = frozenset()) -> list[str]:
    """SQL conditions for the tag clauses, with MLflow's treatment of prompts: unless a search
    asks for prompts (`tag.mlflow.prompt.is_prompt = 'true'`), prompts are left out.

    With `owner` (a model id column), the clauses in `hashed`, and the prompts left out, test
    `owner` against the set of models the tag selects (`tag_set`), not a lookup per model."""
    out = []
    asks_for_prompts = any(
        c.kind == "tag" and c.key == PROMPT_TAG and (
            (c.op == "=" and str(c.value).lower() == "true")
            or (c.op == "!=" and str(c.value).lower() == "false"))
        for c in clauses)
    for c in clauses:
        if c.kind != "tag" or (c.key == PROMPT_TAG and not asks_for_prompts):
            continue
        if c.op not in ("=", "!=", "LIKE", "ILIKE"):
            raise InvalidArgument(f"invalid comparator {c.op!r} for a tag", field="filter")
        if owner is not None and c in hashed:
            out.append(tag_set(owner, tag_table, p(c.key), compare("t.value", c, p)))
        else:
            out.append(f"EXISTS (SELECT 1 FROM {tag_table} t WHERE {owner_match} AND t.key = "
                       f"{p(c.key)} AND {compare('t.value', c, p)})")
    if not asks_for_prompts and owner is not None:  # NOT IN stays a (hashed) subplan
        out.append(f"NOT {owner} IN (SELECT t.model_id FROM {tag_table} t WHERE t.key = "
                   f"{p(PROMPT_TAG)} AND t.value = 'true')")
    elif not asks_for_prompts:
        out.append(f"NOT EXISTS (SELECT 1 FROM {tag_table} t WHERE {owner_match} AND t.key = "
                   f"{p(PROMPT_TAG)} AND t.value = 'true')")
    return out


def tag_set(owner: str, tag_table: str, key: str, value_condition: str) -> str:
    """`owner` among the model ids a tag selects, as a hashed set the scan tests each row
    against. An IN at the top of a WHERE becomes a join, and a join either sorts every match
    (costly for a tag on thousands of models) or looks the tag up once per model the ordered
    scan passes; inside an OR PostgreSQL keeps it a subplan and hashes its rows once. For a tag
    on some thousands of models in a million, the page then walks the name order testing ids
    in memory: a few ms instead of tens."""
    return (f"({owner} IN (SELECT t.model_id FROM {tag_table} t WHERE t.key = {key} "
            f"AND {value_condition}) OR false)")


@dataclass(frozen=True)
class OrderKey:
    expr: str
    descending: bool
    cast: str  # how a page token's value is cast back


def parse_order_by(order_by: list[str], columns: dict[str, tuple[str, str]],
                   default: list[str]) -> list[tuple[str, bool]]:
    """`order_by` entries like 'name ASC' or 'last_updated_timestamp DESC' -> (field, desc)."""
    out = []
    for entry in order_by or default:
        parts = entry.split()
        if not parts or len(parts) > 2:
            raise InvalidArgument(f"invalid order_by {entry!r}", field="order_by")
        field = parts[0].split(".", 1)[-1].strip("`")
        if field not in columns:
            raise InvalidArgument(f"cannot order by {field!r}; one of {', '.join(columns)}",
                                  field="order_by")
        direction = parts[1].upper() if len(parts) == 2 else "ASC"
        if direction not in ("ASC", "DESC"):
            raise InvalidArgument(f"invalid order_by direction {parts[1]!r}", field="order_by")
        out.append((field, direction == "DESC"))
    return out


def keyset_after(keys: list[OrderKey], token: list[Any], p: Params) -> str:
    """Rows strictly after the row whose sort values are `token`, in the order of `keys`."""
    if len(token) != len(keys):
        raise InvalidArgument("invalid page_token", field="page_token")
    ors = []
    for n, key in enumerate(keys):
        eqs = [f"{k.expr} = {p(token[j], k.cast)}" for j, k in enumerate(keys[:n])]
        cmp = "<" if key.descending else ">"
        ors.append("(" + " AND ".join([*eqs, f"{key.expr} {cmp} {p(token[n], key.cast)}"]) + ")")
    if len(keys) == 1:
        return ors[0]
    # The OR of the exact condition bounds no index; the first key's inclusive bound, implied by
    # it, is a range an index on that key starts the scan at (deep pages cost as the first).
    first = keys[0]
    bound = f"{first.expr} {'<=' if first.descending else '>='} {p(token[0], first.cast)}"
    return f"({bound} AND ({' OR '.join(ors)}))"
