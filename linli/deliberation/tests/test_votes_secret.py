"""Secret ballots: who voted and what was chosen live in two tables that share no key, time or
order, and nothing the site offers joins them: not the models, the admin, the API, the pages, the
exports, the audit trail, the row history or the idempotency records. Results are hidden before
close and withheld under five voters; paper is counted only as far as papers were handed out."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from rest_framework.test import APIClient

from linli.core.models import AuditEntry, IdempotencyRecord, Notification
from linli.deliberation.models import (
    Ballot,
    Channel,
    Elector,
    OptionsKind,
    PaperEntry,
    PaperStatus,
    Participation,
    SecretBallot,
    Vote,
    VoteStatus,
)
from linli.deliberation.services.votes import paper_hand_out, paper_key, vote_cast, vote_close
from linli.deliberation.tests.test_votes import add_household, opened, voter
from linli.testing import sign_in

pytestmark = pytest.mark.django_db

OPTIONS = ["东门花园", "西门停车", "南门广场"]


def secret_vote(world: Any, online: int, papers: int) -> tuple[Vote, list[Any], list[Elector]]:
    """A secret one-of vote of the community's households: ``online`` heads vote on their phones
    (choices cycling through the options), ``papers`` other households are handed a paper."""
    houses = [add_household(world, f"3{n:02d}") for n in range(online + papers)]
    vote = opened(world, secret=True, options_kind=OptionsKind.ONE_OF, options=OPTIONS, title="无记名：空地做什么")
    accounts = []
    for n, house in enumerate(houses[:online]):
        account = voter(world, house, f"s{n}")
        vote_cast(actor=account, vote=vote, choices=[str(n % 3 + 1)])
        accounts.append(account)
    handed = []
    for n, house in enumerate(houses[online:]):
        line = Elector.objects.get(vote=vote, household=house)
        channel = Channel.DOOR if n % 2 else Channel.PAPER
        collector = world.users["building_leader"].person if channel == Channel.DOOR else None
        paper_hand_out(actor=world.grid_worker, vote=vote, elector=line, channel=channel, collector=collector)
        handed.append(line)
    return vote, accounts, handed


def key_sheets(world: Any, vote: Vote, choices: list[str]) -> None:
    for n, choice in enumerate(choices):
        paper_key(actor=world.grid_worker, vote=vote, sheet=f"S{n}", choices=[choice])
        paper_key(actor=world.secretary, vote=vote, sheet=f"S{n}", choices=[choice])


def test_the_tables_cannot_be_joined(world: Any) -> None:
    # the secret ballot: a random id, the vote, the choices; nothing points to it
    fields = {f.name: f for f in SecretBallot._meta.get_fields()}
    assert set(fields) == {"id", "vote", "choices"}
    assert isinstance(fields["id"], models.UUIDField) and not SecretBallot._meta.ordering
    assert not [f for f in SecretBallot._meta.get_fields() if f.is_relation and f.name != "vote"]
    # no model of the site refers to a secret ballot, and who took part refers to none either
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if field.is_relation and field.related_model is SecretBallot:
                assert model is Vote and field.auto_created, (model, field)
    participation_fields = {f.name for f in Participation._meta.get_fields()}
    assert "choices" not in participation_fields and not any(
        f.related_model is SecretBallot for f in Participation._meta.get_fields() if f.is_relation
    )
    # no row history of any deliberation model (pghistory's events would keep times and rows)
    tracked = {getattr(m, "pgh_tracked_model", None) for m in apps.get_models() if hasattr(m, "pgh_tracked_model")}
    assert not {m for m in tracked if m is not None and m._meta.app_label == "deliberation"}


def test_a_secret_vote_leaves_no_join_anywhere(world: Any, client: Any) -> None:
    notifications_before = Notification.objects.count()
    # five by phone: fewer would be read by subtracting the paper from the result
    vote, accounts, handed = secret_vote(world, online=5, papers=5)
    key_sheets(world, vote, ["1", "1", "2", "3", "1"])
    ballots = list(SecretBallot.objects.filter(vote=vote))
    assert len(ballots) == 10 and all(uuid.UUID(str(b.pk)).version == 4 for b in ballots)
    assert not Ballot.objects.filter(vote=vote).exists()
    assert Participation.objects.filter(vote=vote).count() == 10

    # before close: no counts anywhere
    api = APIClient()
    sign_in(api, accounts[0])
    running = api.get(f"/api/votes/{vote.pk}/results/").json()
    assert running["result"] is None
    sign_in(client, accounts[0])
    page = client.get(reverse("deliberation:vote", args=[vote.pk])).content.decode()
    assert 'id="vote-result"' not in page and "东门花园" in page  # the options, not their counts

    vote_close(actor=world.secretary, vote=vote)
    vote.refresh_from_db()
    result = vote.result
    assert [o["heads"] for o in result["options"]] == [5, 3, 2] and result["leading"] == ["1"]
    assert "by_channel" not in result  # no per-channel breakdown of a secret vote
    # the keyings are gone: the choices now live in the secret ballots only
    assert not PaperEntry.objects.filter(vote=vote).exists()
    for model in apps.get_models():
        vote_fk = [f for f in model._meta.get_fields() if f.is_relation and f.many_to_one and f.related_model is Vote]
        holds = [f for f in model._meta.concrete_fields if isinstance(f, ArrayField | models.JSONField)]
        if not vote_fk or not holds or model in (SecretBallot,):
            continue
        rows = model._default_manager.filter(**{vote_fk[0].name: vote})
        assert not [r for r in rows if any(getattr(r, f.attname) for f in holds)], model

    # the audit trail: nothing about a secret ballot, no choice beside an account or a time
    for entry in AuditEntry.objects.all():
        assert entry.target_type != "deliberation.secretballot"
        assert "choices" not in json.dumps(entry.changes)
        assert not any(option in json.dumps(entry.changes, ensure_ascii=False) for option in OPTIONS)
    assert Notification.objects.count() == notifications_before
    assert not IdempotencyRecord.objects.exists()

    # the API and the pages: counts only, no ballot beside a voter, no register to download
    sign_in(api, accounts[1])
    cast_again = api.post(f"/api/votes/{vote.pk}/cast/", {"choices": ["1"]}, format="json")
    assert cast_again.status_code == 409
    for url in (f"/api/votes/{vote.pk}/", f"/api/votes/{vote.pk}/results/", "/api/votes/"):
        body = api.get(url).content.decode()
        assert not any(str(b.pk) in body for b in ballots)
        assert not any(f'"elector": {line.pk}' in body for line in handed)
    sign_in(client, world.secretary)
    assert client.get(reverse("deliberation:vote_register_json", args=[vote.pk])).status_code == 404
    for name in ("deliberation:vote", "deliberation:vote_notice"):
        text = client.get(reverse(name, args=[vote.pk])).content.decode()
        assert not any(str(b.pk) in text for b in ballots)
    # the register page shows who took part and how, never a choice
    entry = client.get(reverse("deliberation:vote_entry", args=[vote.pk])).content.decode()
    assert not any(option in entry for option in OPTIONS)

    # the admin: no page of it reaches a vote's rows
    registered = {model._meta.app_label for model in admin.site._registry}
    assert "deliberation" not in registered
    admin_user = world.users["system_admin"]
    admin_user.is_superuser = admin_user.is_staff = True
    admin_user.save()
    sign_in(client, admin_user)
    index = client.get("/admin/")
    assert index.status_code == 200 and "secretballot" not in index.content.decode().lower()
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        text = client.get(url).content.decode()
        assert not any(str(b.pk) in text for b in ballots)


def test_results_are_withheld_under_five_voters(world: Any, client: Any) -> None:
    houses = [add_household(world, f"4{n:02d}") for n in range(5)]
    vote = opened(world, secret=True, title="无记名：小范围")
    for n, house in enumerate(houses[:3]):
        vote_cast(actor=voter(world, house, f"w{n}"), vote=vote, choices=["yes"])
    vote_close(actor=world.secretary, vote=vote)
    vote.refresh_from_db()
    assert vote.result["withheld"] is True and vote.result["options"] == [] and vote.result["passed"] is None
    assert vote.result["participation_heads"]["part"] == 3
    sign_in(client, world.secretary)
    page = client.get(reverse("deliberation:vote", args=[vote.pk])).content.decode()
    assert 'id="result-withheld"' in page and 'id="result-options"' not in page


def test_paper_is_counted_only_as_far_as_papers_were_handed_out(world: Any) -> None:
    vote, _accounts, _handed = secret_vote(world, online=0, papers=4)
    with pytest.raises(ValidationError):  # fewer than five papers out: the sheets would tell
        paper_key(actor=world.grid_worker, vote=vote, sheet="S0", choices=["1"])
    line = Elector.objects.filter(vote=vote).exclude(pk__in=Participation.objects.values("elector_id")).first()
    assert line is not None
    paper_hand_out(actor=world.grid_worker, vote=vote, elector=line)
    with pytest.raises(ValidationError):  # a secret sheet names no elector
        paper_key(actor=world.grid_worker, vote=vote, sheet="S0", choices=["1"], elector=line.pk)
    key_sheets(world, vote, ["1", "2", "3", "1", "2", "3"])
    statuses = [e.status for e in PaperEntry.objects.filter(vote=vote, round=1).order_by("sheet")]
    assert statuses.count(PaperStatus.COUNTED) == 5 and statuses.count(PaperStatus.REFUSED) == 1
    assert SecretBallot.objects.filter(vote=vote).count() == 5
    vote_close(actor=world.secretary, vote=vote)
    assert Vote.objects.get(pk=vote.pk).status == VoteStatus.CLOSED
