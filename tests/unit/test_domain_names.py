"""Name rules of the pure domain: identifiers, reserved names, three-level names, aliases, tags."""

import pydantic
import pytest

from registry.domain import InvalidArgument
from registry.domain import commands as c
from registry.domain.names import (
    MAX_COMMENT_LENGTH,
    MAX_MODEL_NAME_LENGTH,
    MAX_NAME_LENGTH,
    MAX_TAG_KEY_LENGTH,
    MAX_TAG_VALUE_LENGTH,
    RESERVED_CATALOG_NAMES,
    FullName,
    alias_name,
    catalog_name,
    comment,
    identifier,
    model_name,
    schema_name,
    tag_key,
    tag_value,
    within,
    workspace_model,
    workspace_name,
)

# Catalogs and schemas are identifiers; a model's own name follows MLflow's looser rule (below).
NAME_RULES = [catalog_name, schema_name]

VALID_IDENTIFIERS = [
    "a",
    "A",
    "model",
    "my_model",
    "my-model",
    "_private",
    "1st",
    "a1-b2_c3",
    # as Unity Catalog's own rule allows
    "-a",
    "alice@example-com",
    "@",
    "x" * MAX_NAME_LENGTH,
    # letters of other scripts
    "café",
    "модель",
    "模型",
    "モデル",
    "Ελληνικά",
    "ภาษาไทย",
]

INVALID_IDENTIFIERS = [
    pytest.param("", id="empty"),
    pytest.param("x" * (MAX_NAME_LENGTH + 1), id="too-long"),
    pytest.param("a.b", id="dot"),
    pytest.param(".", id="only-dot"),
    pytest.param("a/b", id="slash"),
    pytest.param("a\\b", id="backslash"),
    pytest.param("a b", id="space"),
    pytest.param(" a", id="leading-space"),
    pytest.param("a ", id="trailing-space"),
    pytest.param("a\u00a0b", id="nbsp"),
    pytest.param("a\tb", id="tab"),
    pytest.param("a\nb", id="newline-inside"),
    pytest.param("a\n", id="trailing-newline"),
    pytest.param("a\x00b", id="nul"),
    pytest.param("a\x1fb", id="unit-separator"),
    pytest.param("a\x7fb", id="del"),
    pytest.param("a:b", id="colon"),
    pytest.param("a*", id="star"),
    pytest.param("a`b", id="backtick"),
    pytest.param("a'b", id="quote"),
]


