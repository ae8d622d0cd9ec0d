"""Analyzers run inside tantivy when tantivy's tokenizers reproduce them exactly.

Indexing is the hot path of ``_bulk``: analysing every text value in Python and handing
tantivy space-joined tokens cost more than everything else per document. For the
analyzer chains below tantivy does the same thing natively (in the writer's own thread),
so the engine registers an equivalent ``tantivy.TextAnalyzer`` on every index and hands
it the raw value. Query text is analysed with the *same* ``TextAnalyzer`` object, so index
time and query time can never disagree.

| OpenSearch chain                                   | tantivy                              |
|----------------------------------------------------|--------------------------------------|
| ``standard`` analyzer (default options)            | regex word tokenizer + lowercase     |
| ``simple`` analyzer, ``letter`` tokenizer          | regex letter runs (+ lowercase)      |
| ``whitespace`` analyzer / tokenizer                | whitespace tokenizer                 |
| ``edge_ngram`` / ``ngram`` tokenizer (+ lowercase) | n-gram tokenizer fed one word a time |

N-gram tokenizers split words by ``token_chars`` first (in Python, one regex call) and
tantivy grams each word, because tantivy's n-gram tokenizer grams its whole input.
Anything else (stop words, ``asciifolding``, custom ``max_token_length``, n-gram
*filters*…) keeps the Python analyzer in ``analysis.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import tantivy

# The same word pattern as analysis._STANDARD_WORD: inner apostrophes, dots and colons
# stay inside a word ("jace's", "u.s.a"), underscores join.
STANDARD_WORD = r"\w+(?:['\u2019.:]\w+)*"
LETTER_RUN = r"[^\W\d_]+"
# ``_field_names`` holds every present path in one value, separated by U+001F.
PATHS_TOKENIZER = "ps_paths"
PATH_SEPARATOR = "\x1f"

WordSplitter = Callable[[str], list[str]]


@dataclass(frozen=True)
class NativeAnalyzer:
    """A tantivy analyzer registered under ``name``; ``split`` feeds it word by word."""

    name: str
    analyzer: tantivy.TextAnalyzer
    split: WordSplitter | None = None

    def analyze(self, text: str) -> list[str]:
        if self.split is None:
            return list(self.analyzer.analyze(text))
        analyze = self.analyzer.analyze
        return [tok for word in self.split(text) for tok in analyze(word)]


_CACHE: dict[str, tantivy.TextAnalyzer] = {}


def _analyzer(name: str, tokenizer: Callable[[], Any], lowercase: bool) -> tantivy.TextAnalyzer:
    found = _CACHE.get(name)
    if found is None:
        builder = tantivy.TextAnalyzerBuilder(tokenizer())
        if lowercase:
            builder = builder.filter(tantivy.Filter.lowercase())
        found = _CACHE[name] = builder.build()
    return found


def paths_analyzer() -> tantivy.TextAnalyzer:
    return _analyzer(PATHS_TOKENIZER, lambda: tantivy.Tokenizer.regex("[^\\x1f]+"), False)


def _word_tokenizer(kind: str, lowercase: bool) -> NativeAnalyzer | None:
    suffix = "_lc" if lowercase else ""
    if kind == "standard":
        name = "ps_standard" + suffix
        return NativeAnalyzer(
            name, _analyzer(name, lambda: tantivy.Tokenizer.regex(STANDARD_WORD), lowercase)
        )
    if kind == "letter":
        name = "ps_letter" + suffix
        return NativeAnalyzer(
            name, _analyzer(name, lambda: tantivy.Tokenizer.regex(LETTER_RUN), lowercase)
        )
    if kind == "whitespace":
        name = "ps_whitespace" + suffix
        return NativeAnalyzer(name, _analyzer(name, tantivy.Tokenizer.whitespace, lowercase))
    return None


def builtin_native(kind: str, conf: dict[str, Any]) -> NativeAnalyzer | None:
    """The tantivy form of a built-in analyzer type, when it has an exact one."""
    if kind == "standard" and "stopwords" not in conf and "max_token_length" not in conf:
        return _word_tokenizer("standard", lowercase=True)
    if kind == "simple":
        return _word_tokenizer("letter", lowercase=True)
    if kind == "whitespace":
        return _word_tokenizer("whitespace", lowercase=False)
    return None


def custom_native(
    tokenizer: dict[str, Any], filters: list[dict[str, Any]], split: WordSplitter | None
) -> NativeAnalyzer | None:
    """The tantivy form of a custom analyzer (tokenizer + filters), when exact.

    ``split`` is the n-gram tokenizer's word splitter (``token_chars``), built by the
    Python analyzer so both split words identically.
    """
    kinds = [f.get("type") for f in filters]
    if kinds not in ([], ["lowercase"]):
        return None
    lowercase = bool(kinds)
    kind = tokenizer.get("type")
    if kind == "standard" and "max_token_length" not in tokenizer:
        return _word_tokenizer("standard", lowercase)
    if kind in ("letter", "whitespace"):
        return _word_tokenizer(kind, lowercase)
    if kind == "lowercase":  # the letter tokenizer with lowercasing built in
        return _word_tokenizer("letter", lowercase=True)
    if kind in ("edge_ngram", "edgeNGram", "ngram", "nGram") and split is not None:
        edge = kind.lower().startswith("edge")
        lo, hi = int(tokenizer.get("min_gram", 1)), int(tokenizer.get("max_gram", 2))
        name = f"ps_{'edge' if edge else 'ngram'}_{lo}_{hi}{'_lc' if lowercase else ''}"
        made = _analyzer(name, lambda: tantivy.Tokenizer.ngram(lo, hi, edge), lowercase)
        return NativeAnalyzer(name, made, split)
    return None
