from linli.needs.tests.conftest import nw  # noqa: F401
