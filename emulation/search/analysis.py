"""Text analysis done in Python, the way OpenSearch's analyzers do it.

The engine analyses text itself (rather than with tantivy's tokenizers) so that index
time and query time use exactly the same code, and so that OpenSearch analyzers with no
tantivy equivalent (``edge_ngram`` as a *filter*, ``token_chars``) behave as documented.
The tokens are handed to tantivy joined by single spaces into a field that uses
tantivy's ``whitespace`` tokenizer, or whole (``raw``) when the analyzer can only ever
produce one token.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from emulation.search.errors import bad_request, mapper_parsing, unsupported

Tokenizer = Callable[[str], list[str]]
TokenFilter = Callable[[list[str]], list[str]]

# An approximation of the Unicode word-break rules Lucene's StandardTokenizer follows:
# words keep inner apostrophes, dots and colons ("jace's", "u.s.a"), underscores join.
_STANDARD_WORD = re.compile(r"\w+(?:['\u2019.:]\w+)*")
_LETTERS = re.compile(r"[^\W\d_]+")
_WHITESPACE = re.compile(r"\S+")

ENGLISH_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "if",
        "in",
        "into",
        "is",
        "it",
        "no",
        "not",
        "of",
        "on",
        "or",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "will",
        "with",
    ]
)


def _standard(max_len: int = 255) -> Tokenizer:
    def tokenize(text: str) -> list[str]:
        words = _STANDARD_WORD.findall(text)
        if any(len(w) > max_len for w in words):
            words = [w[i : i + max_len] for w in words for i in range(0, len(w), max_len)]
        return words

    return tokenize


def _char_class_matcher(token_chars: Sequence[str], custom: str) -> Callable[[str], bool]:
    """Whether a character belongs to one of the ``token_chars`` classes."""
    classes = set(token_chars)
    unknown = classes - {"letter", "digit", "whitespace", "punctuation", "symbol", "custom"}
    if unknown:
        raise bad_request(f"Unknown token type: '{sorted(unknown)[0]}'")

    def keep(ch: str) -> bool:
        cat = unicodedata.category(ch)
        return (
            ("letter" in classes and cat.startswith("L"))
            or ("digit" in classes and cat == "Nd")
            or ("whitespace" in classes and ch.isspace())
            or ("punctuation" in classes and cat.startswith("P"))
            or ("symbol" in classes and cat.startswith("S"))
            or ("custom" in classes and ch in custom)
        )

    return keep


def _split_by_classes(text: str, keep: Callable[[str], bool] | None) -> list[str]:
    if keep is None:  # OpenSearch default: no token_chars means every character is kept
        return [text] if text else []
    out: list[str] = []
    current: list[str] = []
    for ch in text:
        if keep(ch):
            current.append(ch)
        elif current:
            out.append("".join(current))
            current = []
    if current:
        out.append("".join(current))
    return out


def _grams(word: str, lo: int, hi: int, edge: bool) -> list[str]:
    if edge:
        return [word[:n] for n in range(lo, min(hi, len(word)) + 1)]
    return [
        word[i : i + n] for i in range(len(word)) for n in range(lo, hi + 1) if i + n <= len(word)
    ]


def _gram_bounds(conf: dict[str, Any], default_lo: int, default_hi: int) -> tuple[int, int]:
    lo = int(conf.get("min_gram", default_lo))
    hi = int(conf.get("max_gram", default_hi))
    if lo < 1 or hi < lo:
        raise bad_request(f"invalid min_gram [{lo}] / max_gram [{hi}]")
    return lo, hi


def build_tokenizer(conf: dict[str, Any]) -> tuple[Tokenizer, bool]:
    """A tokenizer from its settings; the flag says it only ever yields one token."""
    kind = conf.get("type")
    if kind == "standard":
        return _standard(int(conf.get("max_token_length", 255))), False
    if kind == "whitespace":
        return _WHITESPACE.findall, False
    if kind == "keyword":
        return (lambda text: [text] if text else []), True
    if kind == "letter":
        return _LETTERS.findall, False
    if kind == "lowercase":
        return (lambda text: [w.lower() for w in _LETTERS.findall(text)]), False
    if kind in ("edge_ngram", "edgeNGram", "ngram", "nGram"):
        edge = kind.lower().startswith("edge")
        lo, hi = _gram_bounds(conf, 1, 2)
        token_chars = conf.get("token_chars") or []
        keep = (
            _char_class_matcher(token_chars, str(conf.get("custom_token_chars", "")))
            if token_chars
            else None
        )

        def tokenize(text: str) -> list[str]:
            return [g for w in _split_by_classes(text, keep) for g in _grams(w, lo, hi, edge)]

        return tokenize, False
    raise unsupported(f"tokenizer type [{kind}]")


def _fold(token: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", token) if not unicodedata.combining(c))


def _stopwords(conf: dict[str, Any]) -> frozenset[str]:
    words = conf.get("stopwords", "_english_")
    if words == "_english_":
        return ENGLISH_STOPWORDS
    if words == "_none_":
        return frozenset()
    if isinstance(words, list):
        return frozenset(str(w) for w in words)
    raise unsupported(f"stopwords [{words}]")


def build_filter(conf: dict[str, Any]) -> TokenFilter:
    kind = conf.get("type")
    if kind == "lowercase":
        return lambda toks: [t.lower() for t in toks]
    if kind == "uppercase":
        return lambda toks: [t.upper() for t in toks]
    if kind == "asciifolding":
        return lambda toks: [_fold(t) for t in toks]
    if kind == "trim":
        return lambda toks: [t.strip() for t in toks]
    if kind == "unique":
        return lambda toks: list(dict.fromkeys(toks))
    if kind == "stop":
        stop = _stopwords(conf)
        return lambda toks: [t for t in toks if t not in stop]
    if kind in ("edge_ngram", "edgeNGram", "ngram", "nGram"):
        edge = kind.lower().startswith("edge")
        lo, hi = _gram_bounds(conf, 1, 2)
        keep_original = bool(conf.get("preserve_original", False))

        def grams(toks: list[str]) -> list[str]:
            out: list[str] = []
            for t in toks:
                out.extend(_grams(t, lo, hi, edge))
                if keep_original and (len(t) < lo or len(t) > hi):
                    out.append(t)
            return out

        return grams
    raise unsupported(f"token filter type [{kind}]")


@dataclass(frozen=True)
class Analyzer:
    """A tokenizer followed by token filters; ``single_token`` analyzers index raw."""

    name: str
    tokenizer: Tokenizer
    filters: tuple[TokenFilter, ...]
    single_token: bool

    def analyze(self, text: str) -> list[str]:
        tokens = self.tokenizer(text)
        for f in self.filters:
            tokens = f(tokens)
        return [t for t in tokens if t]


def _lower(toks: list[str]) -> list[str]:
    return [t.lower() for t in toks]


def _builtin(name: str, conf: dict[str, Any] | None = None) -> Analyzer | None:
    conf = conf or {}
    if name == "standard":
        filters: list[TokenFilter] = [_lower]
        if "stopwords" in conf:
            stop = _stopwords(conf)
            filters.append(lambda toks: [t for t in toks if t not in stop])
        tok = _standard(int(conf.get("max_token_length", 255)))
        return Analyzer(name, tok, tuple(filters), False)
    if name == "simple":
        return Analyzer(name, _LETTERS.findall, (_lower,), False)
    if name == "whitespace":
        return Analyzer(name, _WHITESPACE.findall, (), False)
    if name == "keyword":
        return Analyzer(name, lambda text: [text] if text else [], (), True)
    if name == "stop":
        stop = _stopwords(conf)
        return Analyzer(
            name, _LETTERS.findall, (_lower, lambda t: [x for x in t if x not in stop]), False
        )
    return None


class AnalysisRegistry:
    """The analyzers and normalizers one index's ``settings.analysis`` defines."""

    def __init__(self, analysis: dict[str, Any] | None) -> None:
        analysis = analysis or {}
        self._tokenizers: dict[str, dict[str, Any]] = analysis.get("tokenizer", {}) or {}
        self._filters: dict[str, dict[str, Any]] = analysis.get("filter", {}) or {}
        self._analyzers: dict[str, Analyzer] = {}
        for name, conf in (analysis.get("analyzer", {}) or {}).items():
            self._analyzers[name] = self._build(name, conf, normalizer=False)
        self._normalizers: dict[str, Analyzer] = {}
        for name, conf in (analysis.get("normalizer", {}) or {}).items():
            self._normalizers[name] = self._build(name, conf, normalizer=True)

    def _tokenizer(self, ref: Any) -> tuple[Tokenizer, bool]:
        if isinstance(ref, dict):
            return build_tokenizer(ref)
        conf = self._tokenizers.get(ref, {"type": ref})
        return build_tokenizer(conf)

    def _filter(self, ref: Any) -> TokenFilter:
        if isinstance(ref, dict):
            return build_filter(ref)
        return build_filter(self._filters.get(ref, {"type": ref}))

    def _build(self, name: str, conf: dict[str, Any], normalizer: bool) -> Analyzer:
        kind = conf.get("type", "custom")
        if kind != "custom":
            builtin = _builtin(kind, conf)
            if builtin is None:
                raise unsupported(f"analyzer type [{kind}]")
            return Analyzer(name, builtin.tokenizer, builtin.filters, builtin.single_token)
        filters = tuple(self._filter(f) for f in conf.get("filter", []) or [])
        if normalizer:
            return Analyzer(name, lambda text: [text] if text else [], filters, True)
        if "tokenizer" not in conf:
            raise bad_request(
                f"analyzer [{name}] must specify either an analyzer type, or a tokenizer"
            )
        tokenizer, single = self._tokenizer(conf["tokenizer"])
        return Analyzer(name, tokenizer, filters, single)

    def analyzer(self, name: str) -> Analyzer:
        if name in self._analyzers:
            return self._analyzers[name]
        builtin = _builtin(name)
        if builtin is None:
            raise mapper_parsing(f"analyzer [{name}] has not been configured in mappings")
        return builtin

    def normalizer(self, name: str) -> Analyzer:
        if name not in self._normalizers:
            if name == "lowercase":
                return Analyzer(name, lambda t: [t] if t else [], (_lower,), True)
            raise mapper_parsing(f"normalizer [{name}] not found for field")
        return self._normalizers[name]
