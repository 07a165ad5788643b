"""Where the apps plug into the kernel (NetBox's ``registry``, Decidim's ``register_component``).

An app fills these from its ``AppConfig.ready``; the kernel and the shared pages read them and
know no app by name. What can be registered:

- ``routes``: the app's URL module, and its API viewsets and views (``config.urls`` reads them);
- ``periodic``: tasks that re-enqueue themselves (the worker starts each once);
- ``tiles``: the links on the home page, each shown to whom it concerns;
- ``todos``: the counts at the top of the home page (what waits for the reader), each a link
  to the list it counts;
- ``panels``: sections of a shared page: the home page (one's roles), a place's page (the
  people of a building);
- ``place_counts``: annotations of place lists (people in each place);
- ``demo_seeds``: steps of ``linli load-demo``, in order;

and, in their own modules, capabilities (``core.access``), importers (``core.imports``) and
notification kinds (``core.notify``).
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse

from linli.core.access import Actor, scope_for

# --- routes ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Routes:
    module: str
    prefix: str = ""
    order: int = 100


_ROUTES: dict[str, Routes] = {}
#: (prefix, viewset, basename) of the API router, and (route, view, name) of other API views
_API_VIEWSETS: dict[str, tuple[str, Any, str]] = {}
_API_VIEWS: dict[str, tuple[str, Any, str]] = {}


def register_routes(module: str, *, prefix: str = "", order: int = 100) -> None:
    """An app's URL module (with its ``app_name``), included under ``prefix``."""
    _ROUTES[module] = Routes(module, prefix, order)


def routes() -> list[Routes]:
    return sorted(_ROUTES.values(), key=lambda r: (r.order, r.module))


def register_api_viewset(prefix: str, viewset: Any, basename: str) -> None:
    """A DRF viewset under ``/api/<prefix>/``."""
    _API_VIEWSETS[basename] = (prefix, viewset, basename)


def register_api_view(route: str, view: Any, name: str) -> None:
    """Another API view at ``/api/<route>`` (checked before the viewsets' routes)."""
    _API_VIEWS[name] = (route, view, name)


def api_viewsets() -> list[tuple[str, Any, str]]:
    return list(_API_VIEWSETS.values())


def api_views() -> list[tuple[str, Any, str]]:
    return list(_API_VIEWS.values())


# --- periodic tasks --------------------------------------------------------------------------------

_PERIODIC: dict[str, Any] = {}


def register_periodic(task: Any) -> None:
    """A django-tasks task that re-enqueues itself; ``linli worker`` starts it once."""
    _PERIODIC[task.module_path] = task


def periodic_tasks() -> list[Any]:
    return list(_PERIODIC.values())


# --- home-page tiles ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tile:
    """A link on the home page: ``shown(actor)`` says to whom; ``big`` tiles are the main
    action of the roles that see them (report a problem)."""

    key: str
    title: Any
    url_name: str
    shown: Callable[[Actor], bool]
    note: Any = ""
    order: int = 100
    big: bool = False
    url: Callable[[Actor], str] | None = None  # the URL for an actor, when it needs arguments
    title_for: Callable[[Actor], Any] | None = None  # the title for an actor, when it varies
    section: str = "work"  # "work" (the day's tasks) or "more" (everything else)

    def href(self, actor: Actor) -> str:
        return self.url(actor) if self.url is not None else reverse(self.url_name)

    def label(self, actor: Actor) -> Any:
        return self.title_for(actor) if self.title_for is not None else self.title


_TILES: dict[str, Tile] = {}


def register_tile(tile: Tile) -> None:
    _TILES[tile.key] = tile


@dataclass
class ShownTile:
    key: str
    title: Any
    note: Any
    href: str
    big: bool
    section: str


def tiles_for(actor: Actor) -> list[ShownTile]:
    shown = [t for t in sorted(_TILES.values(), key=lambda t: (t.order, t.key)) if t.shown(actor)]
    return [ShownTile(t.key, t.label(actor), t.note, t.href(actor), t.big, t.section) for t in shown]


# --- home-page to-dos ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Todo:
    """A count on the home page of what waits for the reader (needs to accept, dispatches to
    check in, households overdue for a visit), linking to the list it counts.
    ``compute(actor)`` gives ``(count, href)``, or ``None`` when it does not concern the actor:
    the count must be the length of the list at ``href``, read through the same selector (so
    through the kernel's scope), in a fixed number of queries whatever the data."""

    key: str
    title: Any
    compute: Callable[[Actor], tuple[int, str] | None]
    #: shown as a warning when not zero (something is late)
    late: bool = False
    order: int = 100


_TODOS: dict[str, Todo] = {}


def register_todo(todo: Todo) -> None:
    _TODOS[todo.key] = todo


@dataclass
class ShownTodo:
    key: str
    title: Any
    count: int
    href: str
    late: bool


def todos_for(actor: Actor) -> list[ShownTodo]:
    shown = []
    for todo in sorted(_TODOS.values(), key=lambda t: (t.order, t.key)):
        found = todo.compute(actor)
        if found is not None:
            shown.append(ShownTodo(todo.key, todo.title, found[0], found[1], todo.late))
    return shown


# --- sections of shared pages ------------------------------------------------------------------------

#: ``panel(request, obj) -> html or ""`` by page ("home", "place"), with its order.
_PANELS: dict[str, list[tuple[int, Callable[[Any, Any], str]]]] = {}
#: ``annotate(queryset) -> queryset``: figures added to each place of a list.
_PLACE_COUNTS: list[Callable[[QuerySet[Any]], QuerySet[Any]]] = []


