"""The actor's scope: which subtrees of the place tree it may act on, and how.

An actor's scope is computed once per request from its active memberships and cached on
the user object. ``restrict(queryset, actor, action)`` keeps only rows whose place path
starts with one of the paths where the actor holds a role granting ``action``
(NetBox's ``restrict(user, action)``). Superusers see everything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import rules
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from linli.people.roles import CAPABILITIES, RANK, STAFF_ROLES, Action, Role

Q_T = TypeVar("Q_T", bound=QuerySet[Any])
_CACHE_ATTR = "_linli_scope"


@dataclass(frozen=True)
class Grant:
    role: str
    path: str
    place_id: int
    department_id: int | None


@dataclass
class Scope:
    """The roles an actor holds and where. ``everything`` is true for system admins."""

    user_id: int | None
    person_id: int | None = None
    grants: list[Grant] = field(default_factory=list)
    everything: bool = False
    #: household paths whose sensitive flags the actor sees beyond its roles (a carer's own)
    sensitive_extra: frozenset[str] | None = None

    def paths(self, action: str) -> list[str]:
        """Minimal list of path prefixes where ``action`` is allowed."""
        found = sorted({g.path for g in self.grants if action in CAPABILITIES.get(g.role, set())})
        minimal: list[str] = []
        for path in found:
            if not any(path.startswith(p) for p in minimal):
                minimal.append(path)
        return minimal

    def allows(self, action: str, path: str) -> bool:
        return self.everything or any(path.startswith(p) for p in self.paths(action))

    def roles(self) -> set[str]:
        return {g.role for g in self.grants}

    def rank_at(self, path: str) -> int:
        """The highest rank the actor holds at ``path`` or an ancestor of it."""
        if self.everything:
            return RANK[Role.ADMIN]
        ranks = [RANK[g.role] for g in self.grants if path.startswith(g.path)]
        return max(ranks, default=-1)

    @property
    def is_staff_role(self) -> bool:
        return self.everything or bool(self.roles() & STAFF_ROLES)


def scope_for(actor: Any) -> Scope:
    """The actor's scope; computed with one query and cached on the user object."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return Scope(user_id=None)
    cached = getattr(actor, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    from linli.people.models import Membership

    rows = Membership.objects.filter(person__user=actor, ended_at__isnull=True).values_list(
        "role", "place__path", "place_id", "department_id", "person_id"
    )
    grants = [Grant(role=r, path=p, place_id=pid, department_id=d) for r, p, pid, d, _ in rows]
    person_id = rows[0][4] if rows else getattr(getattr(actor, "person", None), "pk", None)
    scope = Scope(
        user_id=actor.pk,
        person_id=person_id,
        grants=grants,
        everything=bool(actor.is_superuser) or any(g.role == Role.ADMIN for g in grants),
    )
    setattr(actor, _CACHE_ATTR, scope)
    return scope


#: Who may see a household's sensitive flags beyond the roles with ``view_sensitive``: each
#: provider names the household paths an actor may (the visits app: a carer's own households).
_SENSITIVE_PROVIDERS: list[Callable[[Any], Iterable[str]]] = []


def register_sensitive_access(provider: Callable[[Any], Iterable[str]]) -> None:
    if provider not in _SENSITIVE_PROVIDERS:
        _SENSITIVE_PROVIDERS.append(provider)


def sees_sensitive(actor: Any, path: str) -> bool:
    """Whether ``actor`` may see the health and social flags (困难标记) of the household or
    person at ``path``: roles with ``view_sensitive`` there, or a carer for its own households
    only (never the whole building its role is held at)."""
    scope = scope_for(actor)
    if scope.allows(Action.VIEW_SENSITIVE, path):
        return True
    if scope.user_id is None:
        return False
    if scope.sensitive_extra is None:
        scope.sensitive_extra = frozenset(p for provide in _SENSITIVE_PROVIDERS for p in provide(actor))
    return any(path.startswith(p) for p in scope.sensitive_extra)


def forget_scope(actor: Any) -> None:
    if actor is not None and hasattr(actor, _CACHE_ATTR):
        delattr(actor, _CACHE_ATTR)


def require(actor: Any, action: str, place: Any) -> None:
    """Raise PermissionDenied unless the actor may ``action`` at ``place`` (``None`` is the
    top of the tree: system admins only). ``actor=None`` is the system itself."""
    if actor is None:
        return
    scope = scope_for(actor)
    if place is None:
        if not scope.everything:
            raise PermissionDenied("只有系统管理员可以操作顶级地点 / Only system admins may act on top-level places")
        return
    if not scope.allows(action, place.path):
        raise PermissionDenied("此地点不在您的管辖范围内 / This place is outside your scope")


def restrict(queryset: Q_T, actor: Any, action: str, *, path_field: str) -> Q_T:
    scope = scope_for(actor)
    if scope.everything:
        return queryset
    prefixes = scope.paths(action)
    if not prefixes:
        return queryset.none()
    condition = Q()
    for prefix in prefixes:
        condition |= Q(**{f"{path_field}__startswith": prefix})
    return queryset.filter(condition)


# django-rules predicates, for templates ({% has_perm %}) and DRF permission checks.
@rules.predicate
def holds_staff_role(user: Any) -> bool:
    return scope_for(user).is_staff_role


def _can(action: str) -> Any:
    @rules.predicate(name=f"can_{action}")
    def predicate(user: Any, obj: Any = None) -> bool:
        scope = scope_for(user)
        if obj is None:
            return scope.everything or bool(scope.paths(action))
        path = str(getattr(obj, "scope_path", None) or getattr(obj, "path", ""))
        return scope.allows(action, path)

    return predicate


for _action in Action:
    rules.add_perm(f"linli.{_action.value}", _can(_action.value))
