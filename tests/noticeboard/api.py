from __future__ import annotations

from typing import Any

from rest_framework import serializers, viewsets

from tests.noticeboard.models import Notice
from tests.noticeboard.selectors import access_notice, notice_list


class NoticeOut(serializers.ModelSerializer[Notice]):
    place_code = serializers.CharField(source="place.code", read_only=True)

    class Meta:
        model = Notice
        fields = ["id", "title", "body", "place_code", "posted_at", "expires_at"]


class NoticeViewSet(viewsets.ReadOnlyModelViewSet[Notice]):
    serializer_class = NoticeOut

    def get_queryset(self) -> Any:
        return notice_list(actor=self.request.user)

    def get_object(self) -> Notice:
        return access_notice(self.request.user, self.kwargs["pk"])
