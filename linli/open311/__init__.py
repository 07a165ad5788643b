"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) at ``/open311/v2/``: an adapter
over the needs catalogue, ``need_create`` and ``need_list``, so city apps and 12345 hotline
bridges can post and follow needs with an ``api_key``.

A plain package without models (no ``INSTALLED_APPS`` entry needed): ``views`` holds the
endpoints, ``renderers`` the JSON and XML shapes of the spec, ``urls`` the routes with their
``.json`` / ``.xml`` suffixes.
"""
