"""YAML files read with line numbers, so validation errors can name the line of a field.

Read strictly, as plain data (YAML 1.1 core schema through PyYAML's safe loader): strings,
numbers, booleans, null, dates, lists and mappings.  Everything else is an
:class:`~leotwin.errors.InputError` naming the line: a tag (``!!python/object``, ``!!binary``,
``!custom``), a merge key (``<<``), a key given twice, a date that does not exist
(``2026-02-30``), an alias that refers to its own node or that would expand the document
beyond :data:`MAX_ALIAS_VALUES` values (a "billion laughs" document), and nesting deeper than
:data:`MAX_DEPTH`.
"""

from __future__ import annotations

import yaml

from leotwin.errors import InputError
from leotwin.io.text import check_characters

#: the deepest nesting of lists and mappings a leotwin file needs is about 8
MAX_DEPTH = 64
#: values an alias may repeat, all aliases together (a document is never made larger than this
#: by its aliases; the values written out are bounded by the file size)
MAX_ALIAS_VALUES = 100_000
#: libyaml's C parser when PyYAML has it (5x faster on a 50,000-terminal scenario; the same
#: nodes, marks and errors), else PyYAML's own
_COMPOSER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CORE = "tag:yaml.org,2002:"
_PLAIN = {f"{_CORE}{t}" for t in ("str", "int", "float", "bool", "null", "timestamp", "seq",
                                  "map")}


class Located(dict):
    """A mapping that remembers the line of each key (1-based) and its own line."""

    line: int = 0
    key_lines: dict

    def line_of(self, key) -> int:
        return self.key_lines.get(key, self.line)


class LocatedList(list):
    line: int = 0
    item_lines: list


class _Builder:
    """Nodes → Located values, with the bounds above; aliases are the same node object
    composed twice."""

    def __init__(self, source: str):
        self.source = source
        self.built: set[int] = set()
        self.open: set[int] = set()
        self.sizes: dict[int, int] = {}
        self.alias_values = 0
        self.constructor = yaml.SafeLoader("")  # builds scalars: one for the whole document

    def error(self, message: str, node) -> InputError:
        return InputError(message, source=self.source, line=node.start_mark.line + 1)

    def size(self, node) -> int:
        """Values in ``node``'s subtree, counting repeats (memoised per node)."""
        key = id(node)
        if key not in self.sizes:
            if key in self.open:
                raise self.error("an alias refers to the list or mapping that contains it "
                                 "(a document that never ends)", node)
            self.open.add(key)
            children = ([] if isinstance(node, yaml.ScalarNode) else
                        [x for kv in node.value for x in kv] if isinstance(node, yaml.MappingNode)
                        else node.value)
            self.sizes[key] = 1 + sum(self.size(c) for c in children)
            self.open.discard(key)
        return self.sizes[key]

    def build(self, node, depth: int = 0):
        if node.tag not in _PLAIN:
            if node.tag == f"{_CORE}merge":
                raise self.error("merge keys (<<) are not supported: write the keys out", node)
            tag = node.tag.replace(_CORE, "!!")
            raise self.error(f"tag '{tag}' is not allowed: expected plain YAML values "
                             "(strings, numbers, booleans, dates, lists, mappings)", node)
        if depth > MAX_DEPTH:
            raise self.error(f"lists and mappings nested more than {MAX_DEPTH} levels deep",
                             node)
        if not isinstance(node, yaml.ScalarNode):
            if id(node) in self.built or id(node) in self.open:
                self.alias_values += self.size(node)
                if self.alias_values > MAX_ALIAS_VALUES:
                    raise self.error(f"aliases repeat more than {MAX_ALIAS_VALUES:,} values "
                                     "(a 'billion laughs' document?): write the values out",
                                     node)
            self.built.add(id(node))
            self.open.add(id(node))
            try:
                return _build(node, self, depth)
            finally:
                self.open.discard(id(node))
        return _scalar(node, self.source, self.constructor)


def _build(node, b: _Builder, depth: int):
    source = b.source
    if isinstance(node, yaml.MappingNode):
        out = Located()
        out.line = node.start_mark.line + 1
        out.key_lines = {}
        for k, v in node.value:
            key = b.build(k, depth + 1)
            try:
                hash(key)
            except TypeError:
                raise InputError("a mapping key must be a plain value, not a list or mapping",
                                 source=source, line=k.start_mark.line + 1) from None
            if key in out:
                # YAML itself says keys are unique; PyYAML would keep the last value silently
                # (a second ``decision:`` would flip granted to refused)
                raise InputError(f"key '{key}' appears twice in one mapping (first on line "
                                 f"{out.key_lines[key]}): keep one", source=source,
                                 line=k.start_mark.line + 1)
            out[key] = b.build(v, depth + 1)
            out.key_lines[key] = k.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        items = LocatedList(b.build(v, depth + 1) for v in node.value)
        items.line = node.start_mark.line + 1
        items.item_lines = [v.start_mark.line + 1 for v in node.value]
        return items
    raise AssertionError(node)  # pragma: no cover - scalars are built by the caller


def _scalar(node: yaml.ScalarNode, source: str, loader: yaml.SafeLoader):
    try:
        value = loader.construct_object(node, deep=True)
        if isinstance(value, str):  # "\0" or "\x07" escapes in a double-quoted string
            check_characters(value, source, line=node.start_mark.line + 1)
        return value
    except (ValueError, OverflowError) as exc:  # 2026-02-30: day is out of range for month
        raise InputError(f"'{node.value}' is not a valid date: {exc}", source=source,
                         line=node.start_mark.line + 1) from None
    except yaml.YAMLError as exc:
        raise InputError(f"cannot read the value '{node.value}': "
                         f"{getattr(exc, 'problem', None) or exc}", source=source,
                         line=node.start_mark.line + 1) from None


def load_yaml(text: str, source: str):
    """Parse YAML text into Located/LocatedList/scalars; syntax errors name the line."""
    try:
        node = yaml.compose(text, Loader=_COMPOSER)
    except RecursionError:
        raise InputError(f"lists and mappings nested too deeply (more than {MAX_DEPTH} levels)",
                         source=source) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"invalid YAML: {problem}", source=source,
                         line=mark.line + 1 if mark else None) from None
    if node is None:
        return Located()
    try:
        return _Builder(source).build(node)
    except RecursionError:  # a self-referencing alias deeper than the checks reach
        raise InputError("lists and mappings nested too deeply", source=source) from None


def line_at(doc, loc: tuple) -> int | None:
    """The line of the value at path ``loc`` (keys and list indices), as deep as it exists."""
    node, line = doc, getattr(doc, "line", None)
    for part in loc:
        if isinstance(node, Located) and part in node:
            line = node.line_of(part)
            node = node[part]
        elif isinstance(node, LocatedList) and isinstance(part, int) and part < len(node):
            line = node.item_lines[part]
            node = node[part]
        else:
            break
    return line
