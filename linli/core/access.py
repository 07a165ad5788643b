"""The access kernel: who acts, which roles exist, what each role may do where, and the one
way every read and write is scoped by the place tree.

- **Actors.** An actor is a signed-in account, an anonymous visitor, or ``SYSTEM`` (the
  command line, the worker, the demo loader). Only ``SYSTEM`` bypasses scope; ``None`` is not
  an actor.
- **Roles and capabilities.** ``Role`` lists the roles a person holds at a place (through a
  membership). Each app declares its own capabilities and which roles hold them
  (``declare_capabilities`` from its ``AppConfig.ready``); the kernel knows none by name.
- **Grants.** The people app registers where an account's roles come from
  (``register_grant_source``); the kernel computes an actor's ``Scope`` once per request.
- **Scope.** ``Scope.allows(capability, path)`` answers for one place; a place-scoped
  queryset's ``visible(actor, capability)`` keeps the rows under the subtrees where a role
  grants the capability (NetBox's ``restrict(user, action)``), plus what a model or an app adds (``register_extra_paths``: a
  carer's own households; a model's ``visible_also``: a liaison's dispatches).
- **Access.** ``get_or_404`` fetches an object named by user input through a scoped queryset
  and answers 404 for anything else, so nothing outside the scope confirms it exists.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self, TypeAlias, TypeVar

import rules
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.base_user import AbstractBaseUser
    from django.contrib.auth.models import AnonymousUser

#: django-rules ships without type hints
_rules: Any = rules

# --- actors --------------------------------------------------------------------------------------


class SystemActor:
    """The system itself: commands, the worker, the demo loader. It holds every capability
    everywhere, and it is the only actor that does."""

    # not an account: nothing is recorded as done by it (``user_of``), and it passes no
    # check meant for signed-in people
    is_authenticated = False
    is_anonymous = False
    is_superuser = False
    is_staff = False
    pk = None

    def __repr__(self) -> str:
        return "SYSTEM"

    def __str__(self) -> str:
        return "system"


SYSTEM = SystemActor()

#: Who acts: a signed-in account (``accounts.User``, seen here through Django's base class so
#: that the kernel knows no app above it), an anonymous visitor, or ``SYSTEM``. ``SYSTEM`` is
#: the only one that bypasses scope.
Actor: TypeAlias = "AbstractBaseUser | AnonymousUser | SystemActor"


def is_system(actor: object) -> bool:
    return actor is SYSTEM


def account_id(actor: object) -> int | None:
    """The primary key of the signed-in account behind an actor; ``None`` for the system and
    anonymous visitors (never filter on it without checking: ``user_id=None`` matches rows
    that have no account)."""
    if actor is SYSTEM or actor is None or not getattr(actor, "is_authenticated", False):
        return None
    pk = getattr(actor, "pk", None)
    return pk if isinstance(pk, int) else None


def user_of(actor: object) -> Any:
    """The account behind an actor, or ``None`` for the system and anonymous visitors (for
    the ``actor`` and ``recorded_by`` columns)."""
    if actor is SYSTEM or actor is None or not getattr(actor, "is_authenticated", False):
        return None
    return actor


def actor_name(actor: object) -> str:
    """How an actor is named in the audit trail and on timelines, at the time it acted."""
    if actor is SYSTEM:
        return "system"
    account = user_of(actor)
    return str(account) if account is not None else "anonymous"


# --- roles ---------------------------------------------------------------------------------------


class Role(models.TextChoices):
    RESIDENT = "resident", _("居民")
    BUILDING_LEADER = "building_leader", _("楼栋长")
    CENTRAL_HOUSEHOLD = "central_household", _("党员中心户")
    VOLUNTEER = "volunteer", _("志愿者")
    GRID_WORKER = "grid_worker", _("网格员")
    MEDIATOR = "mediator", _("调解员")
    LIAISON = "department_liaison", _("部门联络人")
    COMMUNITY_STAFF = "community_staff", _("社区工作人员")
    SECRETARY = "secretary", _("社区书记")
    STREET_OFFICIAL = "street_official", _("街道干部")
    DISTRICT_OFFICIAL = "district_official", _("区级干部")
    ADMIN = "system_admin", _("系统管理员")


R = Role

#: A granter may only grant roles ranked below its own (an admin may grant any).
RANK: dict[str, int] = {
    R.RESIDENT: 0,
    R.VOLUNTEER: 1,
    R.BUILDING_LEADER: 1,
    R.CENTRAL_HOUSEHOLD: 1,
    R.MEDIATOR: 2,
    R.GRID_WORKER: 2,
    R.LIAISON: 2,
    R.COMMUNITY_STAFF: 3,
    R.SECRETARY: 4,
    R.STREET_OFFICIAL: 5,
    R.DISTRICT_OFFICIAL: 6,
    R.ADMIN: 9,
}

#: Roles that must sign in with a password and a TOTP second factor.
STAFF_ROLES: frozenset[str] = frozenset(
    {
        R.GRID_WORKER,
        R.MEDIATOR,
        R.LIAISON,
        R.COMMUNITY_STAFF,
        R.SECRETARY,
        R.STREET_OFFICIAL,
        R.DISTRICT_OFFICIAL,
        R.ADMIN,
    }
)

#: Roles that see other households' data without being staff (carers, 包保): they sign in with
#: something they hold, an SMS code to their phone (or a TOTP code), never a password alone.
POSSESSION_ROLES: frozenset[str] = frozenset({R.BUILDING_LEADER, R.CENTRAL_HOUSEHOLD})


# --- capabilities --------------------------------------------------------------------------------

#: What each role may do inside the subtree of the place it holds the role at, as the apps
#: declared it. The system admin holds every capability.
CAPABILITIES: dict[str, set[str]] = defaultdict(set)
_LABELS: dict[str, str] = {}


def declare_capabilities(capabilities: type[models.TextChoices], grants: Mapping[Any, Iterable[Any]]) -> None:
    """An app's capabilities (a ``TextChoices`` of them, with their labels) and the roles
    that hold each. Called from the app's ``AppConfig.ready``; declaring twice is harmless."""
    for capability in capabilities:
        _LABELS[capability.value] = str(capability.label)
        if not _rules.perm_exists(f"linli.{capability.value}"):
            _rules.add_perm(f"linli.{capability.value}", _predicate(capability.value))
        CAPABILITIES[Role.ADMIN].add(capability.value)
    for role, held in grants.items():
        if role not in Role.values:
            raise ValueError(f"unknown role {role!r}")
        CAPABILITIES[role].update(str(c) for c in held)


