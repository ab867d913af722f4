"""The web dashboard at `/`: pages to look at data, runs and models, and the API docs, with
every asset shipped in the package (static/, vendored at exact versions) so it works offline.

The pages are shells without data: their scripts read the API with the visitor's token (kept
in the tab's sessionStorage), so they are open routes like /docs (service.auth.OPEN_PATHS).
"""
