"""Triage of an incoming need 诉求: which category it probably is, which open needs it may
duplicate, and which grid 网格 it falls in.

- **Category**: a linear classifier over character n-grams (1–3) and jieba words of the
  normalised text (:func:`linli.core.text.normalize`, so 社區 and 社区 are the same text),
  trained on the catalogue's examples and keywords plus the needs whose category staff
  confirmed. Each training run is a new :class:`~linli.needs.models.TriageModel` version; the
  newest active one is loaded once per process and reloaded when a newer one appears.
- **Duplicates**: one SQL query fetches the open needs of the same community (or within
  ~300 m of the point) from the last weeks, ranked by pg_trgm similarity plus shared bigrams,
  and rapidfuzz re-ranks those few on the normalised text.
- **Grid**: the grid ancestor of the place, else the grid whose boundary polygon contains the
  point (shapely, prepared geometries cached per process).

Points are WGS-84; convert map points first (:func:`linli.core.geo.gcj02_to_wgs84`).

The per-process caches are checked against the database at most every
``settings.LINLI_TRIAGE_RECHECK_SECONDS`` (default 5). Tests that train models or draw grids
in rolled-back transactions should set it to 0 or call :func:`triage_cache_clear`.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import logging
import math
import operator
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import joblib
from django.conf import settings
from django.contrib.postgres.search import TrigramSimilarity
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Case, F, FloatField, Max, Q, Value, When
from django.db.models.expressions import Combinable
from django.utils import timezone
from django.utils.translation import gettext as _
from rapidfuzz import fuzz

from linli.core.access import SYSTEM
from linli.core.audit import audit_record
from linli.core.geo import distance_m
from linli.core.models import AuditEntry
from linli.core.text import normalize, tokens
from linli.needs.models import OPEN_STATUSES, Category, Need, TriageModel
from linli.places.location import Located, grid_index_clear, locate, locate_grid
from linli.places.models import Place, PlaceKind, ancestor_path

__all__ = [
    "Located",
    "TriageResult",
    "find_duplicates",
    "locate",
    "locate_grid",
    "suggest_categories",
    "triage",
    "triage_cache_clear",
    "triage_train",
]

logger = logging.getLogger(__name__)

#: Most recent confirmed needs used as training examples (older ones add little).
MAX_NEED_EXAMPLES = 50_000
#: Folds of the cross-validation that estimates a new version's accuracy.
CV_FOLDS = 5
#: Candidates fetched by the duplicate query before re-ranking in Python.
DUPLICATE_CANDIDATES = 25  # re-ranking (jieba + rapidfuzz) is the cost of intake: see docs/benchmarks.md
#: A need this close to the given point counts as nearby, whatever its place.
NEARBY_METRES = 300.0
_METRES_PER_DEGREE = 111_195.0
# Words that carry no meaning of their own for duplicate ranking.
_STOPWORDS = frozenset("了的地得着过吗呢吧啊呀我你他她它这那都也很就还又在有是和与及") | {"我们", "你们", "他们"}
# pg_trgm.similarity_threshold is left alone: on Chinese, a paraphrase shares almost no
# trigram (楼下路灯不亮了 / 我们楼下的路灯坏了 score 0.0), so candidates are ranked by
# similarity plus the share of the query's character bigrams they contain (路灯, 不亮: the
# unit of Chinese words), never filtered by similarity.
_BIGRAM_WEIGHT = 0.5
_MAX_BIGRAMS = 20
_LOCK_KEY = 0x6C696E6C69  # pg_advisory_xact_lock key for numbering versions ("linli")


def _recheck_seconds() -> float:
    return float(getattr(settings, "LINLI_TRIAGE_RECHECK_SECONDS", 5.0))


# ---------------------------------------------------------------------------
# Category classifier
# ---------------------------------------------------------------------------


def _pipeline() -> Any:
    """A fresh, unfitted classifier. Only library objects and the public functions of
    ``linli.core.text`` go into it, so stored blobs survive refactoring of this module."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, Pipeline

    features = FeatureUnion(
        [
            ("chars", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, preprocessor=normalize)),
            ("words", TfidfVectorizer(analyzer=tokens, sublinear_tf=True)),
        ]
    )
    # saga: linear in the examples and free of BLAS threads, unlike lbfgs on a busy host.
    classifier = LogisticRegression(C=10.0, solver="saga", tol=1e-4, max_iter=3000, class_weight="balanced")
    return Pipeline([("features", features), ("classifier", classifier)])


