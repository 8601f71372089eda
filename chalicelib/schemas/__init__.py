"""The API's contract: pydantic models of every request body, query string and answer.

The HTTP layer validates requests with them, views build their answers from them,
and :mod:`chalicelib.web.openapi` publishes them as the OpenAPI document, so the
documentation, the validation and the answers cannot drift apart. One module per
endpoint group, named like its Blueprint in ``chalicelib/routes``.
"""