def capability_label(capability: str) -> str:
    return _LABELS.get(capability, capability)


def capabilities_of(role: str) -> set[str]:
    return CAPABILITIES.get(role, set())


def roles_for(capability: str) -> set[str]:
    return {role for role, held in CAPABILITIES.items() if capability in held}


# --- grants and scope ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """A role held at a place (its path), for one department if the role is a liaison's."""

    role: str
    path: str
    place_id: int
    department_id: int | None


#: Where an account's grants come from: ``(person id, grants)``, registered by the people app.
GrantSource = Callable[["Actor"], tuple[int | None, list[Grant]]]
_GRANT_SOURCES: list[GrantSource] = []
#: Extra path prefixes where an actor may use a capability beyond its roles (a carer's own
#: households for ``view_sensitive``), registered by the app that knows them.
_EXTRA_PATHS: dict[str, list[Callable[[Actor], Iterable[str]]]] = defaultdict(list)


def register_grant_source(source: GrantSource) -> None:
    if source not in _GRANT_SOURCES:
        _GRANT_SOURCES.append(source)


def register_extra_paths(capability: str, provider: Callable[[Actor], Iterable[str]]) -> None:
    if provider not in _EXTRA_PATHS[capability]:
        _EXTRA_PATHS[capability].append(provider)


