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

The resolver works on a batch: a few queries load every entity the batch's
identifiers touch, the batch is resolved in memory, and `flush` writes new
entities and identifiers in bulk. The caller holds the subscription's ingest
lock, so no other batch changes these entities meanwhile.
"""

from __future__ import annotations

from alerts.models import AlertEntity, Entity, EntityIdentifier
from socconsole.lib.bulk import bulk_insert, bulk_update

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
    __slots__ = ("id", "kind", "label", "props", "known", "strong", "weak", "name_only",
                 "first_seen", "last_seen", "new_ids", "flag_changes", "pending", "dirty",
                 "merged_into")

    def __init__(self, kind, label, props, known, first_seen, last_seen, pk=None):
        self.id = pk
        self.kind, self.label, self.props, self.known = kind, label, props, known
        self.strong, self.weak, self.name_only = set(), set(), set()
        self.first_seen, self.last_seen = first_seen, last_seen
        self.new_ids = {}          # value -> strong, not yet in the database
        self.flag_changes = set()  # weak values whose name_only flag changed
        self.pending = {}          # weak value -> this batch's name-only Assignments
        self.dirty = pk is None
        self.merged_into = None

    def contradicts(self, strong_ids):
        if not self.strong or not strong_ids:
            return False
        mine = {}
        for value in self.strong:
            mine.setdefault(_id_type(value), set()).add(value)
        return any(v not in mine.get(_id_type(v), (v,)) for v in strong_ids)

    def absorb(self, props, label, first, last):
        """Merge properties and times into the entity."""
        added = {k: v for k, v in props.items() if k not in self.props and v not in (None, "")}
        if added:
            self.props = {**self.props, **added}
            self.dirty = True
        if not self.label and label:
            self.label, self.dirty = label, True
        if first < self.first_seen:
            self.first_seen, self.dirty = first, True
        if last > self.last_seen:
            self.last_seen, self.dirty = last, True

    def set_name_only(self, value, on):
        if (value in self.name_only) != on:
            (self.name_only.add if on else self.name_only.discard)(value)
            if value not in self.new_ids:
                self.flag_changes.symmetric_difference_update({value})


class Resolver:
    """Resolves the mentions of one batch of alerts in one subscription."""

    def __init__(self, subscription, mentions):
        self.subscription = subscription
        self.strong_index = {}     # strong id -> EntityState
        self.weak_index = {}       # weak id -> set of EntityState
        self.states = []           # every state touched, to flush
        self.moves = []            # (from state, to state, weak id) for stored mentions
        self.loaded = {}           # entity id -> EntityState
        mentions = [m for m in mentions if m.known]
        # Names are shared by many entities (one file name on every host): load by name
        # only for the mentions no strong identifier already places.
        self._load({v for m in mentions for v in m.strong_ids})
        self._load({v for m in mentions if not any(s in self.strong_index for s in m.strong_ids)
                    for v in m.weak_ids})

    # -- loading -------------------------------------------------------------

    def _load(self, values):
        entity_ids = set()
        for chunk in _chunks(values):
            entity_ids.update(EntityIdentifier.objects.filter(
                subscription=self.subscription, value__in=chunk
            ).values_list("entity_id", flat=True))
        entity_ids -= self.loaded.keys()
        by_id = {}
        for chunk in _chunks(entity_ids):
            for pk, kind, label, props, known, first, last in Entity.objects.filter(
                    pk__in=chunk).values_list("pk", "kind", "label", "props", "known",
                                              "first_seen", "last_seen"):
                by_id[pk] = EntityState(kind, label, props, known, first, last, pk=pk)
            for entity_id, value, strong, name_only in EntityIdentifier.objects.filter(
                    entity_id__in=chunk).values_list("entity_id", "value", "strong",
                                                     "name_only"):
                state = by_id[entity_id]
                self._index(state, value, strong)
                if name_only:
                    state.name_only.add(value)
        self.loaded.update(by_id)
        self.states.extend(by_id.values())

    def _index(self, state, value, strong):
        if strong:
            state.strong.add(value)
            self.strong_index[value] = state
        else:
            state.weak.add(value)
            self.weak_index.setdefault(value, set()).add(state)

    def _add_ids(self, state, mention):
        for values, strong in ((mention.strong_ids, True), (mention.weak_ids, False)):
            for value in values:
                if value not in (state.strong if strong else state.weak):
                    self._index(state, value, strong)
                    state.new_ids[value] = strong

    def _new(self, kind, label, props, known, first, last):
        state = EntityState(kind, label, props, known, first, last)
        self.states.append(state)
        return state

    # -- resolving -----------------------------------------------------------

    def resolve(self, mention, time):
        """Assign a mention to an entity; returns its Assignment (final after flush)."""
        if not mention.known or not (mention.strong_ids or mention.weak_ids):
            # Unknown kinds, and processes known only by a bare id: never merged.
            state = self._new(mention.kind, mention.label, dict(mention.props), mention.known,
                              time, time)
            return Assignment(state, Match.NEW)
        state, match, on = self._match(mention)
        if state is None:
            state = self._new(mention.kind, mention.label, dict(mention.props), True, time,
                              time)
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
        strong = {self._live(self.strong_index[v]) for v in mention.strong_ids
                  if v in self.strong_index}
        if strong:
            return self._merge_all(strong), Match.STRONG, ""
        named = {}
        for value in mention.weak_ids:
            for state in self.weak_index.get(value, ()):
                named.setdefault(self._live(state), value)
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
                target = self._new(source.kind, source.label, {}, True, source.first_seen,
                                   source.last_seen)
                self._index(target, value, False)
                target.new_ids[value] = False
            for source in movable:
                self.moves.append((source, target, value))
                for assignment in source.pending.pop(value, []):
                    assignment.state = target
                    target.pending.setdefault(value, []).append(assignment)
                source.set_name_only(value, False)
                target.absorb({}, "", source.first_seen, source.last_seen)
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
            for value in other.strong:
                self.strong_index[value] = survivor
                if value not in survivor.strong:
                    survivor.strong.add(value)
                    survivor.new_ids[value] = True
            for value in other.weak:
                self.weak_index[value].discard(other)
                self.weak_index[value].add(survivor)
                if value not in survivor.weak:
                    survivor.weak.add(value)
                    survivor.new_ids[value] = False
            for value in other.name_only:
                survivor.set_name_only(value, True)
            for value, assignments in other.pending.items():
                survivor.pending.setdefault(value, []).extend(assignments)
            survivor.absorb(other.props, other.label, other.first_seen, other.last_seen)
        return survivor

    # -- writing -------------------------------------------------------------

    def flush(self):
        """Write new entities, identifiers and changes; then every Assignment is final."""
        sub = self.subscription
        live = [s for s in self.states if s.merged_into is None]
        new = [s for s in live if s.id is None]
        ids = bulk_insert(Entity, ("subscription_id", "kind", "label", "props", "known",
                                   "first_seen", "last_seen"),
                          [(sub.pk, s.kind, s.label[:2000], s.props, s.known, s.first_seen,
                            s.last_seen) for s in new])
        for state, pk in zip(new, ids, strict=True):
            state.id, state.dirty = pk, False
        bulk_update(Entity, ("label", "props", "first_seen", "last_seen"),
                    [(s.id, s.label[:2000], s.props, s.first_seen, s.last_seen)
                     for s in live if s.dirty])
        self._merge_rows()
        bulk_insert(EntityIdentifier, ("subscription_id", "entity_id", "value", "strong",
                                       "name_only"),
                    [(sub.pk, s.id, value, strong, value in s.name_only)
                     for s in live for value, strong in s.new_ids.items()])
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
        for state in self.states:
            if state.merged_into is None or state.id is None:
                continue
            survivor = self._live(state)
            # The loser's identifiers are re-added to the survivor by flush.
            EntityIdentifier.objects.filter(entity_id=state.id).delete()
            AlertEntity.objects.filter(entity_id=state.id).update(entity_id=survivor.id)
            Entity.objects.filter(pk=state.id).delete()
            state.id = None