@pytest.mark.parametrize("rule", NAME_RULES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("value", VALID_IDENTIFIERS)
def test_valid_identifiers_are_accepted_unchanged(rule, value):
    assert rule(value) == value


@pytest.mark.parametrize("rule", NAME_RULES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("value", INVALID_IDENTIFIERS)
def test_invalid_identifiers_are_rejected(rule, value):
    with pytest.raises(InvalidArgument):
        rule(value)


@pytest.mark.parametrize("value", [None, 3, b"abc", ["a"]])
def test_non_string_identifier_is_rejected(value):
    with pytest.raises(InvalidArgument):
        identifier("model", value)


def test_identifier_error_names_the_field_kind():
    with pytest.raises(InvalidArgument) as info:
        identifier("schema", "a.b")
    assert info.value.details == {"field": "schema"}
    assert info.value.code == "INVALID_ARGUMENT"


def test_length_limit_is_exactly_max_name_length():
    assert schema_name("s" * MAX_NAME_LENGTH) == "s" * MAX_NAME_LENGTH
    with pytest.raises(InvalidArgument, match="limit is 255"):
        schema_name("s" * (MAX_NAME_LENGTH + 1))
    assert model_name("m" * MAX_MODEL_NAME_LENGTH) == "m" * MAX_MODEL_NAME_LENGTH
    with pytest.raises(InvalidArgument, match="limit is 256"):
        model_name("m" * (MAX_MODEL_NAME_LENGTH + 1))


def test_length_limit_counts_characters_not_bytes():
    name = "é" * MAX_NAME_LENGTH  # 510 bytes in UTF-8
    assert catalog_name(name) == name
    assert model_name("é" * MAX_MODEL_NAME_LENGTH) == "é" * MAX_MODEL_NAME_LENGTH


# --- a model's own name: what MLflow's server accepts ---------------------------------------------


@pytest.mark.parametrize("name", [
    "iris", "UpdateRMTest 2", "my.model", "a.b.c.d", "-leading-hyphen", "user@example.com",
    "a..b", "trailing.", "with 'quotes'", "star*", "模型 v2", "a\\b", " padded ",
])
def test_model_names_are_what_mlflow_accepts_and_come_back_unchanged(name):
    assert model_name(name) == name


@pytest.mark.parametrize("name", [
    pytest.param("", id="empty"), pytest.param("   ", id="blank"),
    pytest.param("a/b", id="slash"), pytest.param("a:b", id="colon"),
    pytest.param(".", id="dot"), pytest.param("..", id="dot-dot"), pytest.param("..a", id="up"),
    pytest.param("a\x00b", id="nul"), pytest.param("a\nb", id="newline"),
    pytest.param("a\x9fb", id="c1-control"),
])
def test_model_names_mlflow_refuses_or_that_cannot_be_stored_are_refused(name):
    with pytest.raises(InvalidArgument) as info:
        model_name(name)
    assert info.value.details["field"] == "model"


def test_workspace_rule_maps_every_mlflow_name_into_the_workspace_schema_and_back():
    for name in ("iris", "my.model", "prod.fraud.scorer", "a b"):
        full = workspace_model("unity.default", name)
        assert full == f"unity.default.{name}"
        assert FullName.parse(full).name == name  # the first two dots separate the levels
        assert workspace_name("unity.default", full) == name
    assert workspace_name("unity.default", "prod.fraud.scorer") is None  # not on MLflow's surface
    assert workspace_name("unity.default", "unity.defaults.x") is None
    with pytest.raises(InvalidArgument, match="required parameter 'name'"):
        workspace_model("unity.default", " ")


def test_a_full_model_name_has_nothing_within_it():
    assert within("unity.default.a.b", "unity.default")
    assert within("unity.default.a", "unity.default.a")
    assert not within("unity.default.a.b", "unity.default.a")
    assert within("prod.fraud.scorer", "prod") and not within("prod2.x.y", "prod")


@pytest.mark.parametrize("word", ["मॉडल", "हिन्दी", "ชื่อ"])
def test_model_name_allows_words_in_scripts_with_combining_marks(word):
    # names.py promises "letters (any script)"; Devanagari and Thai words need vowel signs and tone
    # marks (Unicode category M), which `\w` does not match.
    assert model_name(word) == word


@pytest.mark.parametrize("name", sorted(RESERVED_CATALOG_NAMES))
def test_reserved_catalog_names_are_rejected(name):
    with pytest.raises(InvalidArgument, match="reserved"):
        catalog_name(name)


@pytest.mark.parametrize("name", ["SYSTEM", "System", "Information_Schema", "HIVE_METASTORE"])
def test_reserved_catalog_names_are_case_insensitive(name):
    with pytest.raises(InvalidArgument, match="reserved"):
        catalog_name(name)


@pytest.mark.parametrize("name", ["systems", "my_system", "sample", "hive"])
def test_names_close_to_reserved_catalog_names_are_allowed(name):
    assert catalog_name(name) == name


@pytest.mark.parametrize("name", ["information_schema", "INFORMATION_SCHEMA"])
def test_reserved_schema_names_are_rejected(name):
    with pytest.raises(InvalidArgument, match="reserved"):
        schema_name(name)


@pytest.mark.parametrize("name", ["system", "samples", "hive_metastore", "default"])
def test_reserved_catalog_names_are_fine_as_schema_and_model_names(name):
    assert schema_name(name) == name
    assert model_name(name) == name


def test_information_schema_is_fine_as_a_model_name():
    assert model_name("information_schema") == "information_schema"


# --- FullName ------------------------------------------------------------------------------------


def test_full_name_parse_splits_three_levels():
    name = FullName.parse("main.default.churn")
    assert (name.catalog, name.schema, name.name) == ("main", "default", "churn")
    assert name.schema_full_name == "main.default"
    assert str(name) == "main.default.churn"


def test_full_name_parse_round_trips_and_compares_by_value():
    assert FullName.parse("c.s.m") == FullName("c", "s", "m")
    assert str(FullName.parse("目录.架构.模型")) == "目录.架构.模型"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "model",
        "schema.model",
        "a..c",
        ".b.c",
        "a.b.",
        "a/b.c.d",
        "a.b/c.d",
        "a.b.c/d",
        "system.s.m",
        "SYSTEM.s.m",
        "c.information_schema.m",
        "c.s." + "m" * (MAX_MODEL_NAME_LENGTH + 1),
    ],
)
def test_full_name_parse_rejects_bad_names(value):
    with pytest.raises(InvalidArgument):
        FullName.parse(value)


