"""Merging entity mentions into entities (FORMATS.md, "Entity identity").

Two mentions are one entity when they share a strong identifier; or when they
share a weak name, exactly one entity matches, and no strong identifier of one
contradicts the other's (two AzureIDs that differ are two hosts).

The result must not depend on the order in which alerts arrive. Order matters
in one case: a mention known only by its name ("name-only") joins the one
entity with that name, and later a second, contradicting entity with that name
appears. Had they come the other way round, the name would have been
ambiguous and the mention would have stood with the other name-only mentions.
So when a name turns ambiguous, the name-only mentions attached to an entity
with strong identifiers move to the entity of name-only mentions, as if they
had arrived last. Each weak identifier row says whether name-only mentions hang
on it (`name_only`), so this costs nothing until it happens.

The resolver works on a batch. Most mentions are placed by a strong identifier
already stored: for those it learns only the entity's id (one query for the
whole batch), never its rows. Only mentions that no stored strong identifier
places need the candidates sharing their names, with all their identifiers.
Stored entities are then touched with one UPDATE that merges properties and
widens first/last seen in SQL. The caller holds the subscription's ingest lock,
so no other batch changes these entities meanwhile.
"""

from __future__ import annotations

import json

from django.db import connection
from django.db.models import Exists, OuterRef, Q, Subquery

from alerts.models import AlertEntity, Entity, EntityIdentifier, SuppressionRule
from socconsole.lib.bulk import Json, array_literal, bulk_insert

Match = AlertEntity.Match
CHUNK = 5000


def _chunks(values, size=CHUNK):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _id_type(value):
    """'host|azureid|x' -> 'host|azureid'."""
    kind, _, rest = value.partition("|")
    return f"{kind}|{rest.partition('|')[0]}"


class Assignment:
    """Where one mention of the batch ended up; a re-home or a merge may change it."""

    __slots__ = ("state", "match", "on")

    def __init__(self, state, match, on=""):
        self.state, self.match, self.on = state, match, on


class EntityState:
    """An entity during the batch. A stored one starts `partial` (only its id and the
    strong ids that found it); `complete` loads all its identifiers."""

    __slots__ = ("id", "kind", "label", "props", "props_text", "known", "strong", "weak",
                 "name_only", "first_seen", "last_seen", "new_ids", "flag_changes", "pending",
                 "touched", "partial", "merged_into", "_types")

    def __init__(self, kind="", label="", props=None, known=True, first_seen=None,
                 last_seen=None, pk=None, props_text=None):
        self.id = pk
        self.kind, self.label, self.props, self.known = kind, label, props or {}, known
        self.props_text = props_text  # `props` serialised, while nothing was added to them
        self.strong, self.weak, self.name_only = set(), set(), set()
        self.first_seen, self.last_seen = first_seen, last_seen
        self.new_ids = {}          # value -> strong, not yet in the database
        self.flag_changes = set()  # weak values whose name_only flag changed
        self.pending = {}          # weak value -> this batch's name-only Assignments
        self.touched = False       # a stored entity this batch saw again
        self.partial = pk is not None
        self.merged_into = None
        self._types = None

    def contradicts(self, strong_ids):
        if not self.strong or not strong_ids:
            return False
        if self._types is None:
            self._types = {}
            for value in self.strong:
                self._types.setdefault(_id_type(value), set()).add(value)
        return any(v not in self._types.get(_id_type(v), (v,)) for v in strong_ids)

    def add_strong(self, value):
        self.strong.add(value)
        self._types = None

    def absorb(self, props, label, first, last):
        """Merge a mention's properties and time into the entity."""
        for key, value in props.items():
            if key not in self.props and value not in (None, ""):
                self.props[key] = value
                self.props_text = None
        if not self.label and label:
            self.label = label
        if self.first_seen is None or first < self.first_seen:
            self.first_seen = first
        if self.last_seen is None or last > self.last_seen:
            self.last_seen = last
        self.touched = self.id is not None

    def set_name_only(self, value, on):
        if (value in self.name_only) != on:
            (self.name_only.add if on else self.name_only.discard)(value)
            if value not in self.new_ids:
                self.flag_changes.symmetric_difference_update({value})


def _identifier_rows(subscription, column, values):
    """(entity_id, value, strong, name_only) of identifiers whose `column` is in values."""
    fields = ("entity_id", "value", "strong", "name_only")
    if column not in ("value", "entity_id"):
        raise ValueError(column)
    for chunk in _chunks(values):
        if connection.vendor == "postgresql":
            cast = "bigint" if column == "entity_id" else "text"
            sql = ("SELECT entity_id, value, strong, name_only FROM alerts_entityidentifier "  # noqa: S608 — a column name checked above
                   f"WHERE subscription_id = %s AND {column} = ANY(%s::{cast}[])")
            with connection.cursor() as cursor:
                cursor.execute(sql, [subscription.pk, array_literal(chunk)])
                yield from cursor.fetchall()
        else:
            yield from EntityIdentifier.objects.filter(
                subscription=subscription, **{f"{column}__in": chunk}).values_list(*fields)


