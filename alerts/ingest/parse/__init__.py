"""Parsing alert request bodies: split a body into items, normalise each item.

Pure Python (standard library only). Typical use::

    for item in split_body(body, content_type):       # BodyError -> HTTP 400
        try:
            alert = normalize(item.data, format=None)  # ItemRejected -> per-item error
        except ItemRejected as exc:
            report(item.index, exc.as_dict())
"""

from socconsole.lib.jsonbody import RawItem, split_body
from socconsole.lib.jsonsafe import MAX_DEPTH, JSONTooDeep, loads

from .entities import KNOWN_KINDS
from .errors import BodyError, InvalidJSON, ItemRejected, ParseWarning, Warning
from .formats import FORMATS
from .model import EntityMention, Normalized, RelationMention
from .normalize import normalize

__all__ = [
    "FORMATS", "KNOWN_KINDS", "MAX_DEPTH", "BodyError", "EntityMention", "InvalidJSON",
    "ItemRejected", "JSONTooDeep", "Normalized", "ParseWarning", "RawItem", "RelationMention",
    "Warning", "loads", "normalize", "split_body",
]