def _training_set() -> tuple[list[str], list[str]]:
    """(normalised texts, category codes): the catalogue's examples and keywords of every
    active category, then the confirmed needs. Exact repeats are dropped."""
    seen: set[tuple[str, str]] = set()
    texts: list[str] = []
    labels: list[str] = []

    def add(text: str, code: str) -> None:
        key = (normalize(text), code)
        if key[0] and key not in seen:
            seen.add(key)
            texts.append(key[0])
            labels.append(code)

    for code, examples, keywords in Category.objects.filter(active=True).values_list("code", "examples", "keywords"):
        for text in [*examples, *keywords]:
            add(text, code)
    confirmed = (
        Need.objects.filter(category_confirmed=True, category__active=True)
        .exclude(text_search="")
        .order_by("-created_at")
        .values_list("text_search", "category__code")[:MAX_NEED_EXAMPLES]
    )
    for text, code in confirmed:
        add(text, code)
    return texts, labels


def _cross_validated_accuracy(texts: Sequence[str], labels: Sequence[str]) -> float | None:
    """Mean top-1 accuracy over stratified folds, on the labels with at least two examples;
    None when fewer than two such labels remain."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    counts = Counter(labels)
    kept = [(t, y) for t, y in zip(texts, labels, strict=True) if counts[y] >= 2]
    kept_labels = [y for _, y in kept]
    kept_counts = Counter(kept_labels)
    if len(kept_counts) < 2:
        return None
    folds = min(CV_FOLDS, min(kept_counts.values()))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    scores = cross_val_score(_pipeline(), [t for t, _ in kept], kept_labels, cv=cv, scoring="accuracy")
    return float(scores.mean())


def _train(*, note: str, cross_validate: bool) -> TriageModel:
    texts, labels = _training_set()
    if len(set(labels)) < 2:
        raise ValidationError(_("至少需要两个有示例的启用类别才能训练分类模型"))
    from threadpoolctl import threadpool_limits

    # One BLAS thread: on a small sparse problem, more only contend.
    with threadpool_limits(limits=1):
        pipeline = _pipeline().fit(texts, labels)
        accuracy = _cross_validated_accuracy(texts, labels) if cross_validate else None
    buffer = io.BytesIO()
    joblib.dump(pipeline, buffer, compress=3)
    with transaction.atomic():
        # Serialise concurrent trainings so that versions are numbered without a clash.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        version = (TriageModel.objects.aggregate(m=Max("version"))["m"] or 0) + 1
        TriageModel.objects.filter(active=True).update(active=False)
        model = TriageModel.objects.create(
            version=version,
            examples=len(texts),
            labels=sorted(set(labels)),
            accuracy=accuracy,
            blob=buffer.getvalue(),
            active=True,
            note=note[:200],
        )
        audit_record(actor=SYSTEM, action=AuditEntry.Action.CREATE, target=model, reason=note)
    _cache.forget()
    return model


def triage_train(*, note: str = "", cross_validate: bool = True) -> TriageModel:
    """Train a new version of the category classifier and make it the active one.

    Examples are the catalogue's examples and keywords of every active category and the
    needs whose category was confirmed. Accuracy is estimated by stratified cross-validation
    (None with too few examples). The fit happens outside any lock; numbering the version and
    switching the active one is a short transaction under an advisory lock. ``note`` is kept
    as the reason of the audit entry. Raises ``ValidationError`` when fewer than two
    categories have examples. ``cross_validate=False`` skips the accuracy estimate (fast).
    """
    return _train(note=note, cross_validate=cross_validate)


@dataclass
class _Loaded:
    model_id: int | None = None
    version: int = 0
    pipeline: Any = None
    active_codes: frozenset[str] = frozenset()
    checked_at: float = float("-inf")


class _ModelCache:
    """The newest active classifier of this process, and the active category codes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded = _Loaded()

    def forget(self) -> None:
        with self._lock:
            self._loaded = _Loaded()

    def current(self) -> _Loaded:
        with self._lock:
            loaded = self._loaded
            if loaded.pipeline is not None and time.monotonic() - loaded.checked_at < _recheck_seconds():
                return loaded
            # One query: the newest active version and the codes that may be suggested.
            with connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT (SELECT id FROM {TriageModel._meta.db_table} WHERE active"  # noqa: S608
                    " ORDER BY version DESC LIMIT 1),"
                    f" ARRAY(SELECT DISTINCT code FROM {Category._meta.db_table} WHERE active)"
                )
                model_id, codes = cursor.fetchone()
            if model_id is None:
                self._loaded = _Loaded(active_codes=frozenset(codes))
                return self._loaded
            if model_id != loaded.model_id:
                row = TriageModel.objects.values_list("version", "blob").get(pk=model_id)
                loaded = _Loaded(model_id=model_id, version=row[0], pipeline=joblib.load(io.BytesIO(bytes(row[1]))))
            self._loaded = _Loaded(
                model_id=loaded.model_id,
                version=loaded.version,
                pipeline=loaded.pipeline,
                active_codes=frozenset(codes),
                checked_at=time.monotonic(),
            )
            return self._loaded


