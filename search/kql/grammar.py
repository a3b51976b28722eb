"""The grammar of the supported Kusto subset, and the parser built from it once.

LALR with lark's contextual lexer: a word is a keyword only where the grammar
accepts that keyword, so columns named like operators (`count`, `distinct`) still
read as names inside expressions.
"""

import re

from lark import Lark
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from .errors import KqlError

GRAMMAR = r"""
start: let_stmt* query ";"?

let_stmt: "let" name "=" expr ";"

query: name ("|" _operator)*

_operator: where_op | project_op | project_away_op | project_rename_op | extend_op
         | summarize_op | sort_op | take_op | top_op | count_op | distinct_op

where_op: ("where" | "filter") expr
project_op: "project" column_def ("," column_def)*
project_away_op: "project-away" pattern ("," pattern)*
project_rename_op: "project-rename" rename ("," rename)*
extend_op: "extend" column_def ("," column_def)*
summarize_op: "summarize" [aggregates] [by_clause]
aggregates: column_def ("," column_def)*
by_clause: _BY column_def ("," column_def)*
sort_op: ("sort" | "order") _BY sort_key ("," sort_key)*
take_op: ("take" | "limit") expr
top_op: "top" expr _BY sort_key
count_op: "count"
distinct_op: "distinct" (STAR | name ("," name)*)

column_def: [name "="] expr
rename: name "=" name
?pattern: name | WILDCARD
sort_key: expr [DIRECTION] [nulls_clause]
nulls_clause: _NULLS NULLS_POSITION

?expr: or_expr
?or_expr: and_expr | or_expr "or" and_expr -> or_
?and_expr: cmp_expr | and_expr "and" cmp_expr -> and_
?cmp_expr: add_expr
    | add_expr CMP add_expr -> compare
    | add_expr STROP add_expr -> string_op
    | add_expr INOP "(" expr ("," expr)* ")" -> in_op
    | add_expr HASLIST "(" expr ("," expr)* ")" -> has_list
    | add_expr BETWEEN "(" add_expr ".." add_expr ")" -> between
    | add_expr "matches" "regex" add_expr -> matches
?add_expr: mul_expr | add_expr ADDOP mul_expr -> arith
?mul_expr: unary | mul_expr MULOP unary -> arith
?unary: postfix | "-" unary -> neg | "+" unary
?postfix: atom
    | postfix "." name -> member
    | postfix "[" expr "]" -> index
?atom: literal
    | name -> column
    | call
    | "(" expr ")"
call: NAME "(" [arg ("," arg)*] ")"
?arg: expr | STAR

?literal: STRING -> string
    | VERBATIM -> verbatim
    | INT -> int_
    | REAL -> real
    | TIMESPAN -> timespan
    | DATETIME -> datetime
    | "dynamic" "(" dyn ")" -> dynamic

?dyn: "[" [dyn ("," dyn)*] "]" -> dyn_list
    | "{" [dyn_pair ("," dyn_pair)*] "}" -> dyn_dict
    | STRING -> dyn_string
    | INT -> dyn_int
    | "-" INT -> dyn_neg_int
    | REAL -> dyn_real
    | "-" REAL -> dyn_neg_real
    | NAME -> dyn_word
dyn_pair: STRING ":" dyn

name: NAME | "[" STRING "]"

_BY: "by"
_NULLS: "nulls"
DIRECTION: "asc" | "desc"
NULLS_POSITION: "first" | "last"
STAR: "*"
CMP: "==" | "!=" | "<>" | "<=" | ">=" | "<" | ">" | "=~" | "!~"
STROP.2: /!?(@STRING_OPERATORS@)(?![A-Za-z0-9_])/
INOP.2: /!?in(~|(?![A-Za-z0-9_]))/
HASLIST.2: /(has_any|has_all)(?![A-Za-z0-9_])/
BETWEEN.2: /!?between(?![A-Za-z0-9_])/
ADDOP: "+" | "-"
MULOP: "*" | "/" | "%"
NAME: /[A-Za-z_$][A-Za-z0-9_$]*/
WILDCARD.3: /[A-Za-z0-9_$]*\*[A-Za-z0-9_$*]*/
STRING: /[hH]?"(?:[^"\\\n]|\\.)*"/ | /[hH]?'(?:[^'\\\n]|\\.)*'/
VERBATIM: /[hH]?@"[^"]*(?:""[^"]*)*"/ | /[hH]?@'[^']*(?:''[^']*)*'/
TIMESPAN.2: /\d+(\.\d+)?(@TIMESPAN_UNITS@)(?![A-Za-z0-9_])/
REAL.1: /\d+\.\d+([eE][+-]?\d+)?|\d+[eE][+-]?\d+/
INT: /\d+/
DATETIME.2: /datetime\s*\([^()]*\)/

COMMENT: /\/\/[^\n]*/
%import common.WS
%ignore WS
%ignore COMMENT
"""