@pytest.mark.parametrize("value", [None, 1, ("a", "b", "c")])
def test_full_name_parse_rejects_non_strings(value):
    with pytest.raises(InvalidArgument):
        FullName.parse(value)


def test_full_name_parse_takes_the_first_two_dots_as_separators():
    assert FullName.parse("c.s.my.model v2") == FullName("c", "s", "my.model v2")


def test_full_name_parse_error_names_the_level_that_is_wrong():
    with pytest.raises(InvalidArgument) as info:
        FullName.parse("c.s.a/m")
    assert info.value.details["field"] == "model"
    with pytest.raises(InvalidArgument) as info:
        FullName.parse("c.information_schema.m")
    assert info.value.details["field"] == "schema"


def test_full_name_is_immutable():
    name = FullName.parse("c.s.m")
    with pytest.raises(AttributeError):
        name.name = "other"  # type: ignore[misc]


# --- aliases -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "alias",
    ["champion", "Champion", "prod-2024", "blue_green", "v", "v1a", "va1", "version1", "vv1",
     "x" * MAX_NAME_LENGTH, "1", "latest_prod", "not-latest", "生产"],
)
def test_valid_aliases_are_accepted(alias):
    assert alias_name(alias) == alias


@pytest.mark.parametrize("alias", ["latest", "LATEST", "Latest"])
def test_latest_is_a_reserved_alias(alias):
    with pytest.raises(InvalidArgument, match="reserved"):
        alias_name(alias)


@pytest.mark.parametrize("alias", ["v1", "v0", "v42", "V7", "v0001", "v" + "9" * 30])
def test_version_like_aliases_are_reserved(alias):
    with pytest.raises(InvalidArgument, match="reserved"):
        alias_name(alias)


@pytest.mark.parametrize(
    "alias",
    [
        pytest.param("", id="empty"),
        pytest.param("x" * (MAX_NAME_LENGTH + 1), id="too-long"),
        pytest.param("a.b", id="dot"),
        pytest.param("a/b", id="slash"),
        pytest.param("a b", id="space"),
        pytest.param("a\nb", id="newline"),
        pytest.param("a\n", id="trailing-newline"),
        pytest.param("a\x00", id="nul"),
        pytest.param("a@b", id="at"),
        pytest.param("a:b", id="colon"),
        pytest.param("a+b", id="plus"),
    ],
)
def test_aliases_with_bad_characters_are_rejected(alias):
    with pytest.raises(InvalidArgument) as info:
        alias_name(alias)
    assert info.value.details == {"field": "alias"}


@pytest.mark.parametrize("alias", [None, 1])
def test_non_string_alias_is_rejected(alias):
    with pytest.raises(InvalidArgument):
        alias_name(alias)


# --- tags and comments ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["k", "mlflow.source.type", "a b", "path/like:key", "k" * MAX_TAG_KEY_LENGTH, "ключ"]
)
def test_valid_tag_keys_are_accepted(key):
    assert tag_key(key) == key


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("\t", id="tab-only"),
        pytest.param("k" * (MAX_TAG_KEY_LENGTH + 1), id="too-long"),
        pytest.param("a\nb", id="newline"),
        pytest.param("a\x00b", id="nul"),
        pytest.param("a\x1bb", id="escape"),
        pytest.param("a\x7fb", id="del"),
        pytest.param(None, id="none"),
        pytest.param(5, id="int"),
    ],
)
def test_invalid_tag_keys_are_rejected(key):
    with pytest.raises(InvalidArgument) as info:
        tag_key(key)
    assert info.value.details == {"field": "key"}


@pytest.mark.parametrize("key", ["a\x85b", "a\x9bb", "a\x80"])
def test_tag_keys_with_c1_control_characters_are_rejected(key):
    # U+0080..U+009F are control characters (category Cc); U+0085 is NEL, a line break.
    with pytest.raises(InvalidArgument):
        tag_key(key)


