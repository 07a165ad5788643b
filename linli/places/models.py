"""The five-level place tree (五级架构) with the city and district above it.

City 市 → district/county 区/县 → street/town 街道/镇 → community/village 社区/村 → grid 网格 →
building/courtyard 楼栋/院落 → household 户. Every record that belongs to a place points at a
node of this tree, and every permission is a subtree of it: a subtree is one indexed
``path LIKE 'prefix%'`` query (materialised path, django-treebeard).
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.contrib.postgres.indexes import GinIndex
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from treebeard.mp_tree import MP_Node, MP_NodeManager, MP_NodeQuerySet

from linli.core.access import Actor, PlaceScopedQuerySet
from linli.core.text import normalize


class PlaceKind(models.TextChoices):
    CITY = "city", _("市")
    DISTRICT = "district", _("区")
    COUNTY = "county", _("县")
    STREET = "street", _("街道")
    TOWN = "town", _("镇")
    COMMUNITY = "community", _("社区")
    VILLAGE = "village", _("村")
    GRID = "grid", _("网格")
    BUILDING = "building", _("楼栋")
    COURTYARD = "courtyard", _("院落")
    HOUSEHOLD = "household", _("户")


#: The level of each kind in the tree; a child sits exactly one level below its parent.
KIND_LEVEL: dict[str, int] = {
    PlaceKind.CITY: 0,
    PlaceKind.DISTRICT: 1,
    PlaceKind.COUNTY: 1,
    PlaceKind.STREET: 2,
    PlaceKind.TOWN: 2,
    PlaceKind.COMMUNITY: 3,
    PlaceKind.VILLAGE: 3,
    PlaceKind.GRID: 4,
    PlaceKind.BUILDING: 5,
    PlaceKind.COURTYARD: 5,
    PlaceKind.HOUSEHOLD: 6,
}

code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
    _("编码只能包含字母、数字、点、下划线和连字符"),
)
office_phone_validator = RegexValidator(
    r"^\+?[0-9(][0-9 ()-]{3,22}[0-9]$",
    _("办公电话只能包含数字、空格、连字符和括号"),
)


class PlaceQuerySet(MP_NodeQuerySet, PlaceScopedQuerySet):
    """Places the actor may see are the subtrees of its grants (``visible``)."""

    path_field = "path"


class PlaceManager(MP_NodeManager):
    def get_queryset(self) -> PlaceQuerySet:
        return PlaceQuerySet(self.model, using=self._db).order_by("path")

    def visible(self, actor: Actor, capability: str) -> PlaceQuerySet:
        return self.get_queryset().visible(actor, capability)


class Place(MP_Node):
    """A node of the place tree: a city, district, street, community, grid, building or household.

    ``code`` is the stable identifier used in imports, URLs and the API; ``path`` (from
    treebeard) encodes the ancestry so that a whole subtree is one prefix query.
    """

    steplen = 4
    node_order_by: ClassVar[list[str]] = []

    code: models.CharField[str, str] = models.CharField(
        _("编码"), max_length=64, unique=True, validators=[code_validator]
    )
    name: models.CharField[str, str] = models.CharField(_("名称"), max_length=120)
    name_search: models.CharField[str, str] = models.CharField(max_length=240, editable=False, default="")
    kind: models.CharField[str, str] = models.CharField(_("类型"), max_length=16, choices=PlaceKind.choices)
    boundary = models.JSONField(_("边界 (GeoJSON, WGS-84)"), null=True, blank=True)
    lat: models.DecimalField[Decimal | None, Decimal | None] = models.DecimalField(
        _("纬度"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    lng: models.DecimalField[Decimal | None, Decimal | None] = models.DecimalField(
        _("经度"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    # the public number of a community's (or village's) office or service hall: what a
    # department whistled to a need there is told to call; never a person's own phone
    office_phone: models.CharField[str, str] = models.CharField(
        _("办公电话"), max_length=24, blank=True, default="", db_default="", validators=[office_phone_validator]
    )

    objects = PlaceManager()

    class Meta:
        ordering = ["path"]
        indexes = [
            models.Index(fields=["path"], name="place_path_like", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["kind", "path"], name="place_kind_path"),
            GinIndex(fields=["name_search"], opclasses=["gin_trgm_ops"], name="place_name_trgm"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(lat__isnull=True, lng__isnull=True)
                | models.Q(lat__gte=-90, lat__lte=90, lng__gte=-180, lng__lte=180),
                name="place_point_valid",
            )
        ]
        verbose_name = _("地点")
        verbose_name_plural = _("地点")

    def __str__(self) -> str:
        return f"{self.name}"

    def save(self, *args: object, **kwargs: object) -> None:
        self.name_search = normalize(self.name)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def level(self) -> int:
        return KIND_LEVEL[self.kind]


def path_len(kind: str) -> int:
    """The length of the path of a node of ``kind``: ``path[:path_len(kind)]`` of any place below
    it is that ancestor's path (the community of a household, say)."""
    return (KIND_LEVEL[kind] + 1) * Place.steplen


