"""The deliberation app's pages, one module per part: ``topics``, ``meetings`` (with
decisions and attendance), ``votes`` and ``conventions``; each module lists its own
``urlpatterns``."""