def register_panel(page: str, panel: Callable[[Any, Any], str], *, order: int = 100) -> None:
    """A section of a shared page (``"home"``, ``"place"``), rendered by ``panel(request,
    obj)`` (the place on a place's page, ``None`` at home); an empty string shows nothing."""
    registered = _PANELS.setdefault(page, [])
    if all(p is not panel for _, p in registered):
        registered.append((order, panel))


def panels(page: str, request: Any, obj: Any = None) -> list[str]:
    return [html for _, panel in sorted(_PANELS.get(page, []), key=lambda p: p[0]) if (html := panel(request, obj))]


#: ``redirect(request, place) -> url or None``: where a place's page sends its reader instead
#: (a household's page is the household's own, for those who may see it).
_PLACE_REDIRECTS: list[Callable[[Any, Any], str | None]] = []


def register_place_redirect(redirect: Callable[[Any, Any], str | None]) -> None:
    if redirect not in _PLACE_REDIRECTS:
        _PLACE_REDIRECTS.append(redirect)


def place_redirect(request: Any, place: Any) -> str | None:
    for redirect in _PLACE_REDIRECTS:
        if url := redirect(request, place):
            return url
    return None


def register_place_counts(annotate: Callable[[QuerySet[Any]], QuerySet[Any]]) -> None:
    if annotate not in _PLACE_COUNTS:
        _PLACE_COUNTS.append(annotate)


def annotate_place_counts(queryset: QuerySet[Any]) -> QuerySet[Any]:
    for annotate in _PLACE_COUNTS:
        queryset = annotate(queryset)
    return queryset


# --- the demo ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoSeed:
    """An app's part of the demo: a module (``"linli.needs.demo"``), imported only when the
    demo is loaded, that provides

    - ``steps(paths) -> int``: how many times ``load`` calls ``step`` (the progress bar);
    - ``load(*, paths, step)``: adds the app's data under the demo's root ``paths`` (inside the
      demo's transaction, after the seeds of lower ``order``);
    - ``labels() -> [(key, label)]`` and ``counts(paths) -> {key: n}``: figures for the demo's
      summary; optionally ``notes() -> [line]``, printed after it (an API key to try);
    - ``purge(paths) -> [queryset]``: what ``load-demo --reset`` deletes, in order, before the
      places and people; ``TRIGGERS``: the append-only triggers suspended meanwhile.
    """

    key: str
    module: str
    order: int = 100

    def load_module(self) -> Any:
        return importlib.import_module(self.module)


_SEEDS: dict[str, DemoSeed] = {}


def register_demo_seed(key: str, module: str, *, order: int = 100) -> None:
    _SEEDS[key] = DemoSeed(key, module, order)


def demo_seeds() -> list[DemoSeed]:
    return sorted(_SEEDS.values(), key=lambda s: (s.order, s.key))


# --- exports --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Export:
    """A download an app offers at a place (a spreadsheet, a ledger, a report), listed on the
    place's page for readers who hold ``capability`` there. ``url(place)`` is its address (the
    view checks again and audits); ``kinds`` are the kinds of place it is made for (empty: any)."""

    key: str
    title: Any
    capability: str
    url: Callable[[Any], str]
    kinds: tuple[str, ...] = ()
    note: Any = ""
    order: int = 100


_EXPORTS: dict[str, Export] = {}


def register_export(export: Export) -> None:
    _EXPORTS[export.key] = export


def exports_for(actor: Actor, place: Any) -> list[Export]:
    """The downloads ``actor`` may take at ``place``, in their order."""
    scope = scope_for(actor)
    return [
        e
        for e in sorted(_EXPORTS.values(), key=lambda e: (e.order, e.key))
        if (not e.kinds or place.kind in e.kinds) and scope.allows(e.capability, place.path)
    ]


def exports_panel(request: Any, place: Any) -> str:
    """The place page's list of downloads (registered by the apps) the reader may take there."""
    from django.template.loader import render_to_string

    found = [(e, e.url(place)) for e in exports_for(request.user, place)]
    if not found:
        return ""
    return render_to_string("core/_exports.html", {"exports": found, "place": place}, request=request)


# --- metrics --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    """A rate an app computes for places, shown where places are compared (the dashboard's
    table of a place's children). ``compute(actor, parent, start, end)`` returns each child's
    value (0–1, or ``None`` when there is nothing to count) by the child's code, in a bounded
    number of queries; ``capability`` is what a reader needs at ``parent`` to see it."""

    key: str
    label: Any
    capability: str
    compute: Callable[[Actor, Any, dt.date, dt.date], dict[str, float | None]]
    order: int = 100


_METRICS: dict[str, Metric] = {}


def register_metric(metric: Metric) -> None:
    _METRICS[metric.key] = metric


def metrics_for(actor: Actor, place: Any) -> list[Metric]:
    """The metrics ``actor`` may read at ``place``, in their order."""
    scope = scope_for(actor)
    return [
        m for m in sorted(_METRICS.values(), key=lambda m: (m.order, m.key)) if scope.allows(m.capability, place.path)
    ]


# --- the main menu ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NavLink:
    """A tab of the main menu every page shows to signed-in readers; ``shown(actor)`` says to
    whom."""

    key: str
    title: Any
    url_name: str
    shown: Callable[[Actor], bool] = lambda actor: True
    order: int = 100


_NAV: dict[str, NavLink] = {}


def register_nav(link: NavLink) -> None:
    _NAV[link.key] = link


def nav_for(actor: Actor) -> list[tuple[Any, str]]:
    """The menu's tabs for ``actor``: (title, address), in their order."""
    return [
        (n.title, reverse(n.url_name)) for n in sorted(_NAV.values(), key=lambda n: (n.order, n.key)) if n.shown(actor)
    ]
