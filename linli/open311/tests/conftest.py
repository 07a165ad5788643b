"""The needs fixtures (``nw``) come from the project's conftest."""
