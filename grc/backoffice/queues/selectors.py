"""The agents' queues: which dossiers each holds, filtered, sorted and paginated by keyset.

Every list starts from grc.demarches.access.dossiers_visible_to_staff (the scoping rule), then
narrows to the person's collectivités and services given as plain ids, so that the planner
can use the dossier indexes. A page costs the same few queries whatever its rows: the rows
with their démarche, citizen, service and agent (one query), the workflows of their versions
for the status labels and colours (one), the open requests for pieces among them (one); and,
with a search, the ids it matches when they are few (one, see _searched).
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce, Least
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grc.base.access import NotFound
from grc.base.calendar import paris_today
from grc.base.models import Membership, Role
from grc.demarches.access import dossiers_visible_to_staff
from grc.demarches.models import DemarcheVersion, Dossier, PieceRequest
from grc.demarches.models.dossiers import DEADLINE_NONE
from grc.demarches.workflow import definition as wf

PAGE_SIZE = 50
DEADLINE_SOON_DAYS = 7  # "Échéance proche": due within a week (or past)
COUNT_CAP = 999  # the home page counts up to this, then says "999+"
SEARCH_PREFETCH = 2000  # matches read by id before sorting (see _searched)


@dataclass(frozen=True)
class Queue:
    slug: str
    label: str
    description: str
    managers_only: bool = False


QUEUES: tuple[Queue, ...] = (
    Queue("a-traiter", _("À traiter"), _("Les dossiers ouverts qui vous sont attribués.")),
    Queue("mes-services", _("Mes services"), _("Les dossiers ouverts de vos services.")),
    Queue("non-attribues", _("Non attribués"), _("Les dossiers ouverts sans agent attribué.")),
    Queue(
        "attente-usager",
        _("En attente de l'usager"),
        _("Les dossiers dont des pièces manquantes sont demandées à l'usager."),
    ),
    Queue(
        "echeance",
        _("Échéance proche ou dépassée"),
        _(
            "Les dossiers ouverts dont la décision ou le prochain délai tombe dans %(n)d jours "
            "au plus, ou est passé."
        )
        % {"n": DEADLINE_SOON_DAYS},
    ),
    Queue(
        "tous",
        _("Tous"),
        _("Tous les dossiers que vous pouvez consulter, ouverts et clos."),
        managers_only=True,
    ),
)
DEFAULT_QUEUE = QUEUES[0].slug


@dataclass(frozen=True)
class Scope:
    """Where a member of staff works, read once per request (one query)."""

    user: Any
    collectivite_ids: frozenset[int]  # every collectivité where they have a role
    administered_ids: frozenset[int]  # collectivités they administer (all their dossiers)
    service_ids: frozenset[int]  # services where they are agent or manager
    manages: bool  # manager or admin somewhere: the "Tous" queue


def staff_scope(user) -> Scope:
    """The person's roles; NotFound for anyone without a staff role in an active collectivité
    (platform admins included: dossiers are the collectivités' data)."""
    if not (user and user.is_authenticated and user.is_active):
        raise NotFound
    rows = list(
        Membership.objects.filter(user=user, collectivite__is_active=True).values_list(
            "collectivite_id", "role", "service_id"
        )
    )
    if not rows:
        raise NotFound
    return Scope(
        user=user,
        collectivite_ids=frozenset(c for c, _r, _s in rows),
        administered_ids=frozenset(c for c, r, _s in rows if r == Role.ADMIN),
        service_ids=frozenset(
            s for _c, r, s in rows if s is not None and r in (Role.AGENT, Role.MANAGER)
        ),
        manages=any(r in (Role.ADMIN, Role.MANAGER) for _c, r, _s in rows),
    )


def queues_for(scope: Scope) -> list[Queue]:
    return [q for q in QUEUES if scope.manages or not q.managers_only]


def queue_by_slug(scope: Scope, slug: str) -> Queue:
    for queue in queues_for(scope):
        if queue.slug == slug:
            return queue
    raise NotFound


def deadline_expression():
    """The nearest of the legal decision date and the status's next timer."""
    return Least("expected_decision_date", "timer_due_on")


def sort_deadline_expression():
    # The very expression of the index dossier_deadline_idx.
    return Coalesce(Least("expected_decision_date", "timer_due_on"), DEADLINE_NONE)


def visible(scope: Scope) -> QuerySet[Dossier]:
    narrow = Q(collectivite_id__in=sorted(scope.administered_ids)) | Q(
        service_id__in=sorted(scope.service_ids)
    )
    return dossiers_visible_to_staff(scope.user).filter(narrow)


def queue_dossiers(scope: Scope, queue: Queue, *, today: datetime.date | None = None):
    """The dossiers of one queue, before filters."""
    today = today or paris_today()
    dossiers = visible(scope)
    is_open = Q(closed_at__isnull=True)
    if queue.slug == "a-traiter":
        return dossiers.filter(is_open, assignee=scope.user)
    if queue.slug == "mes-services":
        return dossiers.filter(is_open, service_id__in=sorted(scope.service_ids))
    if queue.slug == "non-attribues":
        return dossiers.filter(is_open, assignee__isnull=True)
    if queue.slug == "attente-usager":
        return dossiers.filter(is_open, Exists(_open_piece_request()))
    if queue.slug == "echeance":
        soon = today + datetime.timedelta(days=DEADLINE_SOON_DAYS)
        return dossiers.filter(is_open).filter(
            Q(expected_decision_date__lte=soon) | Q(timer_due_on__lte=soon)
        )
    if queue.slug == "tous":
        return dossiers
    raise NotFound


def _open_piece_request():
    return PieceRequest.objects.filter(dossier=OuterRef("pk"), status=PieceRequest.Status.OPEN)


def queue_counts(scope: Scope) -> list[dict[str, Any]]:
    """Each queue with how many dossiers it holds, counted up to COUNT_CAP (a bounded query per
    queue, however large the collectivité)."""
    rows = []
    for queue in queues_for(scope):
        count = queue_dossiers(scope, queue).values("pk")[: COUNT_CAP + 1].count()
        rows.append({"queue": queue, "count": min(count, COUNT_CAP), "more": count > COUNT_CAP})
    return rows


# --- Filters -------------------------------------------------------------------------------


@dataclass
class Filters:
    """What the filter form kept (invalid fields are left out)."""

    demarche: int | None = None
    status: str = ""
    channel: str = ""
    service: int | None = None
    assignee: str = ""  # a user id, or "aucun"
    received_from: datetime.date | None = None
    received_to: datetime.date | None = None
    deadline: str = ""  # "depassee", "proche", "aucune"
    tag: str = ""
    q: str = ""


def apply_filters(
    dossiers: QuerySet[Dossier], filters: Filters, *, today: datetime.date | None = None
) -> QuerySet[Dossier]:
    from grc.demarches.search import search_filter

    today = today or paris_today()
    if filters.demarche:
        dossiers = dossiers.filter(demarche_id=filters.demarche)
    if filters.status:
        dossiers = dossiers.filter(status=filters.status)
    if filters.channel:
        dossiers = dossiers.filter(channel=filters.channel)
    if filters.service:
        dossiers = dossiers.filter(service_id=filters.service)
    if filters.assignee == "aucun":
        dossiers = dossiers.filter(assignee__isnull=True)
    elif filters.assignee:
        dossiers = dossiers.filter(assignee_id=int(filters.assignee))
    if filters.received_from:
        dossiers = dossiers.filter(received_at__gte=_start_of(filters.received_from))
    if filters.received_to:
        next_day = filters.received_to + datetime.timedelta(days=1)
        dossiers = dossiers.filter(received_at__lt=_start_of(next_day))
    if filters.deadline:
        deadline = deadline_expression()
        dossiers = dossiers.alias(deadline=deadline)
        if filters.deadline == "depassee":
            dossiers = dossiers.filter(closed_at__isnull=True, deadline__lt=today)
        elif filters.deadline == "proche":
            soon = today + datetime.timedelta(days=DEADLINE_SOON_DAYS)
            dossiers = dossiers.filter(
                closed_at__isnull=True, deadline__gte=today, deadline__lte=soon
            )
        elif filters.deadline == "aucune":
            dossiers = dossiers.filter(deadline__isnull=True)
    if filters.tag:
        dossiers = dossiers.filter(tags__contains=[filters.tag])
    if filters.q:
        condition = search_filter(filters.q)
        if condition is not None:
            dossiers = _searched(dossiers.filter(condition))
    return dossiers


def _searched(dossiers: QuerySet[Dossier]) -> QuerySet[Dossier]:
    """A search that finds few dossiers (a name, a reference, a phone) is read through its
    indexes first, then sorted: otherwise the planner, which cannot tell a rare match from a
    common one, may walk the whole received-date index looking for the page's 50. A search
    that finds many (a common word) keeps the plain plan, where walking the index in order
    meets them soon."""
    ids = list(dossiers.order_by().values_list("pk", flat=True)[: SEARCH_PREFETCH + 1])
    if len(ids) > SEARCH_PREFETCH:
        return dossiers
    return dossiers.filter(pk__in=ids)


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# --- Sorting and keyset pagination ---------------------------------------------------------


@dataclass(frozen=True)
class Sort:
    slug: str
    label: str
    key: str  # the annotation or field compared by the cursor
    descending: bool


SORTS: tuple[Sort, ...] = (
    Sort("recus-recents", _("Reçus le plus récemment d'abord"), "received_at", True),
    Sort("recus-anciens", _("Reçus le plus anciennement d'abord"), "received_at", False),
    Sort("echeance", _("Échéance la plus proche d'abord"), "sort_deadline", False),
)
DEFAULT_SORT = SORTS[0].slug


def sort_by_slug(slug: str) -> Sort:
    return next((s for s in SORTS if s.slug == slug), SORTS[0])


class BadCursor(ValueError):
    """A cursor that was not made by this page (edited, truncated, for another sort)."""


@dataclass(frozen=True)
class Cursor:
    sort: str
    key: datetime.datetime | datetime.date
    id: int

    def encode(self) -> str:
        raw = json.dumps([self.sort, self.key.isoformat(), self.id], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, sort: Sort) -> Cursor:
        try:
            padded = token + "=" * (-len(token) % 4)
            sort_slug, key, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
            if sort_slug != sort.slug or not isinstance(pk, int) or isinstance(pk, bool):
                raise BadCursor
            if sort.key == "received_at":
                value = datetime.datetime.fromisoformat(key)
                if timezone.is_naive(value):
                    raise BadCursor
            else:
                value = datetime.date.fromisoformat(key)
        except (BadCursor, binascii.Error, UnicodeError, ValueError, TypeError, AttributeError):
            raise BadCursor from None
        if not 0 < pk < 2**63:
            raise BadCursor
        return cls(sort=sort.slug, key=value, id=pk)


@dataclass
class Page:
    rows: list[dict[str, Any]]
    next_cursor: str = ""
    previous_cursor: str = ""
    problems: list[str] = field(default_factory=list)


def paginate(
    dossiers: QuerySet[Dossier],
    sort: Sort,
    *,
    after: str = "",
    before: str = "",
    size: int | None = None,
) -> Page:
    """One page of the list, after (or before) a cursor. A cursor that does not parse, or
    that points past the end, gives the first page and says so."""
    size = size or PAGE_SIZE
    dossiers = dossiers.annotate(
        sort_deadline=sort_deadline_expression(), deadline=deadline_expression()
    )
    problems: list[str] = []
    token, backwards = (before, True) if before and not after else (after, False)
    cursor = None
    if token:
        try:
            cursor = Cursor.decode(token, sort)
        except BadCursor:
            problems.append(
                str(_("Cette page n'existe pas (lien incomplet ou modifié) : voici la première."))
            )
    if cursor is not None:
        rows = _fetch(dossiers, sort, cursor=cursor, backwards=backwards, size=size)
        if rows:
            if backwards:
                has_more = len(rows) > size
                rows = rows[:size][::-1]
                return _page(rows, sort, has_previous=has_more, has_next=True, problems=problems)
            has_more = len(rows) > size
            return _page(rows[:size], sort, has_previous=True, has_next=has_more, problems=problems)
        problems.append(
            str(
                _("Il n'y a pas de dossier sur cette page (la liste a changé) : voici la première.")
            )
        )
    rows = _fetch(dossiers, sort, cursor=None, backwards=False, size=size)
    return _page(
        rows[:size], sort, has_previous=False, has_next=len(rows) > size, problems=problems
    )


def _fetch(dossiers, sort: Sort, *, cursor: Cursor | None, backwards: bool, size: int) -> list:
    descending = sort.descending != backwards
    if cursor is not None:
        # (key, id) beyond the cursor; the redundant bound on the key alone lets an index scan
        # start at the cursor instead of filtering everything before it.
        op = "lt" if descending else "gt"
        bound = "lte" if descending else "gte"
        dossiers = dossiers.filter(
            Q(**{f"{sort.key}__{op}": cursor.key})
            | Q(**{sort.key: cursor.key, f"id__{op}": cursor.id}),
            **{f"{sort.key}__{bound}": cursor.key},
        )
    prefix = "-" if descending else ""
    ordered = dossiers.order_by(f"{prefix}{sort.key}", f"{prefix}id")
    return list(_with_columns(ordered)[: size + 1])


def _with_columns(dossiers: QuerySet[Dossier]) -> QuerySet[Dossier]:
    return dossiers.select_related("demarche", "service", "assignee", "usager").only(
        "id",
        "reference",
        "channel",
        "status",
        "version_id",
        "received_at",
        "expected_decision_date",
        "timer_due_on",
        "closed_at",
        "tags",
        "contact_email",
        "demarche__title",
        "service__name",
        "assignee__first_name",
        "assignee__last_name",
        "assignee__email",
        "usager__first_name",
        "usager__last_name",
        "usager__email",
        "usager__phones",
    )


def _page(rows: list, sort: Sort, *, has_previous: bool, has_next: bool, problems) -> Page:
    page = Page(rows=describe(rows), problems=problems)
    if rows and has_next:
        page.next_cursor = _cursor_of(rows[-1], sort).encode()
    if rows and has_previous:
        page.previous_cursor = _cursor_of(rows[0], sort).encode()
    return page


def _cursor_of(dossier: Dossier, sort: Sort) -> Cursor:
    return Cursor(sort=sort.slug, key=getattr(dossier, sort.key), id=dossier.pk)


def describe(dossiers: list[Dossier], *, today: datetime.date | None = None) -> list[dict]:
    """What the table shows of each dossier: its status's label and colour from its version's
    workflow, whether pieces are awaited (a query each for the whole page)."""
    today = today or paris_today()
    workflows, waiting = {}, set()
    if dossiers:
        workflows = dict(
            DemarcheVersion.objects.filter(pk__in={d.version_id for d in dossiers}).values_list(
                "pk", "workflow"
            )
        )
        # Asked for the page's rows only: as a column of the list's query, PostgreSQL may hash
        # every open request of the database first.
        waiting = set(
            PieceRequest.objects.filter(
                dossier_id__in=[d.pk for d in dossiers], status=PieceRequest.Status.OPEN
            ).values_list("dossier_id", flat=True)
        )
    rows = []
    for dossier in dossiers:
        status = wf.status(workflows.get(dossier.version_id) or {}, dossier.status) or {}
        deadline = dossier.deadline
        rows.append(
            {
                "dossier": dossier,
                "status_label": status.get("label") or dossier.status,
                "status_colour": status.get("colour") or "#6b6b6b",
                "deadline": deadline,
                "late": bool(deadline and dossier.closed_at is None and deadline < today),
                "citizen": _citizen_name(dossier),
                "waiting_citizen": dossier.pk in waiting,
            }
        )
    return rows


def _citizen_name(dossier: Dossier) -> str:
    usager = dossier.usager
    if usager is None:
        return dossier.contact_email
    name = f"{usager.first_name} {usager.last_name}".strip()
    return (
        name or usager.email or dossier.contact_email or (usager.phones[0] if usager.phones else "")
    )


# --- Filter choices ------------------------------------------------------------------------


def filter_choices(scope: Scope) -> dict[str, list[tuple[str, str]]]:
    """The options of the filter form, for the person's collectivités (four queries)."""
    from grc.base.models import Service, User
    from grc.demarches.models import Demarche

    collectivites = sorted(scope.collectivite_ids)
    demarches = list(
        Demarche.objects.filter(collectivite_id__in=collectivites)
        .order_by("title", "id")
        .values_list("pk", "title")
    )
    statuses: dict[str, str] = {}
    workflows = DemarcheVersion.objects.filter(
        demarche__collectivite_id__in=collectivites,
        status__in=(DemarcheVersion.Status.PUBLISHED, DemarcheVersion.Status.ARCHIVED),
    ).values_list("workflow", flat=True)
    for workflow in workflows:
        for status in wf.statuses(workflow):
            key = status.get("key")
            if isinstance(key, str) and key and key not in statuses:
                statuses[key] = str(status.get("label") or key)
    services = list(
        Service.objects.filter(collectivite_id__in=collectivites)
        .order_by("name", "id")
        .values_list("pk", "name")
    )
    staff = (
        User.objects.filter(
            memberships__collectivite_id__in=collectivites,
            memberships__collectivite__is_active=True,
            is_active=True,
        )
        .distinct()
        .order_by("last_name", "first_name", "email")
    )
    assignees = [
        (str(u.pk), u.get_full_name() or u.email)
        for u in staff.only("first_name", "last_name", "email")
    ]
    return {
        "demarche": [(str(pk), title) for pk, title in demarches],
        "status": sorted(statuses.items(), key=lambda item: item[1].lower()),
        "service": [(str(pk), name) for pk, name in services],
        "assignee": assignees,
    }
