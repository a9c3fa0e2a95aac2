"""YAML files read with line numbers, so validation errors can name the line of a field."""

from __future__ import annotations

import yaml

from leotwin.errors import InputError


class Located(dict):
    """A mapping that remembers the line of each key (1-based) and its own line."""

    line: int = 0
    key_lines: dict

    def line_of(self, key) -> int:
        return self.key_lines.get(key, self.line)


class LocatedList(list):
    line: int = 0
    item_lines: list


def _build(node, source: str):
    if isinstance(node, yaml.MappingNode):
        out = Located()
        out.line = node.start_mark.line + 1
        out.key_lines = {}
        for k, v in node.value:
            key = _build(k, source)
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
            out[key] = _build(v, source)
            out.key_lines[key] = k.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        items = LocatedList(_build(v, source) for v in node.value)
        items.line = node.start_mark.line + 1
        items.item_lines = [v.start_mark.line + 1 for v in node.value]
        return items
    return _scalar(node)


def _scalar(node: yaml.ScalarNode):
    loader = yaml.SafeLoader("")
    return loader.construct_object(node, deep=True)


def load_yaml(text: str, source: str):
    """Parse YAML text into Located/LocatedList/scalars; syntax errors name the line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"invalid YAML: {problem}", source=source,
                         line=mark.line + 1 if mark else None) from None
    return Located() if node is None else _build(node, source)


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
