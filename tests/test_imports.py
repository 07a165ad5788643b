"""Large imports go to the worker, with a progress page only their sender can open."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from linli.core.models import ImportJob
from linli.places.models import Place
from linli.testing import sign_in

pytestmark = pytest.mark.django_db


def _csv(rows: int, parent: str) -> bytes:
    lines = ["编码,上级编码,名称,类型"] + [f"t-big-{n},{parent},{n}号楼,楼栋" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def test_a_small_file_is_imported_at_once(world: Any, settings: Any) -> None:
    client = Client()
    sign_in(client, world.users["street_official"])
    upload = SimpleUploadedFile("places.csv", _csv(5, world.grid_a.code))
    response = client.post(reverse("places:import"), {"file": upload})
    assert response.status_code == 200 and 'id="import-result"' in response.content.decode()
    assert Place.objects.filter(code__startswith="t-big-").count() == 5
    assert not ImportJob.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_large_file_is_imported_by_the_worker_with_progress(world: Any, settings: Any) -> None:
    settings.IMPORT_SYNC_ROWS = 50
    client = Client()
    sign_in(client, world.users["street_official"])
    upload = SimpleUploadedFile("places.csv", _csv(120, world.grid_a.code))
    response = client.post(reverse("places:import"), {"file": upload})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("import_job", args=[job.pk])
    assert not Place.objects.filter(code__startswith="t-big-").exists()  # nothing in the request
    waiting = client.get(response["Location"]).content.decode()
    assert "hx-trigger" in waiting and "排队" in waiting
    call_command("worker", batch=True, startup_delay=False, reload=False, verbosity=0)
    job.refresh_from_db()
    assert job.status == "done" and job.result == {"created": 120, "updated": 0, "unchanged": 0}
    assert bytes(job.data) == b""  # the file is not kept once imported
    done = client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert 'id="import-result"' in done and "hx-trigger" not in done
    assert Place.objects.filter(code__startswith="t-big-").count() == 120
    # a job is its sender's: nobody else learns of the file
    other = Client()
    sign_in(other, world.users["district_official"])
    assert other.get(response["Location"]).status_code == 404
    assert Client().get(response["Location"]).status_code == 302


def test_a_large_file_with_errors_reports_every_row(world: Any, settings: Any) -> None:
    from linli.core.imports import import_job_run

    settings.IMPORT_SYNC_ROWS = 10
    client = Client()
    sign_in(client, world.users["street_official"])
    upload = SimpleUploadedFile("places.csv", _csv(30, "no-such-parent"))
    response = client.post(reverse("places:import"), {"file": upload})
    job = ImportJob.objects.get()
    assert import_job_run(job.pk) == "failed"
    assert import_job_run(job.pk) == "skipped"  # delivered twice, run once
    page = client.get(response["Location"]).content.decode()
    assert 'id="import-errors"' in page and page.count("no-such-parent") >= 30
    assert not Place.objects.filter(code__startswith="t-big-").exists()


def test_a_large_care_file_goes_to_the_worker_too(world: Any, settings: Any) -> None:
    settings.IMPORT_SYNC_ROWS = 3
    client = Client()
    sign_in(client, world.users["secretary"])
    rows = "住户编码,包保人编号\n" + "".join(f"t-x-{n},1\n" for n in range(10))
    upload = SimpleUploadedFile("care.csv", rows.encode())
    response = client.post(reverse("visits:care_import", args=[world.community_a.code]), {"file": upload})
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("import_job", args=[job.pk])
    assert job.kind == "care" and job.params["place"] == world.community_a.code