_cache = _ModelCache()


def suggest_categories(text: str, *, top: int = 3) -> list[tuple[str, float]]:
    """The ``top`` most probable category codes for ``text``, best first, as (code, score).

    Scores are the classifier's probabilities (in [0, 1], summing to at most 1); codes of
    categories no longer active are left out. Without any trained version, one is trained on
    the spot from the catalogue (without cross-validation); with an empty catalogue the
    answer is empty.
    """
    if not text or not text.strip() or top <= 0:
        return []
    loaded = _cache.current()
    if loaded.pipeline is None:
        try:
            _train(note="auto: first suggestion", cross_validate=False)
        except ValidationError:
            return []
        loaded = _cache.current()
        if loaded.pipeline is None:  # pragma: no cover - a concurrent deactivation
            return []
    probabilities = loaded.pipeline.predict_proba([text])[0]
    ranked = sorted(zip(loaded.pipeline.classes_, probabilities, strict=True), key=operator.itemgetter(1), reverse=True)
    return [(str(code), float(p)) for code, p in ranked if code in loaded.active_codes][:top]


# ---------------------------------------------------------------------------
# Duplicates
# ---------------------------------------------------------------------------


def _content_words(text: str) -> list[str]:
    return [word for word in tokens(text) if word not in _STOPWORDS]


