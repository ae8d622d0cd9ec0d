"""Item → document: AttributeValue decoding, item selection, ids, renames, derived fields."""

from __future__ import annotations

import pytest

from polystore import load_topology
from sync.link_config import link_config, template_regex
from sync.stream_to_search.config import Derived, LinkConfig
from sync.stream_to_search.transform import document, document_id, plain, selected


def cfg(**kw: object) -> LinkConfig:
    base: dict[str, object] = {"system": "s", "link": "l", "index_env": "OPENSEARCH_INDEX_X",
                               "hash_key": "PK", "range_key": "SK"}  # fmt: skip
    base.update(kw)
    return LinkConfig(**base)  # type: ignore[arg-type]


def test_attribute_values_decode_to_json_values() -> None:
    assert plain({"N": "12"}) == 12 and isinstance(plain({"N": "12"}), int)
    assert plain({"N": "12.50"}) == 12.5
    assert plain({"M": {"a": {"L": [{"S": "x"}, {"BOOL": True}, {"NULL": True}]}}}) == {
        "a": ["x", True, None]
    }
    assert plain({"SS": ["a", "b"]}) == ["a", "b"]
    assert plain({"NS": ["1", "2.5"]}) == [1, 2.5]
    with pytest.raises(ValueError, match="unknown AttributeValue"):
        plain({"Q": "x"})


def test_single_table_selection_by_item_template_and_prefix() -> None:
    c = cfg(item_patterns=({"PK": template_regex("USER#{u}"),
                            "SK": template_regex("ASSET#{a}")},))  # fmt: skip
    assert selected(c, {"PK": {"S": "USER#ann"}, "SK": {"S": "ASSET#btc"}})
    assert not selected(c, {"PK": {"S": "USER#ann"}, "SK": {"S": "BALANCE"}})
    assert not selected(c, {"PK": {"S": "ORDER#1"}, "SK": {"S": "ASSET#btc"}})
    p = cfg(key_prefixes={"SK": "TRANS#"})
    assert selected(p, {"PK": {"S": "USER#ann"}, "SK": {"S": "TRANS#9"}})
    assert not selected(p, {"PK": {"S": "USER#ann"}, "SK": {"S": "ASSET#9"}})


def test_template_regex_escapes_the_constant_parts() -> None:
    import re

    rx = template_regex("A.{x}#B")
    assert re.fullmatch(rx, "A.42#B")
    assert not re.fullmatch(rx, "AZ42#B")
    assert not re.fullmatch(rx, "A.#B")  # a placeholder is never empty


def test_document_ids() -> None:
    keys = {"PK": {"S": "USER#ann"}, "SK": {"N": "7"}}
    assert document_id(cfg(), keys) == "USER#ann|7"
    assert document_id(cfg(id_template="{SK}-{PK}"), keys) == "7-USER#ann"
    assert document_id(cfg(range_key=None), {"PK": {"S": "x"}}) == "x"


def test_rename_drop_derive_and_strict_mapping() -> None:
    c = cfg(rename={"Id": "id"}, drop=("secret",),
            derive={"name_lc": Derived(("name",), "lowercase"),
                    "label": Derived(("name", "set"), "concat", " / "),
                    "year": Derived(("released_at",), "year")},
            mapped_fields=("id", "name", "name_lc", "label", "year"), strict=True)  # fmt: skip
    image = {"Id": {"S": "c1"}, "name": {"S": "Mox"}, "set": {"S": "alpha"},
             "secret": {"S": "x"}, "released_at": {"S": "1993-08-05"},
             "extra": {"N": "1"}}  # fmt: skip
    assert document(c, image) == {"id": "c1", "name": "Mox", "name_lc": "mox",
                                  "label": "Mox / alpha", "year": 1993}  # fmt: skip


def test_tcgstore_link_config_comes_from_the_topology() -> None:
    system = load_topology().system("tcgstore")
    c = link_config(system, "cards-to-search")
    assert c.index_env == "OPENSEARCH_INDEX_CARDS_INDEX"
    assert c.rename == {"Id": "id"} and c.drop == ("updated_at",)
    assert c.hash_key == "Id" and c.range_key is None
    assert LinkConfig.from_dict(__import__("json").loads(c.to_json())) == c
    with pytest.raises(KeyError, match="no stream-to-search link"):
        link_config(system, "order-placed")