class Resolver:
    """Resolves the mentions of one batch of alerts in one subscription."""

    def __init__(self, subscription, mentions):
        self.subscription = subscription
        self.strong_index = {}     # strong id -> EntityState
        self.weak_index = {}       # weak id -> set of EntityState
        self.states = {}           # entity id (or a new state's own id) -> state
        self.moves = []            # (from state, to state, weak id) for stored mentions
        mentions = [m for m in mentions if m.known]
        strong = {v for m in mentions for v in m.strong_ids}
        for entity_id, value, _, _ in _identifier_rows(subscription, "value", strong):
            self._index(self._stored(entity_id), value, True)
        # Names are shared by many entities (one file name on every host): candidates by
        # name are needed only for mentions that no stored strong identifier places.
        unplaced = [m for m in mentions if m.weak_ids and
                    not any(v in self.strong_index for v in m.strong_ids)]
        found = self._name_candidates(unplaced)
        self._complete(found)

    def _name_candidates(self, unplaced):
        """Ids of stored entities that may take these mentions by name.

        A mention with strong ids of types T can only join an entity that has no strong id
        of a type in T (one with the same value would have placed it already): the others
        are left out in SQL, so a file name shared by ten thousand hosts costs nothing.
        Name-only mentions need every candidate (to tell an ambiguous name)."""
        found = set()
        full = {v for m in unplaced if not m.strong_ids for v in m.weak_ids}
        if full:
            found.update(row[0] for row in _identifier_rows(self.subscription, "value", full))
        groups = {}
        for m in unplaced:
            if m.strong_ids:
                types = frozenset(_id_type(v) for v in m.strong_ids)
                groups.setdefault(types, set()).update(set(m.weak_ids) - full)
        for types, names in groups.items():
            if not names:
                continue
            same_type = Q()
            for t in types:
                same_type |= Q(value__startswith=f"{t}|")
            contradicting = EntityIdentifier.objects.filter(
                entity_id=OuterRef("entity_id"), strong=True).filter(same_type)
            found.update(EntityIdentifier.objects.filter(
                subscription=self.subscription, value__in=names
            ).filter(Q(name_only=True) | ~Exists(contradicting)).values_list("entity_id",
                                                                             flat=True))
        return found

    # -- loading -------------------------------------------------------------

    def _stored(self, entity_id):
        state = self.states.get(entity_id)
        if state is None:
            state = self.states[entity_id] = EntityState(pk=entity_id)
        return state

    def _complete(self, entity_ids):
        """Load every identifier (and name-only flag) of these stored entities."""
        entity_ids = [i for i in entity_ids if self._stored(i).partial]
        for entity_id, value, strong, name_only in _identifier_rows(
                self.subscription, "entity_id", entity_ids):
            state = self.states[entity_id]
            self._index(state, value, strong)
            if name_only:
                state.name_only.add(value)
        for entity_id in entity_ids:
            self.states[entity_id].partial = False

    def _index(self, state, value, strong):
        if strong:
            state.add_strong(value)
            self.strong_index[value] = state
        else:
            state.weak.add(value)
            self.weak_index.setdefault(value, set()).add(state)

    def _add_ids(self, state, mention):
        known, new_ids = state.strong, state.new_ids
        for value in mention.strong_ids:
            if value not in known:
                state.add_strong(value)
                self.strong_index[value] = state
                new_ids[value] = True
        known = state.weak
        for value in mention.weak_ids:
            if value not in known:
                known.add(value)
                self.weak_index.setdefault(value, set()).add(state)
                # A partial entity may hold this name already: written ON CONFLICT DO NOTHING.
                new_ids[value] = False

    def _new(self, mention, time, props_text=None):
        state = EntityState(mention.kind, mention.label, dict(mention.props), mention.known,
                            time, time, props_text=props_text)
        self.states[id(state)] = state
        return state

    # -- resolving -----------------------------------------------------------

    def resolve(self, mention, time, props_text=None):
        """Assign a mention to an entity; returns its Assignment (final after flush).
        `props_text` is the mention's properties serialised, if the caller has them."""
        if not mention.known or not (mention.strong_ids or mention.weak_ids):
            # Unknown kinds, and processes known only by a bare id: never merged.
            return Assignment(self._new(mention, time, props_text), Match.NEW)
        state, match, on = self._match(mention)
        if state is None:
            state = self._new(mention, time, props_text)
            self._add_ids(state, mention)
            match, on = Match.NEW, (mention.weak_ids[0] if not mention.strong_ids else "")
            self._disambiguate(state, mention)
        else:
            state.absorb(mention.props, mention.label, time, time)
            self._add_ids(state, mention)
        assignment = Assignment(state, match, on)
        if on:
            state.set_name_only(on, True)
            state.pending.setdefault(on, []).append(assignment)
        return assignment

    def _match(self, mention):
        strong, index = set(), self.strong_index
        for value in mention.strong_ids:
            state = index.get(value)
            if state is not None:
                strong.add(self._live(state))
        if strong:
            state = self._merge_all(strong) if len(strong) > 1 else strong.pop()
            return state, Match.STRONG, ""
        named = {}
        for value in mention.weak_ids:
            for state in self.weak_index.get(value, ()):
                named.setdefault(self._live(state), value)
        # A stored entity this batch already saw is known only by the ids that placed it:
        # load the rest only if what is known does not already rule it out.
        unsure = [s.id for s in named if s.partial and not s.contradicts(mention.strong_ids)
                  and mention.strong_ids]
        if unsure:
            self._complete(unsure)
        fitting = [s for s in named if not s.contradicts(mention.strong_ids)]
        if len(fitting) == 1:
            state = fitting[0]
            if mention.strong_ids:
                return state, Match.NAME, ""
            return state, Match.WEAK, named[state]
        if len(fitting) > 1 and not mention.strong_ids:
            # An ambiguous name: join the entity of mentions known by that name alone.
            name_only = [s for s in fitting if not s.strong]
            if len(name_only) == 1:
                return name_only[0], Match.WEAK, named[name_only[0]]
        return None, None, ""

    def _disambiguate(self, new_state, mention):
        """A new entity with strong ids made its names ambiguous: name-only mentions hanging
        on another strong entity by such a name move to the name-only entity."""
        if not mention.strong_ids:
            return
        for value in mention.weak_ids:
            others = {self._live(s) for s in self.weak_index.get(value, ())} - {new_state}
            movable = [s for s in others if s.strong and value in s.name_only]
            if not movable:
                continue
            target = next((s for s in others if not s.strong), None)
            if target is None:
                source = movable[0]
                target = EntityState(source.kind or mention.kind, source.label or value,
                                     {}, True, new_state.first_seen, new_state.last_seen)
                self.states[id(target)] = target
                self._index(target, value, False)
                target.new_ids[value] = False
            for source in movable:
                self.moves.append((source, target, value))
                for assignment in source.pending.pop(value, []):
                    assignment.state = target
                    target.pending.setdefault(value, []).append(assignment)
                source.set_name_only(value, False)
            target.set_name_only(value, True)

    def _live(self, state):
        while state.merged_into is not None:
            state = state.merged_into
        return state

    def _merge_all(self, states):
        """Several entities share the mention's strong ids: they are one entity."""
        states = sorted(states, key=lambda s: (s.id is None, s.id or 0))
        survivor = states[0]
        for other in states[1:]:
            other.merged_into = survivor
            stored = other.id is not None  # its identifier rows move in the database
            for value in other.strong:
                self.strong_index[value] = survivor
                if value not in survivor.strong:
                    survivor.add_strong(value)
                    if not stored or value in other.new_ids:
                        survivor.new_ids[value] = True
            for value in other.weak:
                self.weak_index[value].discard(other)
                self.weak_index[value].add(survivor)
                if value not in survivor.weak:
                    survivor.weak.add(value)
                    if not stored or value in other.new_ids:
                        survivor.new_ids[value] = False
            for value in other.name_only:
                survivor.set_name_only(value, True)
            for value, assignments in other.pending.items():
                survivor.pending.setdefault(value, []).extend(assignments)
            survivor.absorb(other.props, other.label, other.first_seen or survivor.first_seen,
                            other.last_seen or survivor.last_seen)
        return survivor

    # -- writing -------------------------------------------------------------

    def flush(self):
        """Write new entities, identifiers and changes; then every Assignment is final."""
        sub = self.subscription
        live = [s for s in self.states.values() if s.merged_into is None]
        new = [s for s in live if s.id is None]
        stored = [s for s in live if s.id is not None]
        ids = bulk_insert(Entity, ("subscription_id", "kind", "label", "props", "known",
                                   "first_seen", "last_seen"),
                          [(sub.pk, s.kind, s.label[:2000],
                            s.props if s.props_text is None else Json(s.props_text), s.known,
                            s.first_seen, s.last_seen) for s in new])
        for state, pk in zip(new, ids, strict=True):
            state.id = pk
        self._merge_rows()
        touch_entities([s for s in stored if s.touched])
        fields = ("subscription_id", "entity_id", "value", "strong", "name_only")
        # A new entity's identifiers cannot be there yet: plain COPY.
        bulk_insert(EntityIdentifier, fields, [
            (sub.pk, s.id, value, strong, value in s.name_only)
            for s in new for value, strong in s.new_ids.items()], explicit_pk=True)
        rows = [(sub.pk, s.id, value, strong, value in s.name_only)
                for s in stored for value, strong in s.new_ids.items()]
        # A partial entity may hold a name already (unknown to us): keep the row, but a
        # name-only mention hanging on it must still set its flag.
        bulk_insert(EntityIdentifier, fields, [r for r in rows if not r[4]],
                    on_conflict=("entity", "value"))
        bulk_insert(EntityIdentifier, fields, [r for r in rows if r[4]],
                    on_conflict=("entity", "value"), update=("name_only",))
        for state in live:
            for value in state.flag_changes:
                EntityIdentifier.objects.filter(entity_id=state.id, value=value).update(
                    name_only=value in state.name_only)
            state.new_ids, state.flag_changes = {}, set()
        for source, target, value in self.moves:
            AlertEntity.objects.filter(entity_id=self._live(source).id,
                                       matched_on=value).update(entity_id=target.id)
        self.moves = []

    def entity_id(self, assignment):
        return self._live(assignment.state).id

    def _merge_rows(self):
        for state in self.states.values():
            if state.merged_into is None or state.id is None:
                continue
            survivor = self._live(state).id
            # Fold the loser's row into the survivor (its properties fill gaps, its times
            # widen the span), move its identifiers, mentions and rules, then drop it.
            rows = Entity.objects.in_bulk([state.id, survivor])
            loser, kept = rows[state.id], rows[survivor]
            kept.props = {**loser.props, **kept.props}
            kept.label = kept.label or loser.label
            kept.first_seen = min(kept.first_seen, loser.first_seen)
            kept.last_seen = max(kept.last_seen, loser.last_seen)
            kept.save(update_fields=["props", "label", "first_seen", "last_seen"])
            EntityIdentifier.objects.filter(
                entity_id=state.id, value__in=Subquery(
                    EntityIdentifier.objects.filter(entity_id=survivor).values("value"))
            ).delete()
            EntityIdentifier.objects.filter(entity_id=state.id).update(entity_id=survivor)
            AlertEntity.objects.filter(entity_id=state.id).update(entity_id=survivor)
            # A suppression rule scoped to the loser now names the survivor, not nothing.
            SuppressionRule.objects.filter(entity_id=state.id).update(entity_id=survivor)
            Entity.objects.filter(pk=state.id).delete()
            state.id = None