@dataclass
class Scope:
    """The roles an actor holds and where. ``everything`` is true for the system and for
    system admins."""

    user_id: int | None
    person_id: int | None = None
    grants: list[Grant] = field(default_factory=list)
    everything: bool = False
    actor: Actor | None = None
    _extra: dict[str, list[str]] = field(default_factory=dict)

    def paths(self, capability: str) -> list[str]:
        """Minimal list of path prefixes where ``capability`` is allowed (extra paths too)."""
        found = sorted({g.path for g in self.grants if capability in CAPABILITIES.get(g.role, set())})
        found = sorted({*found, *self.extra_paths(capability)})
        minimal: list[str] = []
        for path in found:
            if not any(path.startswith(p) for p in minimal):
                minimal.append(path)
        return minimal

    def extra_paths(self, capability: str) -> list[str]:
        providers = _EXTRA_PATHS.get(capability)
        if not providers or self.user_id is None or self.actor is None:
            return []
        if capability not in self._extra:
            self._extra[capability] = sorted({p for provide in providers for p in provide(self.actor)})
        return self._extra[capability]

    def allows(self, capability: str, path: str) -> bool:
        return self.everything or any(path.startswith(p) for p in self.paths(capability))

    def holds_anywhere(self, capability: str) -> bool:
        return self.everything or bool(self.paths(capability))

    def reaches(self, capability: str, path: str) -> bool:
        """Whether the capability holds at ``path`` or at some part of it (a grid worker's grid
        of a community whose list it exports)."""
        return self.allows(capability, path) or any(p.startswith(path) for p in self.paths(capability))

    def roots(self, capability: str) -> list[str] | None:
        """The paths where the capability is rooted (the highest places an actor may start
        from); ``None`` for everything (start from the cities)."""
        return None if self.everything else self.paths(capability)

    def roles(self) -> set[str]:
        return {g.role for g in self.grants}

    def rank_at(self, path: str) -> int:
        """The highest rank the actor holds at ``path`` or an ancestor of it."""
        if self.everything:
            return RANK[Role.ADMIN]
        ranks = [RANK[g.role] for g in self.grants if path.startswith(g.path)]
        return max(ranks, default=-1)

    def capabilities_at(self, path: str) -> set[str]:
        """Every capability the actor holds at ``path`` through its roles."""
        held: set[str] = set()
        for grant in self.grants:
            if path.startswith(grant.path):
                held |= CAPABILITIES.get(grant.role, set())
        return held

    @property
    def is_staff_role(self) -> bool:
        return self.everything or bool(self.roles() & STAFF_ROLES)


_CACHE_ATTR = "_linli_scope"
_SYSTEM_SCOPE = Scope(user_id=None, everything=True)


