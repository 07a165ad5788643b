import pytest


@pytest.mark.django_db
def test_world_builds(world):
    assert world.community_a.name == "常二社区"
    assert world.users["resident"].person.pk == world.resident_a.pk
