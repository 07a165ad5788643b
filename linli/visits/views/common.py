"""What the coverage and care pages share: their periods and lists, the way back, and the
place crumbs the reader may open."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from linli.core.access import Actor, scope_for
from linli.core.pages import int_or_none, safe_next
from linli.people.models import Household
from linli.places.models import Place, PlaceKind
from linli.places.selectors import access_place
from linli.visits.capabilities import VisitCap
from linli.visits.selectors import access_household_visits

#: The periods the coverage rate is shown over (days); 30 by default.
PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
PER_PAGE = 30
#: Above this many households the building view asks to drill down first (one row per household).
BUILDING_VIEW_MAX = 5000
#: Kinds of place a night round can be made for (``services.night_round_create``).
NIGHT_KINDS = (PlaceKind.GRID, PlaceKind.BUILDING, PlaceKind.COURTYARD, PlaceKind.COMMUNITY)
#: The lists of the coverage page: which statuses each shows.
LISTS: dict[str, tuple[str, ...]] = {
    "attention": ("never", "overdue", "due_soon"),
    "late": ("never", "overdue"),  # selectors.LATE: the home page's to-do
    "overdue": ("overdue",),
    "never": ("never",),
    "due_soon": ("due_soon",),
    "ok": ("ok", "none"),
    "all": ("never", "overdue", "due_soon", "ok", "none"),
}

#: An assignments file larger than this is refused before it is read.
#: At most this many row errors are shown as messages; the rest are counted.
MAX_ROW_MESSAGES = 20


# --- shared -------------------------------------------------------------------------------------


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    """Redirect to the page the form came from (``next``, same site only), else ``fallback``."""
    return redirect(safe_next(request, fallback))


def _require(actor: Actor, action: str, path_: str) -> None:
    if not scope_for(actor).allows(action, path_):
        raise PermissionDenied(_("您没有此项权限"))


def _days(value: str | None) -> int:
    days = int_or_none(value)
    return days if days in PERIODS else DEFAULT_PERIOD


def _query(request: HttpRequest, **changes: Any) -> str:
    """The page's query string without ``page`` (for the pager and the switches)."""
    params = {k: v for k, v in request.GET.items() if k != "page"}
    params.update({k: v for k, v in changes.items() if v is not None})
    return urlencode({k: v for k, v in params.items() if v not in ("", None)})


def coverage_place(actor: Actor, code: str, capability: str) -> Place:
    """The place named in the URL: one whose coverage ``actor`` may view (404 otherwise) and
    where it holds ``capability`` (403 otherwise)."""
    place = access_place(actor, code, VisitCap.VIEW_COVERAGE)
    _require(actor, capability, place.path)
    return place


def household_to_manage(actor: Actor, pk: int | str) -> Household:
    """The household named in the URL, for staff who manage care at its place."""
    household, _carer = access_household_visits(actor, pk)
    _require(actor, VisitCap.MANAGE_CARE, household.place.path)
    return household
