"""The engine's indexing fast paths agree with the generic ones they short-cut: the
compiled document builder with ``to_document``, tantivy-native analyzers with the Python
analyzers, and an index whose tantivy schema changed is rebuilt from SQLite.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import tantivy
from hypothesis import given, settings
from hypothesis import strategies as st

from emulation.search.analysis import AnalysisRegistry
from emulation.search.doc_builder import DocBuilder
from emulation.search.documents import to_document
from emulation.search.errors import SearchError
from emulation.search.index_store import IndexStore
from emulation.search.mapping import Mapping
from tests.search.cards import CARD_INDEX_BODY

pytestmark = pytest.mark.usefixtures("engine_only")
REGISTRY = AnalysisRegistry(CARD_INDEX_BODY["settings"]["analysis"])
MAPPINGS = {
    **CARD_INDEX_BODY["mappings"],
    "properties": {
        **CARD_INDEX_BODY["mappings"]["properties"],
        "code": {"type": "keyword", "ignore_above": 4},
        "tag": {"type": "keyword", "normalizer": "lowercase"},
        "words": {"type": "text", "analyzer": "stop"},
        "count": {"type": "long", "null_value": 0},
    },
}


def indexed(doc: tantivy.Document) -> dict[str, Any]:
    out = doc.to_dict()
    out["_field_names"] = sorted(p for v in out.get("_field_names", []) for p in v.split("\x1f"))
    return out


@pytest.mark.parametrize(
    "source",
    [
        {"id": "c1", "name": "Black Lotus", "price": 10.005, "stock": 3, "foil": True},
        {"name": "Jace's U.S.A. Ωmega", "released_at": "1993-08-05", "number": 7},
        {"stock": "12", "foil": "false", "price": "3.5", "released_at": 744508800000},
        {"released_at": "1993-08-05T10:20:30Z", "set": 2020, "rarity": True},
        {"code": "abcdef", "tag": "MiXeD", "words": "the Lord of the rings"},
        {"name": 42, "description": "", "count": 5},
    ],
)
def test_doc_builder_matches_generic_path(source: dict[str, Any]) -> None:
    mapping = Mapping(MAPPINGS, REGISTRY)
    raw = json.dumps(source).encode()
    fast = DocBuilder(mapping).build("d1", 7, raw, source)
    assert fast is not None, "a flat, fully mapped document takes the fast path"
    assert indexed(fast) == indexed(to_document(mapping, "d1", 7, raw, source))


@pytest.mark.parametrize(
    "source",
    [{"unmapped": 1}, {"name": None}, {"count": None}, {"name": ["a", "b"]}, {"name": {"x": 1}}],
)
def test_doc_builder_leaves_dynamic_shapes_to_the_generic_path(source: dict[str, Any]) -> None:
    assert DocBuilder(Mapping(MAPPINGS, REGISTRY)).build("d", 1, b"{}", source) is None


@pytest.mark.parametrize(
    ("source", "error_type"),
    [
        ({"stock": "many"}, "mapper_parsing_exception"),
        ({"released_at": "not a date"}, "mapper_parsing_exception"),
        ({"stock": 2**40}, "mapper_parsing_exception"),
        # The unknown field is reported first, as the generic path (and OpenSearch) does.
        ({"stock": "many", "unmapped": 1}, "strict_dynamic_mapping_exception"),
    ],
)
def test_bad_values_fail_like_the_generic_path(
    tmp_path: Path, source: dict[str, Any], error_type: str
) -> None:
    store = IndexStore.create(tmp_path / "i", "i", {**CARD_INDEX_BODY, "mappings": MAPPINGS})
    try:
        with pytest.raises(SearchError) as err:
            store.index_doc("d", json.dumps(source).encode(), source, _options())
        assert err.value.body()["error"]["type"] == error_type
    finally:
        store.close()


def _options() -> Any:
    from emulation.search.versioning import WriteOptions

    return WriteOptions()


def test_registry_runs_exact_chains_natively() -> None:
    registry = AnalysisRegistry(
        {
            "tokenizer": {"long": {"type": "standard", "max_token_length": 5}},
            "analyzer": {
                "folded": {"tokenizer": "standard", "filter": ["lowercase", "asciifolding"]},
                "short": {"tokenizer": "long"},
                "words": {"tokenizer": "whitespace", "filter": ["lowercase"]},
            },
        }
    )
    native = {n: registry.analyzer(n).native is not None for n in ("standard", "simple", "stop")}
    assert native == {"standard": True, "simple": True, "stop": False}
    assert REGISTRY.analyzer("autocomplete").native is not None
    assert registry.analyzer("words").native is not None
    assert registry.analyzer("folded").native is None  # asciifolding stays in Python
    assert registry.analyzer("short").native is None  # max_token_length splits in Python


_TEXT = st.text(alphabet=st.sampled_from([*"abcXYZ019 _-'.:,!\t\n", "é", "Ω", "ß"]), max_size=40)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_native_analyzers_tokenize_like_the_python_ones(text: str) -> None:
    for analyzer in (
        REGISTRY.analyzer("standard"),
        REGISTRY.analyzer("simple"),
        REGISTRY.analyzer("whitespace"),
        REGISTRY.analyzer("autocomplete"),
    ):
        assert analyzer.native is not None
        python_tokens = analyzer.tokenizer(text)
        for token_filter in analyzer.filters:
            python_tokens = token_filter(python_tokens)
        assert analyzer.analyze(text) == [t for t in python_tokens if t], analyzer.name


def test_index_with_an_outdated_tantivy_schema_is_rebuilt(tmp_path: Path) -> None:
    store = IndexStore.create(tmp_path / "cards", "cards", CARD_INDEX_BODY)
    source = {"id": "c1", "name": "Black Lotus", "set": "lea"}
    store.index_doc("c1", json.dumps(source).encode(), source, _options())
    store.close()
    meta = json.loads((tmp_path / "cards" / "meta.json").read_text())
    old = tmp_path / "cards" / f"tantivy-{meta['generation']}"
    for child in old.iterdir():  # an index another engine version wrote, other schema
        child.unlink()
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("_id", stored=True, tokenizer_name="raw")
    tantivy.Index(builder.build(), str(old)).writer(15_000_000, 1).commit()
    reopened = IndexStore.open(tmp_path / "cards")
    try:
        searcher = reopened.searcher()
        query = tantivy.Query.term_query(
            reopened.schema, reopened.mapping.fields["name"].internal, "lotus"
        )
        assert searcher.search(query, 10).count == 1
        assert not old.exists()
    finally:
        reopened.close()