@pytest.mark.parametrize(
    "value", ["", "v", "multi\nline\ttext", "x" * MAX_TAG_VALUE_LENGTH, "значение"]
)
def test_valid_tag_values_are_accepted(value):
    assert tag_value(value) == value


@pytest.mark.parametrize("value", ["x" * (MAX_TAG_VALUE_LENGTH + 1), None, 1])
def test_invalid_tag_values_are_rejected(value):
    with pytest.raises(InvalidArgument) as info:
        tag_value(value)
    assert info.value.details == {"field": "value"}


def test_comment_limit():
    assert comment(None) is None
    assert comment("x" * MAX_COMMENT_LENGTH) == "x" * MAX_COMMENT_LENGTH
    with pytest.raises(InvalidArgument):
        comment("x" * (MAX_COMMENT_LENGTH + 1))


# --- commands validate names on construction -----------------------------------------------------


def test_commands_accept_valid_names():
    assert c.CreateCatalog(name="main").name == "main"
    assert c.CreateSchema(catalog_name="main", name="default").name == "default"
    assert c.CreateModel(full_name="main.default.m").full_name == "main.default.m"
    assert c.SetAlias(full_name="main.default.m", alias="champion", version=1).alias == "champion"


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: c.CreateCatalog(name="system"), id="reserved-catalog"),
        pytest.param(lambda: c.CreateCatalog(name="a.b"), id="dotted-catalog"),
        pytest.param(lambda: c.CreateSchema(catalog_name="c", name="information_schema"),
                     id="reserved-schema"),
        pytest.param(lambda: c.CreateSchema(catalog_name="c.d", name="s"), id="bad-catalog"),
        pytest.param(lambda: c.CreateModel(full_name="c.s"), id="two-level"),
        pytest.param(lambda: c.CreateModel(full_name="c.s.m/x"), id="slash"),
        pytest.param(lambda: c.RenameModel(full_name="c.s.m", new_full_name="c.s.m/n"),
                     id="rename-to-bad"),
        pytest.param(lambda: c.SetAlias(full_name="c.s.m", alias="latest", version=1),
                     id="alias-latest"),
        pytest.param(lambda: c.SetAlias(full_name="c.s.m", alias="v3", version=1),
                     id="alias-v3"),
        pytest.param(lambda: c.SetModelTag(full_name="c.s.m", key="", value="v"),
                     id="empty-tag-key"),
        pytest.param(lambda: c.SetVersionTag(full_name="c.s.m", version=1, key="k",
                                             value="x" * (MAX_TAG_VALUE_LENGTH + 1)),
                     id="long-tag-value"),
        pytest.param(lambda: c.CreateModel(full_name="c.s.m", tags={"k" * 251: "v"}),
                     id="create-model-bad-tag"),
        pytest.param(lambda: c.RegisterVersion(full_name="c.s.m", source="s",
                                               tags={"a\nb": "v"}),
                     id="register-bad-tag"),
        pytest.param(lambda: c.CreateCatalog(name="c", comment="x" * (MAX_COMMENT_LENGTH + 1)),
                     id="long-comment"),
    ],
)
def test_commands_reject_invalid_names_with_invalid_argument(make):
    with pytest.raises(InvalidArgument):
        make()


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: c.DeleteVersion(full_name="c.s.m", version=0), id="version-0"),
        pytest.param(lambda: c.SetAlias(full_name="c.s.m", alias="a", version=-1),
                     id="alias-negative-version"),
        pytest.param(lambda: c.RegisterVersion(full_name="c.s.m", source=""), id="empty-source"),
        pytest.param(lambda: c.FinalizeVersion(full_name="c.s.m", version=1, status="DELETED"),
                     id="bad-status"),
        pytest.param(lambda: c.CreateCatalog(name="c", extra=1), id="extra-field"),
    ],
)
def test_commands_reject_bad_types_and_ranges_with_validation_error(make):
    with pytest.raises(pydantic.ValidationError):
        make()


def test_commands_are_frozen():
    cmd = c.CreateCatalog(name="main")
    with pytest.raises(pydantic.ValidationError):
        cmd.name = "other"  # type: ignore[misc]