def ancestor_path(path: str, kind: str) -> str:
    """The path of the ancestor at the level of ``kind`` of the place at ``path`` (the path
    itself for a place at that level or above): which community, district or city a row is
    in, read from its ``place_path`` without a query."""
    return path[: path_len(kind)]


def ancestor_paths(path: str, *, include_self: bool = True) -> list[str]:
    """The paths of the place at ``path`` and of each of its ancestors, top first (without
    itself when ``include_self`` is false): the nodes above a place, read from its path."""
    end = len(path) + 1 if include_self else len(path)
    return [path[:n] for n in range(Place.steplen, end, Place.steplen)]


def joined_names(names: list[str]) -> str:
    """Names from the top level down as one address, each name once: a child named with its
    parent's name in front (常二社区第1网格 under 常二社区, 1栋502室 under 1栋) replaces the
    parent instead of repeating it."""
    parts: list[str] = []
    for name in names:
        if not name:
            continue
        if parts and name.startswith(parts[-1]):
            parts[-1] = name
        else:
            parts.append(name)
    return "".join(parts)


#: Levels of the tree that ``place_label`` treats specially (``KIND_LEVEL``).
COMMUNITY_LEVEL = KIND_LEVEL[PlaceKind.COMMUNITY]
GRID_LEVEL = KIND_LEVEL[PlaceKind.GRID]
BUILDING_LEVEL = KIND_LEVEL[PlaceKind.BUILDING]


def place_label(chain: list[tuple[int, str]], reader_level: int | None) -> str:
    """How a place is named to a reader whose scope is rooted at ``reader_level``: ``chain`` is
    (level, name) from the top of the tree down to the place (ancestors not loaded may be
    missing). The reader's own level and what lies above it go without saying; below it the
    label names what tells places apart at that level, each name once:

    - a reader above the communities (street, district, admin) reads the community, then
      the building and the household: 常二社区 1栋502室;
    - a community's reader reads the grid, then the building path: 第1网格 1栋502室 (a grid
      named after its community, 常二社区第1网格, loses the community's name);
    - a grid worker or a carer reads the building path: 1栋502室 (a carer's households may lie in
      more than one building).

    A name that begins with its parent's name (1栋502室 under 1栋) replaces the parent instead
    of repeating it (``joined_names``); a place at or above the reader's level is named alone.
    """
    if not chain:
        return ""
    level, name = chain[-1]
    if reader_level is None or level <= reader_level:
        return name
    # the one administrative level named below the reader's: the community, or the grid
    lead = (
        COMMUNITY_LEVEL if reader_level < COMMUNITY_LEVEL else GRID_LEVEL if reader_level == COMMUNITY_LEVEL else None
    )
    parts: list[str] = []
    parent, parent_shown = "", False
    for at, (step_level, step_name) in enumerate(chain):
        shown = at == len(chain) - 1 or step_level == lead or step_level >= BUILDING_LEVEL
        if shown:
            if parent_shown and parts and step_name.startswith(parent):
                parts[-1] = step_name
            elif (
                not parent_shown
                and parent
                and step_level <= GRID_LEVEL
                and step_name.startswith(parent)
                and step_name != parent
            ):
                # an administrative area named after the one above it that the reader knows
                parts.append(step_name[len(parent) :])
            else:
                parts.append(step_name)
        parent, parent_shown = step_name, shown
    return " ".join(parts)
