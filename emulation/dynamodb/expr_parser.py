"""Parsing DynamoDB expressions into small tuples the evaluator walks.

One recursive-descent parser serves the five expression kinds (Condition, Filter,
KeyCondition, Update, Projection). Placeholders are resolved while parsing, so the
caller learns which ``#names`` and ``:values`` each expression used and can report
unused or undefined ones exactly as DynamoDB does.

Shapes (``Path`` is a tuple of ``str`` attribute names and ``int`` list indexes):

- operands: ``("path", Path)``, ``("value", AttributeValue, ":name")``, ``("size", op)``,
  ``("if_not_exists", Path, op)``, ``("list_append", op, op)``, ``("+"|"-", op, op)``
- conditions: ``("cmp", "="|"<>"|"<"|"<="|">"|">=", op, op)``, ``("between", op, op, op)``,
  ``("in", op, [op...])``, ``("and"|"or", c, c)``, ``("not", c)``, ``("fn", name, [op...])``
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from emulation.dynamodb.errors import validation
from emulation.dynamodb.reserved import RESERVED

Path = tuple[Any, ...]
Node = tuple[Any, ...]

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<hname>#[A-Za-z0-9_]+)"
    r"|(?P<vname>:[A-Za-z0-9_]+)|(?P<op><>|<=|>=|[=<>()\[\],.+\-]))"
)
COMPARATORS = ("=", "<>", "<", "<=", ">", ">=")
CONDITION_FUNCTIONS = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
}
MAX_EXPRESSION_BYTES = 4096


@dataclass
class Placeholders:
    """The request's ExpressionAttributeNames/Values and which of them were used."""

    names: dict[str, str]
    values: dict[str, Any]
    used_names: set[str] = field(default_factory=set)
    used_values: set[str] = field(default_factory=set)


_TOKENS: dict[str, tuple[tuple[str, str, int], ...]] = {}
_TOKENS_KEPT = 1024  # distinct expression texts remembered (clients reuse a few)


def _tokens(text: str, kind: str) -> tuple[tuple[str, str, int], ...]:
    """The tokens of ``text``; a client sends the same few expressions again and again, so
    they are split once (placeholders are resolved per request, by the parser)."""
    tokens = _TOKENS.get(text)
    if tokens is not None:
        return tokens
    out: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            bad = text[pos:].lstrip()[:1]
            raise validation(f'Invalid {kind}: Syntax error; token: "{bad}", near: '
                             f'"{text[max(0, pos - 5):pos + 5].strip()}"')  # fmt: skip
        group = m.lastgroup or "op"
        out.append((group, m.group(group), m.start(group)))
        pos = m.end()
    if len(_TOKENS) >= _TOKENS_KEPT:
        _TOKENS.clear()
    tokens = _TOKENS[text] = tuple(out)
    return tokens


