"""REST API for people, households, departments and memberships, scoped like the pages.

Output never contains a clear phone or identity number: only ``POST …/unmask/`` returns
one, and it writes an audit entry.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from linli.core.access import Role
from linli.core.api import idempotent
from linli.people.capabilities import PeopleCap
from linli.people.models import Department, Household, Membership, Person, Vulnerability
from linli.people.selectors import (
    access_household,
    access_membership,
    access_person,
    department_list,
    household_list,
    membership_list,
    person_list,
    sees_sensitive,
)
from linli.people.services import (
    PERSON_FIELDS,
    membership_grant,
    membership_revoke,
    person_create,
    person_unmask,
    person_update,
)
from linli.places.selectors import access_place


class PersonOut(serializers.ModelSerializer[Person]):
    """A person as the API shows one: masked numbers, and the birth year and age only (the
    full birth date is part of the identity number: shown only by unmasking it)."""

    place = serializers.CharField(source="place.code", read_only=True)
    phone_masked = serializers.CharField(read_only=True)
    birth_year = serializers.IntegerField(read_only=True, allow_null=True)
    age = serializers.IntegerField(read_only=True, allow_null=True)
    vulnerabilities = serializers.SerializerMethodField()

    class Meta:
        model = Person
        fields = [
            "id",
            "name",
            "place",
            "phone_masked",
            "document_kind",
            "id_number_masked",
            "birth_year",
            "age",
            "sex",
            "party_kind",
            "party_unit",
            "is_veteran",
            "is_volunteer",
            "vulnerabilities",
        ]

    def get_vulnerabilities(self, person: Person) -> list[str] | None:
        """Sensitive: only for roles that need it (null otherwise)."""
        actor = self.context["request"].user
        return list(person.vulnerabilities) if sees_sensitive(actor, person.place.path) else None


class PersonIn(serializers.Serializer[Any]):
    place = serializers.CharField(required=False, help_text="place code (household or workplace)")
    name = serializers.CharField(max_length=60, required=False)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    document_kind = serializers.CharField(required=False)
    id_number = serializers.CharField(max_length=32, required=False, allow_blank=True)
    birth_date = serializers.DateField(required=False, allow_null=True)
    sex = serializers.ChoiceField(choices=["M", "F", ""], required=False)
    vulnerabilities = serializers.ListField(child=serializers.ChoiceField(choices=Vulnerability.values), required=False)
    party_kind = serializers.CharField(required=False, allow_blank=True)
    party_unit = serializers.CharField(required=False, allow_blank=True)
    is_veteran = serializers.BooleanField(required=False)
    is_volunteer = serializers.BooleanField(required=False)


class UnmaskIn(serializers.Serializer[Any]):
    field = serializers.ChoiceField(choices=["phone", "id_number"])
    reason = serializers.CharField(min_length=2, max_length=500)


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    description="retry-safe writes: the same key returns the first answer instead of writing again",
)
PLACE_PARAM = OpenApiParameter("place", str, description="only within this place's subtree (a place code)")


@extend_schema_view(
    list=extend_schema(
        parameters=[
            PLACE_PARAM,
            OpenApiParameter("q", str, description="name or pinyin; simplified/traditional-insensitive"),
        ]
    )
)
class PersonViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet[Person]):
    serializer_class = PersonOut
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Person]:
        place = (
            access_place(self.request.user, self.request.query_params["place"])
            if self.request.query_params.get("place")
            else None
        )
        return person_list(actor=self.request.user, place=place, q=self.request.query_params.get("q") or None)

    def get_object(self) -> Person:
        return access_person(self.request.user, self.kwargs["pk"])

    @extend_schema(request=PersonIn, responses={201: PersonOut}, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = PersonIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "place" not in values:
            raise serializers.ValidationError({"place": [_("必填")]})
        place = access_place(request.user, values.pop("place"), PeopleCap.EDIT_PEOPLE)
        person = person_create(actor=request.user, place=place, **values)
        return Response(PersonOut(person, context={"request": request}).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PersonIn, responses={200: PersonOut})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        person = self.get_object()
        data = PersonIn(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = {k: v for k, v in data.validated_data.items() if k in PERSON_FIELDS}
        person = person_update(actor=request.user, person=person, **values)
        return Response(PersonOut(person, context={"request": request}).data)

    @extend_schema(exclude=True)
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(
        request=UnmaskIn,
        responses={
            200: inline_serializer("Unmasked", {"field": serializers.CharField(), "value": serializers.CharField()})
        },
    )
    @action(detail=True, methods=["post"])
    def unmask(self, request: Request, pk: str) -> Response:
        person = self.get_object()
        data = UnmaskIn(data=request.data)
        data.is_valid(raise_exception=True)
        value = person_unmask(
            actor=request.user, person=person, field=data.validated_data["field"], reason=data.validated_data["reason"]
        )
        response = Response({"field": data.validated_data["field"], "value": value})
        response.linli_unmasked = True  # type: ignore[attr-defined]
        return response


class MemberOut(serializers.Serializer[Any]):
    person = serializers.IntegerField(source="person_id")
    name = serializers.CharField(source="person.name")
    relation = serializers.CharField()
    phone_masked = serializers.CharField(source="person.phone_masked")


class HouseholdOut(serializers.ModelSerializer[Household]):
    place = serializers.CharField(source="place.code")
    name = serializers.CharField(source="place.name")
    members = MemberOut(many=True, read_only=True)

    class Meta:
        model = Household
        fields = ["id", "place", "name", "tenure", "floor_area", "members"]


@extend_schema_view(list=extend_schema(parameters=[PLACE_PARAM]))
class HouseholdViewSet(viewsets.ReadOnlyModelViewSet[Household]):
    serializer_class = HouseholdOut

    def get_queryset(self) -> QuerySet[Household]:
        place = (
            access_place(self.request.user, self.request.query_params["place"])
            if self.request.query_params.get("place")
            else None
        )
        return household_list(actor=self.request.user, place=place)

    def get_object(self) -> Household:
        return access_household(self.request.user, self.kwargs["pk"])


class DepartmentOut(serializers.ModelSerializer[Department]):
    place = serializers.CharField(source="place.code")

    class Meta:
        model = Department
        fields = ["id", "code", "name", "kind", "place"]


class DepartmentViewSet(viewsets.ReadOnlyModelViewSet[Department]):
    serializer_class = DepartmentOut

    def get_queryset(self) -> QuerySet[Department]:
        return department_list(actor=self.request.user)

    def get_object(self) -> Department:
        from django.http import Http404

        found = (
            department_list(actor=self.request.user).filter(pk=self.kwargs["pk"]).first()
            if str(self.kwargs["pk"]).isdigit()
            else None
        )
        if found is None:
            raise Http404
        return found


class MembershipOut(serializers.ModelSerializer[Membership]):
    person_name = serializers.CharField(source="person.name")
    place = serializers.CharField(source="place.code")
    department = serializers.CharField(source="department.code", allow_null=True, default=None)

    class Meta:
        model = Membership
        fields = ["id", "person", "person_name", "place", "role", "department", "created_at", "ended_at"]


class MembershipIn(serializers.Serializer[Any]):
    person = serializers.IntegerField(min_value=1)
    place = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.values)
    department = serializers.CharField(required=False, allow_blank=True)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


@extend_schema_view(list=extend_schema(parameters=[PLACE_PARAM]))
class MembershipViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet[Membership]):
    serializer_class = MembershipOut

    def get_queryset(self) -> QuerySet[Membership]:
        place = (
            access_place(self.request.user, self.request.query_params["place"])
            if self.request.query_params.get("place")
            else None
        )
        return membership_list(actor=self.request.user, place=place)

    def get_object(self) -> Membership:
        return access_membership(self.request.user, self.kwargs["pk"])

    @extend_schema(request=MembershipIn, responses={201: MembershipOut}, parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = MembershipIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        place = access_place(request.user, values["place"], PeopleCap.MANAGE_MEMBERSHIPS)
        person = access_person(request.user, values["person"])
        department = None
        if values.get("department"):
            department = department_list(actor=request.user).filter(code=values["department"]).first()
            if department is None:
                raise serializers.ValidationError({"department": [_("部门不存在")]})
        membership = membership_grant(
            actor=request.user,
            person=person,
            place=place,
            role=values["role"],
            department=department,
            reason=values.get("reason", ""),
        )
        return Response(MembershipOut(membership).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership_revoke(
            actor=request.user, membership=self.get_object(), reason=str(request.query_params.get("reason", ""))
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
