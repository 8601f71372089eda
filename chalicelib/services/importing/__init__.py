"""Importing a running Fastify/Prisma module's library and history into this service (``make import``).

:mod:`chalicelib.adapters.legacy_module` reads the module's database (read-only), :mod:`.run` holds the steps,
:mod:`.copy_text` rewrites rows on their way from one ``COPY`` to the other.
"""