def touch_entities(states):
    """Merge new properties and widen first/last seen of stored entities, in one statement
    on PostgreSQL (existing properties win; rows that would not change are not written)."""
    if not states:
        return
    if connection.vendor != "postgresql":
        stored = Entity.objects.in_bulk([s.id for s in states])
        for s in states:
            row = stored[s.id]
            row.props = {**s.props, **row.props}
            row.label = row.label or s.label
            row.first_seen = min(row.first_seen, s.first_seen)
            row.last_seen = max(row.last_seen, s.last_seen)
        Entity.objects.bulk_update(stored.values(), ["props", "label", "first_seen",
                                                     "last_seen"], batch_size=500)
        return
    # The rows as one JSON parameter (see socconsole.lib.bulk.json_rows).
    sql = """
        UPDATE alerts_entity AS t
        SET props = v.props || t.props,
            label = CASE WHEN t.label = '' THEN v.label ELSE t.label END,
            first_seen = LEAST(t.first_seen, v.first_seen),
            last_seen = GREATEST(t.last_seen, v.last_seen)
        FROM (SELECT (r->>0)::bigint, r->1, r->>2, (r->>3)::timestamptz, (r->>4)::timestamptz
              FROM jsonb_array_elements(%s::jsonb) AS r)
             AS v(id, props, label, first_seen, last_seen)
        WHERE t.id = v.id AND (v.first_seen < t.first_seen OR v.last_seen > t.last_seen
                               OR NOT t.props ?& ARRAY(SELECT jsonb_object_keys(v.props))
                               OR (t.label = '' AND v.label <> ''))
    """
    rows = [(s.id, s.props, s.label[:2000], s.first_seen.isoformat(), s.last_seen.isoformat())
            for s in states]
    with connection.cursor() as cursor:
        cursor.execute(sql, [json.dumps(rows, ensure_ascii=False)])
