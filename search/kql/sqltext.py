"""SQL fragments that carry their parameters in the order their placeholders appear.

User text never enters SQL: it travels as a parameter beside a `%s`. Fragments are
combined with `sql()`, which keeps each fragment's parameters in textual order, so
a fragment may be used twice (its parameters are then repeated).
"""

NO_VALUE = object()


class Expr:
    """A compiled scalar: SQL text, its parameters, its Kusto type.

    `value` is the Python value when the expression is a constant the compiler could
    fold (literals, `ago(1d)`, `let` values); it stays NO_VALUE otherwise.
    """

    __slots__ = ("text", "params", "type", "value")

    def __init__(self, text, params, type, value=NO_VALUE):
        self.text, self.params, self.type, self.value = text, params, type, value

    @property
    def is_const(self):
        return self.value is not NO_VALUE

    def __repr__(self):
        return f"Expr({self.text!r}, {self.params!r}, {self.type!r})"


class Frag:
    __slots__ = ("text", "params")

    def __init__(self, text, params=()):
        self.text, self.params = text, list(params)


def sql(template, *parts, type=None):
    """Fill each `{}` of `template` with a fragment (Expr, Frag) or a parameter.

    Anything that is not a fragment becomes a `%s` parameter. Returns an Expr of
    `type` (or a Frag when type is None). Literal percent signs are written `%%`.
    """
    pieces = template.split("{}")
    if len(pieces) != len(parts) + 1:
        raise ValueError(f"{len(parts)} parts for {template!r}")
    text, params = [pieces[0]], []
    for part, after in zip(parts, pieces[1:], strict=True):
        if isinstance(part, (Expr, Frag)):
            text.append(part.text)
            params.extend(part.params)
        else:
            text.append("%s")
            params.append(part)
        text.append(after)
    if type is None:
        return Frag("".join(text), params)
    return Expr("".join(text), params, type)


def join(fragments, separator):
    text = separator.join(f.text for f in fragments)
    params = [p for f in fragments for p in f.params]
    return Frag(text, params)
