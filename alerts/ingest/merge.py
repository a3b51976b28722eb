"""Merging entity mentions into entities (FORMATS.md, "Entity identity").

Two mentions are one entity when they share a strong identifier; or when they
share a weak name, exactly one entity matches, and no strong identifier of one
contradicts the other's (two AzureIDs that differ are two hosts).

The result must not depend on the order in which alerts arrive. Arrival order
matters in one case: a mention known only by its name joins the one entity
with that name, and later a second, contradicting entity with that name
appears. Had they come the other way round, the name would have been
ambiguous and the mention would have stood alone. So when a name becomes
ambiguous, the mentions that joined only by that name move to the entity of
mentions known by that name alone, as if they had arrived last.

The resolver works on a batch: one query loads every entity the batch's
identifiers touch, the batch is resolved in memory, and `flush` writes new
entities and identifiers in bulk. The caller holds the subscription's ingest
lock, so no other batch changes these entities meanwhile.
"""

from __future__ import annotations

from itertools import islice

from alerts.models import AlertEntity, Entity, EntityIdentifier

Match = AlertEntity.Match
CHUNK = 5000


def _chunks(values, size=CHUNK):
    values = list(values)
    it = iter(values)
    while chunk := list(islice(it, size)):
        yield chunk


def _id_type(value):
    """'host|azureid|x' -> 'host|azureid'."""
    kind, _, rest = value.partition("|")
    return f"{kind}|{rest.partition('|')[0]}"


class Assignment:
    """Where one mention of the batch ended up; moves and merges may change it."""

    __slots__ = ("state", "match", "on")

    def __init__(self, state, match, on=""):
        self.state, self.match, self.on = state, match, on


class EntityState:
    __slots__ = ("id", "kind", "label", "props", "known", "strong", "weak", "first_seen",
                 "last_seen", "new_ids", "dirty", "merged_into")

    def __init__(self, kind, label, props, known, first_seen, last_seen, pk=None):
        self.id = pk
        self.kind, self.label, self.props, self.known = kind, label, props, known
        self.strong, self.weak = set(), set()
        self.first_seen, self.last_seen = first_seen, last_seen
        self.new_ids = []          # (value, strong) not yet in the database
        self.dirty = pk is None
        self.merged_into = None

    def contradicts(self, strong_ids):
        mine = {}
        for value in self.strong:
            mine.setdefault(_id_type(value), set()).add(value)
        return any(_id_type(v) in mine and v not in mine[_id_type(v)] for v in strong_ids)

    def absorb(self, props, label, time):
        """Merge a mention's properties and times into the entity."""
        added = {k: v for k, v in props.items() if k not in self.props and v not in (None, "")}
        if added:
            self.props = {**self.props, **added}
            self.dirty = True
        if not self.label and label:
            self.label, self.dirty = label, True
        if time < self.first_seen:
            self.first_seen, self.dirty = time, True
        if time > self.last_seen:
            self.last_seen, self.dirty = time, True