def _compact(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def _bigrams(text: str) -> list[str]:
    """Distinct character bigrams of the text, at most ``_MAX_BIGRAMS`` spread over it."""
    compact = _compact(text)
    pairs = list(dict.fromkeys(compact[i : i + 2] for i in range(len(compact) - 1)))
    if len(pairs) > _MAX_BIGRAMS:
        step = len(pairs) / _MAX_BIGRAMS
        pairs = [pairs[int(i * step)] for i in range(_MAX_BIGRAMS)]
    return pairs


def _resemblance(query: str, query_words: Sequence[str], candidate: str) -> float:
    """How alike two normalised texts are, in [0, 1]: the better of word-set overlap (catches
    paraphrase and reordering) and the best partial alignment of the characters (catches
    typos and a short text inside a longer one). Very short texts are discounted, as two
    characters in common prove little."""
    a, b = _compact(query), _compact(candidate)
    if not a or not b:
        return 0.0
    words = fuzz.token_set_ratio(" ".join(query_words), " ".join(_content_words(candidate)), processor=None)
    chars = fuzz.partial_ratio(a, b, processor=None)
    shorter = min(len(a), len(b))
    discount = min(1.0, shorter / 4)
    return round(max(words, chars) / 100 * discount, 4)


def find_duplicates(
    text: str,
    *,
    place: Place | None,
    lat: Decimal | float | None = None,
    lng: Decimal | float | None = None,
    exclude_id: int | None = None,
    window_days: int = 30,
    limit: int = 5,
    threshold: float = 0.55,
) -> list[tuple[int, float]]:
    """Open needs that may report the same thing, as (need id, score in [0, 1]), best first.

    Candidates are open, created in the last ``window_days``, and either in the community of
    ``place`` (a household, building or grid counts as its community) or within ~300 m of
    the point. They come from one query, ranked by trigram similarity plus character bigrams in
    common
    and capped at ``DUPLICATE_CANDIDATES``, and are then scored with rapidfuzz; those at or above ``threshold``
    are returned.
    """
    query = normalize(text)
    if not query or (place is None and (lat is None or lng is None)):
        return []
    words = list(dict.fromkeys(_content_words(query)))
    scope = Q()
    point: tuple[float, float] | None = None
    if place is not None:
        scope |= Q(place_path__startswith=ancestor_path(place.path, PlaceKind.COMMUNITY))
    if lat is not None and lng is not None:
        point = (float(lat), float(lng))
        d_lat = NEARBY_METRES / _METRES_PER_DEGREE
        d_lng = d_lat / max(0.01, math.cos(math.radians(point[0])))
        scope |= Q(
            lat__range=(Decimal(f"{point[0] - d_lat:.6f}"), Decimal(f"{point[0] + d_lat:.6f}")),
            lng__range=(Decimal(f"{point[1] - d_lng:.6f}"), Decimal(f"{point[1] + d_lng:.6f}")),
        )
    rank: Combinable = TrigramSimilarity("text_search", query)
    bigrams = _bigrams(query)
    if bigrams:
        hits = [
            Case(When(text_search__contains=pair, then=Value(1.0)), default=Value(0.0), output_field=FloatField())
            for pair in bigrams
        ]
        rank = rank + functools.reduce(operator.add, hits) * Value(_BIGRAM_WEIGHT / len(bigrams))
    needs = Need.objects.filter(
        scope, status__in=OPEN_STATUSES, created_at__gte=timezone.now() - dt.timedelta(days=window_days)
    )
    if exclude_id is not None:
        needs = needs.exclude(pk=exclude_id)
    candidates = (
        needs.annotate(rank=rank)
        .order_by(F("rank").desc(), "-created_at")
        .values_list("pk", "text_search", "place_path", "lat", "lng")[:DUPLICATE_CANDIDATES]
    )
    prefix = ancestor_path(place.path, PlaceKind.COMMUNITY) if place is not None else None
    scored: list[tuple[int, float]] = []
    for pk, candidate, path, c_lat, c_lng in candidates:
        in_community = prefix is not None and path.startswith(prefix)
        # The box of the query is a little larger than the circle.
        nearby = (
            point is not None
            and c_lat is not None
            and c_lng is not None
            and distance_m(*point, c_lat, c_lng) <= NEARBY_METRES
        )
        if not (in_community or nearby):
            continue
        score = _resemblance(query, words, candidate)
        if score >= threshold:
            scored.append((pk, score))
    scored.sort(key=lambda item: (-item[1], -item[0]))
    return scored[:limit]


# ---------------------------------------------------------------------------
# All three
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TriageResult:
    """What triage proposes for a new need: category suggestions (code, score), the grid, and
    duplicate candidates (need id, score), each best first."""

    categories: list[tuple[str, float]]
    grid: Place | None
    duplicates: list[tuple[int, float]]


def triage(
    text: str,
    *,
    place: Place | None,
    lat: Decimal | float | None = None,
    lng: Decimal | float | None = None,
    exclude_id: int | None = None,
) -> TriageResult:
    """Suggest categories, locate the grid and look for duplicates of a need being reported."""
    return TriageResult(
        categories=suggest_categories(text),
        grid=locate_grid(place=place, lat=lat, lng=lng),
        duplicates=find_duplicates(text, place=place, lat=lat, lng=lng, exclude_id=exclude_id),
    )


def triage_cache_clear() -> None:
    """Forget this process's classifier and grid index (tests, or after editing a boundary)."""
    _cache.forget()
    grid_index_clear()
