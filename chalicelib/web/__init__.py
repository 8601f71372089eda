"""The HTTP layer every Blueprint shares: declaring a route (:mod:`routing`), reading a
request (:mod:`request`), who is calling (:mod:`auth`), answering (:mod:`responses`),
CORS (:mod:`cors`), validated input types (:mod:`inputs`) and the OpenAPI document
built from the same declarations (:mod:`openapi`)."""
