"""The doorstep page: log a visit on a phone, with a poor signal.

The page is a plain form that posts to itself; ``visits-offline.js`` takes the same form over
when it can, keeps the visit in the phone's local storage and sends it to ``/api/visits/``
with an idempotency key, so a visit logged without a signal is sent once the signal returns.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext
from django.utils.translation import gettext as _

from linli.core.access import Actor, scope_for
from linli.core.pages import messages_of
from linli.core.photos import PhotoUpload
from linli.people.capabilities import PeopleCap
from linli.people.identity import mask_name
from linli.people.models import Household, HouseholdMember, Person
from linli.people.selectors import access_household
from linli.places.selectors import PlaceNamer
from linli.visits import selectors, services
from linli.visits.capabilities import VisitCap
from linli.visits.forms import VisitForm
from linli.visits.models import Visit

#: How many households the picker lists at once (search finds the others).
PICK_LIMIT = 20
#: How many of my latest visits the page lists.
RECENT = 5
NOT_FOUND = _("找不到该住户")


def _require_logger(actor: Actor) -> None:
    scope = scope_for(actor)
    if not scope.holds_anywhere(VisitCap.LOG_VISITS):
        raise PermissionDenied(_("您的角色不能登记走访"))


def household_for(actor: Actor, household_id: Any) -> Household:
    """The household a visit is logged to: one the actor may log (its assigned households, or
    the households of its place for staff), else one it can see, so that ``visit_log`` refuses
    a carer's visit outside its assignment with a clear message. 404 for anything else."""
    try:
        key = int(household_id)
    except (TypeError, ValueError) as exc:
        raise Http404("household not found") from exc
    found = selectors.loggable_households(actor=actor).filter(pk=key).first()
    if found is not None:
        return found
    return access_household(actor, key)


def met_person_for(household: Household, person_id: int | None) -> Person | None:
    """A member of ``household`` (already fetched through the actor's scope), or a 400."""
    if person_id is None:
        return None
    link = HouseholdMember.objects.select_related("person").filter(household=household, person_id=person_id).first()
    if link is None:
        raise ValidationError({"met_person": [_("此人不是该户成员")]})
    return link.person


def _picker(actor: Actor, q: str, chosen: Household | None) -> dict[str, Any]:
    """The households to pick from (the actor's, most recently visited first; ``chosen`` always
    among them) and the members of each, for "who was met"."""
    households = list(selectors.loggable_households(actor=actor, q=q or None)[:PICK_LIMIT])
    if chosen is not None and all(h.pk != chosen.pk for h in households):
        households.insert(0, chosen)
    scope = scope_for(actor)
    members: dict[int, list[dict[str, Any]]] = defaultdict(list)
    links = HouseholdMember.objects.filter(household__in=[h.pk for h in households]).select_related("person")
    by_household = {h.pk: h for h in households}
    for link in links.order_by("household_id", "id"):
        household = by_household[link.household_id]
        clear = scope.allows(PeopleCap.UNMASK, household.place.path)
        members[link.household_id].append(
            {
                "id": link.person_id,
                "name": link.person.name if clear else mask_name(link.person.name),
                "relation": link.get_relation_display(),
            }
        )
    rows = [
        {
            "household": h,
            "members": members.get(h.pk, []),
        }
        for h in households
    ]
    return {"rows": rows, "chosen": chosen, "q": q}


def visit_from(
    actor: Actor,
    values: Mapping[str, Any],
    *,
    photo: PhotoUpload | None = None,
    raise_need: services.RaiseNeed | None = None,
    client_key: str = "",
) -> Visit:
    """Log the visit that the doorstep form or the API describes (their fields share names): the
    household through the actor's reach (404 outside it), the person met among its members."""
    household = household_for(actor, values["household"])
    return services.visit_log(
        actor=actor,
        household=household,
        kind=values["kind"],
        visited_at=values.get("visited_at"),
        met_person=met_person_for(household, values.get("met_person")),
        met_other=values.get("met_other") or "",
        heard=values.get("heard") or "",
        tags=values.get("tags") or [],
        policy_topic=values.get("policy_topic") or "",
        needs_help=bool(values.get("needs_help")),
        not_at_home=bool(values.get("not_at_home")),
        refused=bool(values.get("refused")),
        photo=photo,
        raise_need=raise_need,
        client_key=client_key,
    )