# Longest first: a regex alternation takes the first that matches.
STRING_OPERATORS = ("has_cs", "hasprefix_cs", "hasprefix", "hassuffix_cs", "hassuffix", "has",
                    "contains_cs", "contains", "startswith_cs", "startswith", "endswith_cs",
                    "endswith")
TIMESPAN_UNITS = ("days", "day", "d", "hours", "hour", "hrs", "hr", "h", "minutes", "minute",
                  "min", "m", "seconds", "second", "sec", "s", "milliseconds", "millisecond",
                  "milli", "ms", "microseconds", "microsecond", "micro", "ticks", "tick")
GRAMMAR = GRAMMAR.replace("@STRING_OPERATORS@", "|".join(STRING_OPERATORS)).replace(
    "@TIMESPAN_UNITS@", "|".join(TIMESPAN_UNITS))

# Operators of Kusto that this subset refuses by name rather than as a syntax error.
KNOWN_UNSUPPORTED = {
    "join", "union", "parse", "parse-where", "parse-kv", "mv-expand", "mv-apply",
    "make-series", "lookup", "evaluate", "render", "as", "invoke", "serialize", "scan",
    "sample", "sample-distinct", "search", "find", "fork", "facet", "getschema",
    "top-nested", "top-hitters", "partition", "reduce", "project-keep", "project-reorder",
    "externaldata", "consume", "print", "range", "datatable",
}

_parser = Lark(GRAMMAR, parser="lalr", lexer="contextual", propagate_positions=True,
               maybe_placeholders=True, cache=False)

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")


def parse_tree(text):
    """The lark parse tree of `text`, or KqlError at the first token that does not fit."""
    try:
        return _parser.parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None


def _syntax_error(text, exc):
    line = getattr(exc, "line", None) or 1
    column = getattr(exc, "column", None) or 1
    if isinstance(exc, UnexpectedEOF) or (
            isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        line, column = _end_position(text)
        return KqlError("the query ends too early", line, column, "")
    token = ""
    if isinstance(exc, UnexpectedToken):
        token = str(exc.token)
    elif isinstance(exc, UnexpectedCharacters):
        match = _WORD.match(text, exc.pos_in_stream)
        token = match.group(0) if match else text[exc.pos_in_stream:exc.pos_in_stream + 1]
    if _after_pipe(text, exc.pos_in_stream):
        word = _WORD.match(text, exc.pos_in_stream)
        if word:
            name = word.group(0)
            if name in KNOWN_UNSUPPORTED:
                return KqlError(f"the operator '{name}' is not supported", line, column, name)
            return KqlError(f"unknown operator '{name}'", line, column, name)
    return KqlError(f"syntax error: unexpected '{token}'", line, column, token)


def _after_pipe(text, pos):
    before = text[:pos].rstrip()
    return before.endswith("|")


def _end_position(text):
    lines = text.rstrip().split("\n")
    return len(lines), len(lines[-1]) + 1