def scope_for(actor: Actor) -> Scope:
    """The actor's scope: everything for ``SYSTEM``, nothing for an anonymous visitor, else
    computed from its grants with one query and cached on the account for the request."""
    if actor is SYSTEM:
        return _SYSTEM_SCOPE
    if actor is None:
        raise TypeError("an actor is required: an account, an anonymous visitor, or SYSTEM")
    if not getattr(actor, "is_authenticated", False):
        return Scope(user_id=None)
    cached = getattr(actor, _CACHE_ATTR, None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    person_id: int | None = None
    grants: list[Grant] = []
    for source in _GRANT_SOURCES:
        found_person, found_grants = source(actor)
        person_id = person_id or found_person
        grants.extend(found_grants)
    scope = Scope(
        user_id=actor.pk,
        person_id=person_id,
        grants=grants,
        everything=bool(getattr(actor, "is_superuser", False)) or any(g.role == Role.ADMIN for g in grants),
        actor=actor,
    )
    setattr(actor, _CACHE_ATTR, scope)
    return scope


def forget_scope(actor: Actor) -> None:
    if actor is not None and actor is not SYSTEM and hasattr(actor, _CACHE_ATTR):
        delattr(actor, _CACHE_ATTR)


def require_admin(actor: Actor, message: str) -> None:
    """Raise PermissionDenied with ``message`` unless the actor is the system or a system
    administrator (who holds everything everywhere): for what belongs to no place, such as the
    national calendar or the default catalogue."""
    if not scope_for(actor).everything:
        raise PermissionDenied(message)


def require(actor: Actor, capability: str, place: Any) -> None:
    """Raise PermissionDenied unless the actor may use ``capability`` at ``place`` (``None``
    is the top of the tree: system admins and the system only)."""
    scope = scope_for(actor)
    if place is None:
        if not scope.everything:
            raise PermissionDenied(_("只有系统管理员可以操作顶级地点。"))
        return
    if not scope.allows(capability, place.path):
        raise PermissionDenied(_("此地点不在您的管辖范围内。"))


def under(paths: Iterable[str], path_field: str = "place_path") -> Q:
    """The rows whose ``path_field`` lies under any of ``paths`` (none for no path)."""
    condition = Q(pk__in=[])
    for prefix in paths:
        condition |= Q(**{f"{path_field}__startswith": prefix})
    return condition


def under_sql(paths: Iterable[str], column: str) -> tuple[str, list[Any]]:
    """The raw-SQL twin of :func:`under`, for statements the ORM cannot write (the coverage
    CTE): ``column`` lies under any of ``paths``, as one ``LIKE ANY`` on its index."""
    prefixes = [p.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%" for p in paths]
    return f"{column} LIKE ANY(%s)", [prefixes]


_Row = TypeVar("_Row", bound=models.Model)


class PlaceScopedQuerySet(QuerySet[_Row]):
    """A queryset of rows that belong to a place. ``visible(actor, capability)`` keeps the
    rows the actor may see: under the subtrees of its grants, or what the model adds for the
    actor (its ``visible_also(actor, capability)``: a ``Q`` or ``None``)."""

    path_field = "place_path"

    def visible(self, actor: Actor, capability: str) -> Self:
        scope = scope_for(actor)
        if scope.everything:
            return self
        also = getattr(self.model, "visible_also", None)
        extra = also(actor, capability) if also is not None and scope.user_id is not None else None
        prefixes = scope.paths(capability)
        if not prefixes and extra is None:
            return self.none()
        condition = under(prefixes, self.path_field)
        if extra is not None:
            condition |= extra
        return self.filter(condition)


class PlaceScoped(models.Model):
    """A row that belongs to a place, with that place's path copied beside it (an indexed
    prefix is how every scoped read finds its rows). ``place_source`` names the attribute
    chain that leads to the place (``"place"``, ``"household.place"``); ``save`` keeps the
    path, and ``sync_place_path`` does it before a bulk write. Its manager comes from
    ``PlaceScopedQuerySet`` (or a subclass): ``objects = PlaceScopedQuerySet.as_manager()``."""

    place_path = models.CharField(max_length=255, editable=False)
    place_source = "place"

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        # a full save, or one that writes the relation the place comes through, copies the
        # path again; a save of other fields leaves it (and loads nothing)
        update_fields = kwargs.get("update_fields")
        root = self.place_source.split(".")[0]
        if update_fields is None or root in update_fields or f"{root}_id" in update_fields:
            self.sync_place_path()
            if update_fields is not None and "place_path" not in update_fields:
                kwargs["update_fields"] = [*update_fields, "place_path"]
        super().save(*args, **kwargs)

    def sync_place_path(self) -> None:
        target: Any = self
        for name in self.place_source.split("."):
            target = getattr(target, name, None)
            if target is None:
                return
        self.place_path = target.path


# --- access ---------------------------------------------------------------------------------------

M = TypeVar("M", bound=models.Model)


def get_or_404(queryset: QuerySet[M], pk: Any, what: str) -> M:
    """The object with primary key ``pk`` in ``queryset`` (a scoped one), or 404 for anything
    else: outside the scope, missing, or not a number."""
    try:
        key = int(pk)
    except (TypeError, ValueError) as exc:
        raise Http404(f"{what} not found") from exc
    found = queryset.filter(pk=key).first()
    if found is None:
        raise Http404(f"{what} not found")
    return found


# --- django-rules predicates, for templates ({% has_perm %}) --------------------------------------


def _predicate(capability: str) -> Any:
    def predicate(user: Any, obj: Any = None) -> bool:
        scope = scope_for(user)
        if obj is None:
            return scope.holds_anywhere(capability)
        path = str(getattr(obj, "scope_path", None) or getattr(obj, "path", ""))
        return scope.allows(capability, path)

    return _rules.predicate(predicate, name=f"can_{capability}")