def _log(request: HttpRequest, form: VisitForm) -> tuple[Visit | None, int]:
    """Log the visit the form describes; a refusal becomes a message, never a 500."""
    data = form.cleaned_data
    photo = data.get("photo")
    try:
        visit = visit_from(
            request.user,
            data,
            photo=PhotoUpload(name=photo.name or "photo", content=photo.read()) if photo else None,
            raise_need=services.RaiseNeed(text=data["need_text"]) if data.get("raise_need") else None,
            client_key=data.get("client_key") or "",
        )
    except Http404:
        messages.error(request, NOT_FOUND)
        return None, 404
    except ValidationError as exc:
        messages.error(request, messages_of(exc))
        return None, 400
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("没有权限"))
        return None, 403
    return visit, 200


@login_required
def log(request: HttpRequest) -> HttpResponse:
    """Log a visit. ``?household=<id>`` picks the household, ``?q=`` searches by building or
    room without JavaScript."""
    _require_logger(request.user)
    q = (request.GET.get("q") or "").strip()[:60]
    form = VisitForm(request.POST or None, request.FILES or None)
    status = 200
    chosen_id = request.POST.get("household") if request.method == "POST" else request.GET.get("household")
    if request.method == "POST":
        if form.is_valid():
            visit, status = _log(request, form)
            if visit is not None:
                named = PlaceNamer.for_actor(request.user).name(visit.household.place)
                done = _("已登记走访：%(household)s") % {"household": named}
                if visit.need_id:
                    done += _("；诉求编号 %(pk)s") % {"pk": visit.need_id}
                messages.success(request, done)
                return redirect("visits:log")
        else:
            status = 400
            problems = gettext("；").join(str(m) for errors in form.errors.values() for m in errors)
            messages.error(request, _("请检查填写的内容：%(problems)s") % {"problems": problems})
    chosen = None
    if chosen_id:
        try:
            chosen = household_for(request.user, chosen_id)
        except Http404:
            if request.method == "GET":
                messages.error(request, NOT_FOUND)
    return render(
        request,
        "visits/log.html",
        {
            "form": form,
            "recent": _recent(request.user),
            "selected_person": str(form["met_person"].value() or ""),
            "offline_messages": _offline_messages(),
            **_picker(request.user, q, chosen),
        },
        status=status,
    )


def _recent(actor: Actor) -> list[Visit]:
    """The actor's own latest visits, newest first."""
    person = getattr(actor, "person", None)
    return list(selectors.visit_list(actor=actor).filter(visitor=person)[:RECENT]) if person is not None else []


@login_required
def recent(request: HttpRequest) -> HttpResponse:
    """My latest visits (an htmx partial): swapped in after the offline queue sent a visit."""
    _require_logger(request.user)
    return render(request, "visits/_recent.html", {"recent": _recent(request.user)})


@login_required
def pick(request: HttpRequest) -> HttpResponse:
    """The household picker for a search by building or room (an htmx partial), with the
    members of each listed household swapped in beside it."""
    _require_logger(request.user)
    q = (request.GET.get("q") or "").strip()[:60]
    return render(request, "visits/_log_households.html", {**_picker(request.user, q, None), "oob": True})


def _offline_messages() -> dict[str, str]:
    """What the offline queue (``visits-offline.js``) says, in the reader's language; the page
    hands it to the script as JSON (``%(n)s``, ``%(household)s`` and ``%(pk)s`` filled there)."""
    return {
        "waiting": gettext("%(n)s 条待发送"),
        "discard": gettext("删除"),
        "confirm_discard": gettext("删除这条未发送的走访？"),
        # the words of the plain form's confirmation (``log``), so that both read the same
        "sent": gettext("已登记走访：%(household)s"),
        "sent_need": gettext("；诉求编号 %(pk)s"),
        "sign_in": gettext("请重新登录后再发送"),
        "choose_household": gettext("请选择住户"),
        "need_text": gettext("请写下要反映的诉求"),
        "photo_not_kept": gettext("没有信号，照片未保存。"),
    }


urlpatterns: list[URLPattern] = [
    path("visits/log/", log, name="log"),
    path("visits/log/households/", pick, name="pick"),
    path("visits/log/recent/", recent, name="recent"),
]
