"""Relationship paths between advocates and other people in the graph: direct, or
through one go-between (a colleague or an advocate), for matching's reasons."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q

from advocates.graph import neighbour_ids
from advocates.models import Person, Relationship
from references.models import ReferenceRequest

# At most this many 2nd-degree edges are read for one path search.
MAX_SECOND_DEGREE_EDGES = 5000


@dataclass
class GraphPath:
    direct: bool = False
    via: Person | None = None


def brokers_among(person_ids: Iterable[int]) -> dict[int, str]:
    """Of these people, those who can make an introduction (a colleague or an advocate),
    with their kind."""
    return dict(
        Person.objects.filter(
            pk__in=person_ids, kind__in=[Person.Kind.EMPLOYEE, Person.Kind.ADVOCATE]
        ).values_list("id", "kind")
    )


Best = dict[int, tuple[tuple[int, int], int]]


def _prefer(best: Best, target: int, brokers: dict[int, str], broker_id: int) -> None:
    """Keep ``broker_id`` as the go-between to ``target`` if it beats the one kept: a
    deterministic choice, colleagues first, then by id."""
    key = (0 if brokers[broker_id] == Person.Kind.EMPLOYEE else 1, broker_id)
    if target not in best or key < best[target][0]:
        best[target] = (key, broker_id)


def _attach_via(paths: dict[int, GraphPath], best: Best) -> None:
    """Each chosen go-between, as a Person on its path (one query)."""
    if not best:
        return
    people = Person.objects.in_bulk([broker for _key, broker in best.values()])
    for target, (_key, broker_id) in best.items():
        paths.setdefault(target, GraphPath()).via = people[broker_id]


def paths_to_prospect(
    request: ReferenceRequest, advocate_ids: set[int] | None
) -> dict[int, GraphPath]:
    """Relationship paths from advocates to the prospect: direct, or through a colleague
    or an advocate the prospect knows. ``None`` = look at every advocate."""
    prospect = request.prospect_person_id
    if prospect is None:
        return {}
    neighbours = neighbour_ids(prospect)
    if not neighbours:
        return {}
    paths: dict[int, GraphPath] = {}
    for _person_id, advocate_id in Person.objects.filter(
        pk__in=neighbours, advocate__isnull=False
    ).values_list("id", "advocate_id"):
        paths[advocate_id] = GraphPath(direct=True)
    brokers = brokers_among(neighbours)
    if not brokers:
        return paths
    # One query over Relationship: each edge with a broker at one end and an advocate
    # at the other, read through the index on either endpoint.
    edges = (
        Relationship.objects.filter(
            Q(from_person_id__in=brokers, to_person__advocate__isnull=False)
            | Q(to_person_id__in=brokers, from_person__advocate__isnull=False)
        )
        .values_list(
            "from_person_id", "to_person_id", "from_person__advocate_id", "to_person__advocate_id"
        )
        .order_by("id")[:MAX_SECOND_DEGREE_EDGES]
    )
    best: Best = {}
    for from_id, to_id, from_advocate, to_advocate in edges:
        broker_id, advocate_id = (
            (from_id, to_advocate) if from_id in brokers else (to_id, from_advocate)
        )
        if advocate_id is None or (advocate_ids is not None and advocate_id not in advocate_ids):
            continue
        if broker_id == prospect:
            continue
        _prefer(best, advocate_id, brokers, broker_id)
    _attach_via(paths, best)
    return paths


def paths_from_advocate(advocate_id: int) -> dict[int, GraphPath]:
    """Paths from one advocate to everyone within two steps, by Person id: direct, or
    through a colleague or an advocate they know (the mirror of ``paths_to_prospect``)."""
    me = Person.objects.filter(advocate_id=advocate_id).values_list("pk", flat=True).first()
    if me is None:
        return {}
    neighbours = neighbour_ids(me)
    if not neighbours:
        return {}
    paths: dict[int, GraphPath] = {person: GraphPath(direct=True) for person in neighbours}
    brokers = brokers_among(neighbours)
    if not brokers:
        return paths
    edges = (
        Relationship.objects.filter(Q(from_person_id__in=brokers) | Q(to_person_id__in=brokers))
        .values_list("from_person_id", "to_person_id")
        .order_by("id")[:MAX_SECOND_DEGREE_EDGES]
    )
    best: Best = {}
    for from_id, to_id in edges:
        broker_id, other = (from_id, to_id) if from_id in brokers else (to_id, from_id)
        if other == me:
            continue
        _prefer(best, other, brokers, broker_id)
    _attach_via(paths, best)
    return paths
