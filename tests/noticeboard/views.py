from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from linli.core.pagination import paginate
from linli.places.selectors import access_place
from tests.noticeboard.capabilities import NoticeCap
from tests.noticeboard.selectors import access_notice, notice_list
from tests.noticeboard.services import notice_post


@login_required
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "noticeboard/index.html", {"page": paginate(request, notice_list(actor=request.user))})


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "noticeboard/detail.html", {"notice": access_notice(request.user, pk)})


@login_required
@require_POST
def post(request: HttpRequest, code: str) -> HttpResponse:
    place = access_place(request.user, code, NoticeCap.POST_NOTICES)
    try:
        notice = notice_post(
            actor=request.user, place=place, title=request.POST.get("title", ""), body=request.POST.get("body", "")
        )
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=400)
    return redirect("noticeboard:detail", pk=notice.pk)