class _Parser:
    def __init__(self, text: str, kind: str, ph: Placeholders) -> None:
        self.text, self.kind, self.ph = text, kind, ph
        self.tokens = _tokens(text, kind)
        self.i = 0
        self.parenthesized: set[int] = set()  # ids of nodes written inside ( )

    # -- token helpers
    def peek(self, offset: int = 0) -> tuple[str, str, int] | None:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def word(self, offset: int = 0) -> str:
        t = self.peek(offset)
        return t[1].upper() if t and t[0] == "name" else ""

    def is_op(self, op: str) -> bool:
        t = self.peek()
        return t is not None and t[0] == "op" and t[1] == op

    def error(self) -> Exception:
        t = self.peek()
        if t is None:
            near = self.text.strip()[-10:]
            return validation(f'Invalid {self.kind}: Syntax error; token: "<EOF>", near: "{near}"')
        prev = self.tokens[self.i - 1] if self.i > 0 else None
        nxt = self.peek(1)
        start = prev[2] if prev else t[2]
        end = nxt[2] + len(nxt[1]) if nxt else t[2] + len(t[1])
        return validation(
            f'Invalid {self.kind}: Syntax error; token: "{t[1]}", near: "{self.text[start:end]}"'
        )

    def expect(self, op: str) -> None:
        if not self.is_op(op):
            raise self.error()
        self.i += 1

    def done(self) -> None:
        if self.peek() is not None:
            raise self.error()

    # -- paths and operands
    def path(self) -> Path:
        parts: list[Any] = [self.attribute_name()]
        while True:
            if self.is_op("."):
                self.i += 1
                parts.append(self.attribute_name())
            elif self.is_op("["):
                self.i += 1
                t = self.peek()
                if t is None or t[0] != "num":
                    raise self.error()
                self.i += 1
                self.expect("]")
                parts.append(int(t[1]))
            else:
                return tuple(parts)

    def attribute_name(self) -> str:
        t = self.peek()
        if t is None:
            raise self.error()
        if t[0] == "hname":
            self.i += 1
            if t[1] not in self.ph.names:
                raise validation(
                    f"Invalid {self.kind}: An expression attribute name used in the document "
                    f"path is not defined; attribute name: {t[1]}"
                )
            self.ph.used_names.add(t[1])
            return self.ph.names[t[1]]
        if t[0] == "name":
            if t[1].upper() in RESERVED:
                raise validation(
                    f"Invalid {self.kind}: Attribute name is a reserved keyword; reserved "
                    f"keyword: {t[1]}"
                )
            self.i += 1
            return t[1]
        raise self.error()

    def value(self) -> Node:
        t = self.peek()
        assert t is not None
        self.i += 1
        if t[1] not in self.ph.values:
            raise validation(
                f"Invalid {self.kind}: An expression attribute value used in expression is not "
                f"defined; attribute value: {t[1]}"
            )
        self.ph.used_values.add(t[1])
        return ("value", self.ph.values[t[1]], t[1])

    def operand(self) -> Node:
        t = self.peek()
        if t is None:
            raise self.error()
        if t[0] == "vname":
            return self.value()
        nxt = self.peek(1)
        if t[0] == "name" and nxt is not None and nxt[1] == "(":
            return self.function_call()
        if t[0] in ("name", "hname"):
            return ("path", self.path())
        if t[0] == "op" and t[1] == "(" and self.kind == "UpdateExpression":
            self.i += 1
            inner = self.update_value()
            self.expect(")")
            return inner
        raise self.error()

    def function_call(self) -> Node:
        t = self.peek()
        assert t is not None
        name = t[1]
        self.i += 2
        args: list[Node] = []
        if not self.is_op(")"):
            args.append(self.operand())
            while self.is_op(","):
                self.i += 1
                args.append(self.operand())
        self.expect(")")
        update = self.kind == "UpdateExpression"
        known = {"if_not_exists": 2, "list_append": 2} if update else {"size": 1}
        if name not in known and not (not update and name in CONDITION_FUNCTIONS):
            raise validation(f"Invalid {self.kind}: Invalid function name; function: {name}")
        want = known.get(name) or CONDITION_FUNCTIONS[name]
        if len(args) != want:
            raise validation(
                f"Invalid {self.kind}: Incorrect number of operands for operator or function; "
                f"operator or function: {name}, number of operands: {len(args)}"
            )
        if name == "size":
            if args[0][0] != "path":
                raise validation(
                    f"Invalid {self.kind}: Incorrect operand type for operator or function; "
                    f"operator or function: size, operand type: {_operand_type(args[0])}"
                )
            return ("size", args[0])
        if name == "if_not_exists":
            if args[0][0] != "path":
                raise validation(
                    f"Invalid {self.kind}: Operator or function requires a document path; "
                    "operator or function: if_not_exists"
                )
            return ("if_not_exists", args[0][1], args[1])
        if name == "list_append":
            return ("list_append", args[0], args[1])
        return ("fn", name, args)

    # -- conditions
    def condition(self) -> Node:
        left = self.and_condition()
        while self.word() == "OR":
            self.i += 1
            left = ("or", left, self.and_condition())
        return left

    def and_condition(self) -> Node:
        left = self.not_condition()
        while self.word() == "AND":
            self.i += 1
            left = ("and", left, self.not_condition())
        return left

    def not_condition(self) -> Node:
        if self.word() == "NOT":
            self.i += 1
            return ("not", self.not_condition())
        return self.primary_condition()

    def primary_condition(self) -> Node:
        if self.is_op("("):
            self.i += 1
            inner = self.condition()
            self.expect(")")
            if id(inner) in self.parenthesized:
                raise validation(f"Invalid {self.kind}: The expression has redundant parentheses;")
            self.parenthesized.add(id(inner))
            return inner
        left = self.operand()
        t = self.peek()
        if t is not None and t[0] == "op" and t[1] in COMPARATORS:
            self.i += 1
            return ("cmp", t[1], left, self.operand())
        if self.word() == "BETWEEN":
            self.i += 1
            low = self.operand()
            if self.word() != "AND":
                raise self.error()
            self.i += 1
            return ("between", left, low, self.operand())
        if self.word() == "IN":
            self.i += 1
            self.expect("(")
            options = [self.operand()]
            while self.is_op(","):
                self.i += 1
                options.append(self.operand())
            self.expect(")")
            if len(options) > 100:
                raise validation(
                    f"Invalid {self.kind}: The IN operator is provided with too many operands; "
                    f"number of operands: {len(options)}"
                )
            return ("in", left, options)
        if left[0] == "fn":
            return left
        raise self.error()

    # -- update expressions
    def update(self) -> dict[str, list[Any]]:
        clauses: dict[str, list[Any]] = {}
        if self.peek() is None:
            raise self.error()
        while self.peek() is not None:
            word = self.word()
            if word not in ("SET", "REMOVE", "ADD", "DELETE"):
                raise self.error()
            if word in clauses:
                raise validation(
                    f'Invalid UpdateExpression: The "{word}" section can only be used once in '
                    "an update expression;"
                )
            self.i += 1
            actions: list[Any] = []
            while True:
                target = self.path()
                if word == "SET":
                    self.expect("=")
                    actions.append((target, self.update_value()))
                elif word == "REMOVE":
                    actions.append((target, None))
                else:
                    t = self.peek()
                    if t is None or t[0] != "vname":
                        raise self.error()
                    actions.append((target, self.value()))
                if not self.is_op(","):
                    break
                self.i += 1
            clauses[word] = actions
        return clauses

    def update_value(self) -> Node:
        left = self.operand()
        if self.is_op("+") or self.is_op("-"):
            t = self.peek()
            assert t is not None
            self.i += 1
            return (t[1], left, self.operand())
        return left

    def projection(self) -> list[Path]:
        paths = [self.path()]
        while self.is_op(","):
            self.i += 1
            paths.append(self.path())
        return paths


def _operand_type(node: Node) -> str:
    if node[0] == "value":
        return str(next(iter(node[1])))
    return str(node[0]).upper()


def _start(text: Any, kind: str, ph: Placeholders) -> _Parser:
    if not isinstance(text, str):
        raise validation(f"Invalid {kind}: The expression must be a string")
    if not text.strip():
        raise validation(f"Invalid {kind}: The expression can not be empty;")
    if len(text.encode()) > MAX_EXPRESSION_BYTES:
        raise validation(
            f"Invalid {kind}: Expression size has exceeded the maximum allowed size; "
            f"expression size: {len(text.encode())}"
        )
    return _Parser(text, kind, ph)


def parse_condition(text: Any, kind: str, ph: Placeholders) -> Node:
    p = _start(text, kind, ph)
    node = p.condition()
    p.done()
    return node


def parse_update(text: Any, ph: Placeholders) -> dict[str, list[Any]]:
    p = _start(text, "UpdateExpression", ph)
    clauses = p.update()
    p.done()
    return clauses


def parse_projection(text: Any, ph: Placeholders) -> list[Path]:
    p = _start(text, "ProjectionExpression", ph)
    paths = p.projection()
    p.done()
    return paths