class Resolver:
    """Resolves the mentions of one batch of alerts in one subscription."""

    def __init__(self, subscription, mentions):
        self.subscription = subscription
        self.strong_index = {}     # strong id -> EntityState
        self.weak_index = {}       # weak id -> set of EntityState
        self.states = []           # every state touched, to flush
        self.moves = []            # (from state, to state, weak id): mentions to move
        self.assignments = []      # one per resolved mention of this batch
        values = {v for m in mentions if m.known for v in (*m.strong_ids, *m.weak_ids)}
        self._load(values)

    # -- loading -------------------------------------------------------------

    def _load(self, values):
        entity_ids = set()
        for chunk in _chunks(values):
            entity_ids.update(EntityIdentifier.objects.filter(
                subscription=self.subscription, value__in=chunk).values_list("entity_id",
                                                                             flat=True))
        if not entity_ids:
            return
        by_id = {}
        for chunk in _chunks(entity_ids):
            for e in Entity.objects.filter(pk__in=chunk):
                by_id[e.pk] = EntityState(e.kind, e.label, e.props, e.known, e.first_seen,
                                          e.last_seen, pk=e.pk)
            for entity_id, value, strong in EntityIdentifier.objects.filter(
                    entity_id__in=chunk).values_list("entity_id", "value", "strong"):
                self._index(by_id[entity_id], value, strong)
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
                    state.new_ids.append((value, strong))

    def _new(self, mention, time):
        state = EntityState(mention.kind, mention.label, dict(mention.props), mention.known,
                            time, time)
        self.states.append(state)
        return state

    # -- resolving -----------------------------------------------------------

    def resolve(self, mention, time):
        """Assign a mention to an entity; returns its Assignment (final after flush)."""
        if not mention.known or not (mention.strong_ids or mention.weak_ids):
            # Unknown kinds, and processes known only by a bare id: never merged.
            assignment = Assignment(self._new(mention, time), Match.NEW)
        else:
            state, match, on = self._match(mention)
            if state is None:
                state = self._new(mention, time)
                self._add_ids(state, mention)
                self._disambiguate(state, mention)
                assignment = Assignment(state, Match.NEW)
            else:
                state.absorb(mention.props, mention.label, time)
                self._add_ids(state, mention)
                assignment = Assignment(state, match, on)
        self.assignments.append(assignment)
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
            return state, (Match.NAME if mention.strong_ids else Match.WEAK), named[state]
        if len(fitting) > 1 and not mention.strong_ids:
            # An ambiguous name: join the entity of mentions known by that name alone.
            name_only = [s for s in fitting if not s.strong]
            if len(name_only) == 1:
                return name_only[0], Match.WEAK, named[name_only[0]]
        return None, None, ""

    def _disambiguate(self, new_state, mention):
        """A new entity made its names ambiguous: mentions that joined another entity by
        one of those names alone move to the entity of name-only mentions."""
        if not mention.strong_ids:
            return
        for value in mention.weak_ids:
            others = [self._live(s) for s in self.weak_index.get(value, ())]
            for other in others:
                if other is new_state or not other.strong:
                    continue
                target = next((s for s in others if not s.strong and s is not new_state), None)
                if target is None:
                    target = EntityState(other.kind, other.label, {}, True, other.first_seen,
                                         other.last_seen)
                    self.states.append(target)
                    self._index(target, value, False)
                    target.new_ids.append((value, False))
                    others.append(target)
                self.moves.append((other, target, value))
                for a in self.assignments:
                    if self._live(a.state) is other and a.match == Match.WEAK and a.on == value:
                        a.state = target

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
                    survivor.new_ids.append((value, True))
            for value in other.weak:
                self.weak_index[value].discard(other)
                self.weak_index[value].add(survivor)
                if value not in survivor.weak:
                    survivor.weak.add(value)
                    survivor.new_ids.append((value, False))
            survivor.absorb(other.props, other.label, other.first_seen)
            survivor.absorb({}, "", other.last_seen)
        return survivor

    # -- writing -------------------------------------------------------------

    def flush(self):
        """Write new entities, identifiers and changes; afterwards every live state has an id."""
        sub = self.subscription
        live = [s for s in self.states if s.merged_into is None]
        new = [s for s in live if s.id is None]
        rows = Entity.objects.bulk_create([
            Entity(subscription=sub, kind=s.kind, label=s.label[:2000], props=s.props,
                   known=s.known, first_seen=s.first_seen, last_seen=s.last_seen) for s in new])
        for state, row in zip(new, rows, strict=True):
            state.id, state.dirty = row.pk, False
        changed = [s for s in live if s.dirty]
        if changed:
            Entity.objects.bulk_update(
                [Entity(pk=s.id, label=s.label[:2000], props=s.props, first_seen=s.first_seen,
                        last_seen=s.last_seen) for s in changed],
                ["label", "props", "first_seen", "last_seen"], batch_size=500)
        self._merge_rows()
        EntityIdentifier.objects.bulk_create([
            EntityIdentifier(subscription=sub, entity_id=s.id, value=value, strong=strong)
            for s in live for value, strong in s.new_ids])
        for state in live:
            state.new_ids = []
        self._move_rows()
        for a in self.assignments:
            a.state = self._live(a.state)

    def _merge_rows(self):
        merged = [s for s in self.states if s.merged_into is not None and s.id is not None]
        for state in merged:
            survivor = self._live(state)
            # The survivor's identifiers are re-added by flush; drop the loser's first.
            EntityIdentifier.objects.filter(entity_id=state.id).delete()
            AlertEntity.objects.filter(entity_id=state.id).update(entity_id=survivor.id)
            Entity.objects.filter(pk=state.id).delete()

    def _move_rows(self):
        for source, target, value in self.moves:
            AlertEntity.objects.filter(entity_id=self._live(source).id, matched_by=Match.WEAK,
                                       matched_on=value).update(entity_id=target.id)
        self.moves = []
